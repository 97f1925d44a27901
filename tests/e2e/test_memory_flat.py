#!/usr/bin/env python3
"""Memory stays flat on an unbounded stream whose partial matches all expire.

Runs `vigil run` on N/10 and then N events (N = $VIGIL_MEMORY_EVENTS, default 10,000,000) of
bench/workload.py's `expire` workload (`a -> b within 1s`, b never comes, increasing
timestamps), generated on the fly into a pipe (`--input s=-`), and asserts that the peak RSS of
the large run is within 1.5x (+8 MiB) of the small one's. Prints both figures.

Usage: test_memory_flat.py --vigil PATH [--root REPO]
Prints `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def run(vigil, root, events, tmp):
    rules = os.path.join(tmp, "expire.vgl")
    workload = [sys.executable, os.path.join(root, "bench", "workload.py"), "expire",
                "--keys", "1000"]
    subprocess.run(workload + ["--events", "0", "--rules", rules], check=True,
                   stdout=subprocess.DEVNULL)
    gen = subprocess.Popen(workload + ["--events", str(events)], stdout=subprocess.PIPE)
    timefile = os.path.join(tmp, "time.txt")
    cmd = [vigil, "run", rules, "--input", "s=-", "--output", os.devnull,
           "--dead-letter", os.path.join(tmp, "dead.jsonl"), "--parallelism", "1"]
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", timefile] + cmd
    p = subprocess.run(cmd, stdin=gen.stdout, capture_output=True, text=True, timeout=600)
    gen.stdout.close()
    gen.wait()
    if p.returncode != 0:
        raise RuntimeError(f"vigil exited {p.returncode}: {p.stderr[-1000:]}")
    if f"{events} events" not in p.stderr:
        raise RuntimeError(f"expected {events} events in the summary: {p.stderr[-500:]}")
    if os.path.exists(timefile):
        with open(timefile) as f:
            return int(f.read().strip().splitlines()[-1])  # KiB
    raise RuntimeError("/usr/bin/time is needed to measure peak RSS")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    args = ap.parse_args()
    large = int(os.environ.get("VIGIL_MEMORY_EVENTS", "10000000"))
    small = max(large // 10, 1000)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="vigil-mem-") as tmp:
        try:
            rss_small = run(os.path.abspath(args.vigil), args.root, small, tmp)
            rss_large = run(os.path.abspath(args.vigil), args.root, large, tmp)
            print(f"peak RSS: {small} events {rss_small / 1024:.1f} MiB, "
                  f"{large} events {rss_large / 1024:.1f} MiB "
                  f"(ratio {rss_large / rss_small:.2f})")
            if rss_large > 1.5 * rss_small + 8 * 1024:
                failed = 1
                print(f"FAIL memory_flat: peak RSS grew from {rss_small} KiB to {rss_large} KiB")
        except Exception as e:  # noqa: BLE001 - report as a failure
            failed = 1
            print(f"FAIL memory_flat: {e}")
    print(f"{1 - failed} passed, {failed} failed")
    sys.exit(failed)


if __name__ == "__main__":
    main()
