#!/usr/bin/env python3
"""p99 event-to-alert latency of `vigil run` on a stream fed through standard input.

Feeds the fraud workload's rule (bench/workload.py, `out of order 1s`) through standard input
at --rate events/s for --seconds, each event stamped with the wall clock when it is written;
reads the records from standard output as they come. An alert can leave only once the
watermark passes its last event (time + bound + 1ms), so the figure reported is the latency
beyond the out-of-order bound: receive time - record time - bound.

Usage: latency.py --vigil PATH [--rate 100000] [--seconds 10] [--parallelism N]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import workload  # noqa: E402

BOUND_MS = 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--rate", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--parallelism", type=int, default=2)
    ap.add_argument("--keys", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-lat-") as tmp:
        rules = os.path.join(tmp, "rules.vgl")
        with open(rules, "w") as f:
            f.write(workload.FRAUD_RULES)
        p = subprocess.Popen([args.vigil, "run", rules, "--input", "txn=-", "--parallelism",
                              str(args.parallelism), "--dead-letter", os.path.join(tmp, "dl")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, bufsize=0)
        lat = []

        def reader():
            buf = b""
            while True:
                chunk = p.stdout.read1(1 << 16) if hasattr(p.stdout, "read1") else os.read(
                    p.stdout.fileno(), 1 << 16)
                if not chunk:
                    return
                now = time.time() * 1000
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    i = line.find(b'"time":')
                    if i < 0:
                        continue
                    j = line.find(b",", i)
                    lat.append(now - int(line[i + 7:j]) - BOUND_MS)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        rng = random.Random(1)
        cards = [f"4{i:015d}" for i in range(args.keys)]
        tick = 0.005
        per_tick = max(1, int(args.rate * tick))
        start = time.time()
        sent = 0
        deadline = start + args.seconds
        while time.time() < deadline:
            now_ms = int(time.time() * 1000)
            out = []
            for _ in range(per_tick):
                r = rng.random()
                amount = (round(rng.random() * 0.99, 2) if r < 0.05 else
                          500 + rng.randrange(5000) if r < 0.055 else 1 + rng.randrange(300))
                out.append('{"card":"%s","amount":%s,"merchant":"m%d","at":%d}\n'
                           % (cards[rng.randrange(args.keys)], amount, rng.randrange(50), now_ms))
            p.stdin.write("".join(out).encode())
            sent += per_tick
            target = start + sent / args.rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
        elapsed = time.time() - start
        # Measure only alerts emitted while the stream was live (not the end-of-input flush).
        live = list(lat)
        p.stdin.close()
        p.wait()
        t.join(timeout=5)
        live.sort()
        if not live:
            print("no alerts received")
            return 1
        pct = lambda q: live[min(len(live) - 1, int(q * len(live)))]
        print(f"sent {sent} events in {elapsed:.1f}s ({sent / elapsed:.0f}/s), {len(live)} alerts")
        print(f"latency beyond the {BOUND_MS} ms bound: p50 {pct(0.5):.1f} ms, "
              f"p99 {pct(0.99):.1f} ms, max {live[-1]:.1f} ms (target p99 < 10 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
