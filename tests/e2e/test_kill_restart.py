#!/usr/bin/env python3
"""Exactly-once restart after kill -9 (spec/cli.md, `vigil run` restart).

Generates a deterministic fraud workload (bench/workload.py), runs it uninterrupted with
--output A, then runs it with --state D --checkpoint-interval 100ms --output B, killing the
job with SIGKILL at random (seeded) moments at least 5 times and restarting it each time
until it exits 0. Every restart after a completed checkpoint must say `restored checkpoint`
on standard error; the sorted lines of A and B must be identical. Done at --parallelism 1
and 2.

Usage: test_kill_restart.py --vigil PATH [--root REPO] [--events N] [--seed S] [--kills K]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def run_uninterrupted(vigil, rules, events, out, parallelism):
    """Runs the job to the end; returns its wall time in seconds."""
    t0 = time.time()
    p = subprocess.run([vigil, "run", rules, "--input", f"txn={events}", "--output", out,
                        "--parallelism", str(parallelism)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"uninterrupted run exit {p.returncode}: {p.stderr}")
    return time.time() - t0


def run_with_kills(vigil, rules, events, out, state, parallelism, rng, kills_wanted, duration):
    # Each run lives a random 6-12% of an uninterrupted run's time (at least 0.3 s, so that a
    # checkpoint every 100ms completes after start-up and restore): a run can't get further
    # than it lived, so every one of the kills lands before the job could end, however fast
    # the machine is.
    cmd = [vigil, "run", rules, "--input", f"txn={events}", "--output", out, "--state", state,
           "--checkpoint-interval", "100ms", "--parallelism", str(parallelism)]
    kills = 0
    restores = 0
    attempts = 0
    while True:
        attempts += 1
        if attempts > 60:
            raise AssertionError("the job never finished")
        had_checkpoint = os.path.exists(os.path.join(state, "checkpoints", "CURRENT_CHECKPOINT"))
        err_path = os.path.join(state + ".stderr")
        with open(err_path, "w") as err:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            killed = False
            if kills < kills_wanted:
                delay = max(0.3, rng.uniform(0.06, 0.12) * duration)
                try:
                    p.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
                    killed = True
            rc = p.wait()
        text = open(err_path).read()
        if attempts > 1 and had_checkpoint:
            if "restored checkpoint" not in text:
                raise AssertionError(f"restart {attempts} did not restore: {text[-500:]}")
            restores += 1
        if killed:
            kills += 1
            continue
        if rc != 0:
            raise AssertionError(f"run exit {rc}: {text[-1000:]}")
        return kills, restores


def sorted_lines(path):
    with open(path) as f:
        return sorted(f.read().splitlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--events", type=int, default=1_500_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kills", type=int, default=6)
    args = ap.parse_args()
    vigil = os.path.abspath(args.vigil)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="vigil-kill-") as tmp:
        rules = os.path.join(tmp, "rules.vgl")
        events = os.path.join(tmp, "events.jsonl")
        sh([sys.executable, os.path.join(args.root, "bench", "workload.py"), "fraud",
            "--events", str(args.events), "--keys", "5000", "--jitter", "300",
            "--seed", str(args.seed), "--rules", rules, "--out", events])
        for parallelism in (1, 2):
            name = f"kill_restart_parallelism_{parallelism}"
            try:
                rng = random.Random(args.seed * 100 + parallelism)
                a = os.path.join(tmp, f"a{parallelism}.jsonl")
                b = os.path.join(tmp, f"b{parallelism}.jsonl")
                state = os.path.join(tmp, f"state{parallelism}")
                duration = run_uninterrupted(vigil, rules, events, a, parallelism)
                t0 = time.time()
                kills, restores = run_with_kills(vigil, rules, events, b, state, parallelism,
                                                 rng, args.kills, duration)
                la, lb = sorted_lines(a), sorted_lines(b)
                if kills < 5:
                    raise AssertionError(f"only {kills} kills: the workload ended too soon")
                if restores < 3:
                    raise AssertionError(f"only {restores} restarts restored a checkpoint")
                if la != lb:
                    sa, sb = set(la), set(lb)
                    raise AssertionError(
                        f"outputs differ: {len(la)} vs {len(lb)} lines; missing {len(sa - sb)}, "
                        f"extra {len(sb - sa)}, duplicates {len(lb) - len(sb)}")
                print(f"ok {name}: {len(la)} records, {kills} kills, {restores} restores, "
                      f"{time.time() - t0:.1f}s")
                passed += 1
            except Exception as e:  # noqa: BLE001
                print(f"FAIL {name}: {e}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
