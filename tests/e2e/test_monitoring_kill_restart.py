#!/usr/bin/env python3
"""Exactly-once restart after kill -9 for monitoring rules (the composite RuleOperator of
engine/operator/monitoring_operator.h: window + when, when alone, window + pattern).

Generates bench/workload.py's deterministic metrics workload (2000 hosts: a third hot, a
seventh swinging between hot and cool every 2 minutes; bounded disorder) with its rules
(hot: window + when, dip: when alone, swing: window + pattern), runs it uninterrupted with
--output A, then with --state D --checkpoint-interval 200ms --output B, killing the job with
SIGKILL at seeded random moments at least 5 times and restarting it until it exits 0. The
sorted lines of A and B must be identical (every sub-operator's state restored, no record
lost or repeated). Done at --parallelism 1 and 2.

Usage: test_monitoring_kill_restart.py --vigil PATH [--root REPO] [--events N] [--seed S]
       [--kills K]
Prints one line per case, then `N passed, M failed`; exits nonzero on failure.
"""
import json
import random
import time

from vigil_e2e import Suite, assert_same_lines, check, sorted_lines

suite = Suite(__doc__, tmp_prefix="vigil-mon-kill-", shared_tmp=True)
suite.option("--events", type=int, default=2_400_000)
suite.option("--seed", type=int, default=3)
suite.option("--kills", type=int, default=5)


@suite.setup
def workload(c):
    c.rules, c.input = c.workload_files("metrics", "--events", str(c.args.events),
                                        "--seed", str(c.args.seed))


def monitoring_kill_restart(c, parallelism):
    rng = random.Random(c.args.seed * 100 + parallelism)
    a, b = c.path(f"a{parallelism}.jsonl"), c.path(f"b{parallelism}.jsonl")
    state = c.path(f"state{parallelism}")
    job = [c.rules, "--input", f"m={c.input}", "--parallelism", str(parallelism)]
    c.run_to_end(*job, "--output", a)
    t0 = time.time()
    kills, _ = c.run_with_kills(
        [*job, "--output", b, "--state", state, "--checkpoint-interval", "200ms"], state,
        kills=c.args.kills, delay=lambda: rng.uniform(0.25, 0.9))
    la, lb = sorted_lines(a), sorted_lines(b)
    check(kills >= c.args.kills, f"only {kills} kills: the workload ended too soon")
    kinds = {json.loads(line)["kind"] for line in la}
    check({"firing", "resolved", "nodata", "match", "timeout"} <= kinds,
          f"the workload does not exercise every kind: {kinds}")
    assert_same_lines(la, lb)
    return f"{len(la)} records, {kills} kills, {time.time() - t0:.1f}s"


for n in (1, 2):
    suite.case(f"monitoring_kill_restart_parallelism_{n}", monitoring_kill_restart, n)

if __name__ == "__main__":
    suite.main()
