#!/usr/bin/env python3
"""Exactly-once restart after kill -9 for monitoring rules (the composite RuleOperator of
engine/operator/monitoring_operator.h: window + when, when alone, window + pattern).

Generates a deterministic metrics workload (2000 hosts: a third hot, a seventh swinging
between hot and cool every 2 minutes; bounded disorder), runs it uninterrupted with
--output A, then with --state D --checkpoint-interval 200ms --output B, killing the job with
SIGKILL at seeded random moments at least 5 times and restarting it until it exits 0. The
sorted lines of A and B must be identical (every sub-operator's state restored, no record
lost or repeated). Done at --parallelism 1 and 2.

Usage: test_monitoring_kill_restart.py --vigil PATH [--root REPO] [--events N] [--seed S]
Prints one line per case, then `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

RULES = """\
stream m (host string, value float, at timestamp) event time at out of order 1s

rule hot from m partition by host
  window 1m slide 30s compute avg(value) as cpu, count() as n, quantile(0.9, value) as p90
  when cpu > 84 for 1m keep firing for 30s no data after 3m

rule dip from m partition by host
  when value < 21 for 100ms clear when value > 50

rule swing from m partition by host
  window 1m compute max(value) as peak, min(value) as low
  pattern hi -> lo
  define hi as peak > 100, lo as low < 25
  within 3m
  on timeout
"""


def generate(path, n, seed):
    r = random.Random(seed)
    t = 0
    with open(path, "w") as f:
        for _ in range(n):
            t += r.randint(0, 40)
            h = r.randint(0, 2000)
            if h % 7 == 1:  # swings between hot and cool every 2 minutes
                base = 85 if (t // 120000) % 2 else 40
            else:
                base = 85 if h % 3 == 0 else 40
            at = max(0, t - r.randint(0, 300))
            f.write(json.dumps({"host": f"h{h}", "value": base + r.uniform(-20, 20), "at": at}))
            f.write("\n")


def run_uninterrupted(vigil, rules, events, out, parallelism):
    p = subprocess.run([vigil, "run", rules, "--input", f"m={events}", "--output", out,
                        "--parallelism", str(parallelism)], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"uninterrupted run exit {p.returncode}: {p.stderr[-1000:]}")


def run_with_kills(vigil, rules, events, out, state, parallelism, rng, kills_wanted):
    cmd = [vigil, "run", rules, "--input", f"m={events}", "--output", out, "--state", state,
           "--checkpoint-interval", "200ms", "--parallelism", str(parallelism)]
    kills = attempts = 0
    while True:
        attempts += 1
        if attempts > 60:
            raise AssertionError("the job never finished")
        err_path = state + ".stderr"
        with open(err_path, "w") as err:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            killed = False
            if kills < kills_wanted:
                try:
                    p.wait(timeout=rng.uniform(0.25, 0.9))
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
                    killed = True
            rc = p.wait()
        if killed:
            kills += 1
            continue
        if rc != 0:
            raise AssertionError(f"run exit {rc}: {open(err_path).read()[-1000:]}")
        return kills


def sorted_lines(path):
    with open(path) as f:
        return sorted(f.read().splitlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--events", type=int, default=2_400_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--kills", type=int, default=5)
    args = ap.parse_args()
    vigil = os.path.abspath(args.vigil)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="vigil-mon-kill-") as tmp:
        rules = os.path.join(tmp, "rules.vgl")
        with open(rules, "w") as f:
            f.write(RULES)
        events = os.path.join(tmp, "events.jsonl")
        generate(events, args.events, args.seed)
        for parallelism in (1, 2):
            name = f"monitoring_kill_restart_parallelism_{parallelism}"
            try:
                rng = random.Random(args.seed * 100 + parallelism)
                a = os.path.join(tmp, f"a{parallelism}.jsonl")
                b = os.path.join(tmp, f"b{parallelism}.jsonl")
                state = os.path.join(tmp, f"state{parallelism}")
                run_uninterrupted(vigil, rules, events, a, parallelism)
                t0 = time.time()
                kills = run_with_kills(vigil, rules, events, b, state, parallelism, rng,
                                       args.kills)
                la, lb = sorted_lines(a), sorted_lines(b)
                if kills < args.kills:
                    raise AssertionError(f"only {kills} kills: the workload ended too soon")
                kinds = {json.loads(line)["kind"] for line in la}
                if not {"firing", "resolved", "nodata", "match", "timeout"} <= kinds:
                    raise AssertionError(f"the workload does not exercise every kind: {kinds}")
                if la != lb:
                    sa, sb = set(la), set(lb)
                    raise AssertionError(
                        f"outputs differ: {len(la)} vs {len(lb)} lines; missing {len(sa - sb)}, "
                        f"extra {len(sb - sa)}, duplicates {len(lb) - len(sb)}")
                print(f"ok {name}: {len(la)} records, {kills} kills, {time.time() - t0:.1f}s")
                passed += 1
            except Exception as e:  # noqa: BLE001
                print(f"FAIL {name}: {e}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
