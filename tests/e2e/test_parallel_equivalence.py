#!/usr/bin/env python3
"""`vigil run --parallelism N` gives the same records whatever N (order across keys aside).

Runs a deterministic fraud workload (bench/workload.py, out-of-order events, timeouts
off) and an `on timeout` rule at N = 1, 2, 3, from a file and from standard input, with and
without --state checkpoints, and with queues of a single batch (--queue-capacity 1), and
compares the sorted output lines. Then the same workload with explicit watermark lines
({"$watermark": T} every 40 lines, a little ahead of the generated watermark, read through
--input txn=file://PATH?watermarks=true): the records and the dead-letter output (late
events, in read order) must be the same at N = 1, 2, 3, with and without checkpoints.

Usage: test_parallel_equivalence.py --vigil PATH [--root REPO] [--events N]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import json
import subprocess

from vigil_e2e import Suite, assert_same_lines, check

suite = Suite(__doc__, tmp_prefix="vigil-par-", shared_tmp=True)
suite.option("--events", type=int, default=300_000)

TIMEOUT_RULES = """
rule slow_pair
  from txn
  partition by merchant
  pattern small -> large
  define small as amount < 0.50, large as amount >= 4000
  within 2s
  on timeout
"""


@suite.setup
def workload(c):
    c.rules, c.input = c.fraud_workload(c.args.events, keys=3000, jitter=500)
    with open(c.rules, "a") as f:
        f.write(TIMEOUT_RULES)
    c.base = None  # the sorted output of the first case, which every other one must equal


def parallelism(c, n, stdin, state, queue=None):
    args = [c.rules, "--parallelism", str(n), "--input", "txn=-" if stdin else f"txn={c.input}"]
    if queue is not None:
        args += ["--queue-capacity", str(queue)]
    if state:
        state_dir = c.path(f"state-{n}-{stdin}-{queue}")
        args += ["--state", state_dir, "--checkpoint-interval", "100ms"]
    with open(c.input) as inp:
        p = c.run(*args, stdin=inp if stdin else subprocess.DEVNULL, timeout=None)
    check(p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr[-800:]}")
    out = sorted(p.stdout.splitlines())
    if c.base is None:
        c.base = out
        check(len(out) >= 100, f"too few records: {len(out)}")
    else:
        assert_same_lines(c.base, out, f"the records at parallelism {n} and at parallelism 1")


for n, stdin, state in [(1, False, False), (2, False, False), (3, False, False),
                        (2, True, False), (3, False, True), (2, True, True)]:
    suite.case(f"parallelism_{n}{'_stdin' if stdin else ''}{'_state' if state else ''}",
               parallelism, n, stdin, state)
# Queues of one batch: every stage waits on the next all the time (backpressure).
suite.case("parallelism_3_queue_capacity_1", parallelism, 3, False, True, queue=1)


def watermark_input(c):
    """c.input with a watermark line every 40 events: the highest event time so far - 300ms
    (the stream's generated watermark is 1s behind), so some jittered events become late."""
    if getattr(c, "wm_input", None) is None:
        c.wm_input = c.path("events-wm.jsonl")
        high = None
        with open(c.input) as src, open(c.wm_input, "w") as out:
            for n, line in enumerate(src):
                out.write(line)
                at = json.loads(line)["at"]
                high = at if high is None else max(high, at)
                if n % 40 == 39:
                    out.write(json.dumps({"$watermark": high - 300}) + "\n")
        c.wm_base = None
    return c.wm_input


def watermark_lines(c, n, state):
    path = watermark_input(c)
    dead = c.path(f"dead-wm-{n}-{state}.jsonl")
    args = [c.rules, "--parallelism", str(n), "--input", f"txn=file://{path}?watermarks=true",
            "--dead-letter", dead]
    if state:
        args += ["--state", c.path(f"state-wm-{n}"), "--checkpoint-interval", "100ms"]
    p = c.run(*args, stdin=subprocess.DEVNULL, timeout=None)
    check(p.returncode == 0, f"{args}: exit {p.returncode}: {p.stderr[-800:]}")
    out = sorted(p.stdout.splitlines())
    with open(dead) as f:
        dead_lines = f.read().splitlines()
    if c.wm_base is None:
        c.wm_base = (out, dead_lines)
        late = sum(1 for l in dead_lines if json.loads(l)["kind"] == "late")
        invalid = len(dead_lines) - late
        check(len(out) >= 100, f"too few records: {len(out)}")
        check(late >= 100, f"the watermark lines made too few events late: {late}")
        check(invalid == 0, f"{invalid} invalid lines: the watermark lines were read as events")
        check(out != c.base, "the watermark lines changed no record")
    else:
        assert_same_lines(c.wm_base[0], out, f"the records at parallelism {n} and at 1")
        check(dead_lines == c.wm_base[1],
              f"the dead-letter output at parallelism {n} differs from parallelism 1's")


for n, state in [(1, False), (2, False), (3, False), (2, True)]:
    suite.case(f"watermark_lines_parallelism_{n}{'_state' if state else ''}", watermark_lines,
               n, state)

if __name__ == "__main__":
    suite.main()
