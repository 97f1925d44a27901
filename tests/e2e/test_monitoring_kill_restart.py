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
       [--kills K]
Prints one line per case, then `N passed, M failed`; exits nonzero on failure.
"""
import json
import random
import time

from vigil_e2e import Suite, assert_same_lines, check, sorted_lines

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

suite = Suite(__doc__, tmp_prefix="vigil-mon-kill-", shared_tmp=True)
suite.option("--events", type=int, default=2_400_000)
suite.option("--seed", type=int, default=3)
suite.option("--kills", type=int, default=5)


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


@suite.setup
def workload(c):
    c.rules = c.write("rules.vgl", RULES)
    c.input = c.path("events.jsonl")
    generate(c.input, c.args.events, c.args.seed)


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
