#!/usr/bin/env python3
"""Savepoints and rescaling, and SIGTERM's final checkpoint (spec/cli.md, `vigil run`).

rescale_2_to_3: a job at --parallelism 2 writes a savepoint mid-run (`vigil savepoint --state
DIR`), is stopped with SIGTERM, and a new job at --parallelism 3 starts from the savepoint
(--from-savepoint) with the same --output: the output equals an uninterrupted run's.
sigterm_then_restart: SIGTERM mid-run exits 0 after a final checkpoint; a restart with the
same --state resumes from it (`restored checkpoint`) and the output is exactly-once.

Usage: test_rescale.py --vigil PATH [--root REPO] [--events N]
Prints one line per case, then `N passed, M failed`; exits nonzero on failure.
"""
import os
import subprocess
import time

from vigil_e2e import Suite, assert_same_lines, check, sorted_lines, terminate

suite = Suite(__doc__, tmp_prefix="vigil-rescale-", shared_tmp=True)
suite.option("--events", type=int, default=2_000_000)


@suite.setup
def uninterrupted_run(c):
    c.rules, c.input = c.fraud_workload(c.args.events, keys=5000, jitter=300)
    c.a = c.path("a.jsonl")
    c.run_to_end(c.rules, "--input", f"txn={c.input}", "--output", c.a, "--parallelism", "1")


def job(c, out, state, parallelism):
    """The arguments of a checkpointed run at --parallelism PARALLELISM."""
    return [c.rules, "--input", f"txn={c.input}", "--output", out, "--state", state,
            "--parallelism", str(parallelism), "--checkpoint-interval", "1s"]


def compare(c, out):
    """Fails unless out holds the uninterrupted run's lines; returns how many."""
    la, lb = sorted_lines(c.a), sorted_lines(out)
    assert_same_lines(la, lb)
    return len(la)


@suite.test
def rescale_2_to_3(c):
    b = c.path("b.jsonl")
    state = c.path("state-b")
    p = c.start(*job(c, b, state, 2), stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.6)
        sp = subprocess.run([c.vigil, "savepoint", "--state", state], capture_output=True,
                            text=True, timeout=60)
        path = sp.stdout.strip()
        saved = os.path.exists(path)
    finally:
        code, err = terminate(p, timeout=60)
    check(sp.returncode == 0, f"vigil savepoint: exit {sp.returncode}: {sp.stderr}")
    check(saved, f"no savepoint at {path!r}")
    check(code == 0, f"SIGTERM: exit {code}: {err[-800:]}")
    p = c.run(c.rules, "--input", f"txn={c.input}", "--output", b,
              "--state", c.path("state-b3"), "--parallelism", "3", "--from-savepoint", path,
              stdin=subprocess.DEVNULL, timeout=None)
    check(p.returncode == 0 and "restored savepoint" in p.stderr,
          f"restore at 3: exit {p.returncode}: {p.stderr[-800:]}")
    return f"{compare(c, b)} records"


@suite.test
def sigterm_then_restart(c):
    out = c.path("c.jsonl")
    state = c.path("state-c")
    p = c.start(*job(c, out, state, 2), stdout=subprocess.DEVNULL)
    time.sleep(0.7)
    code, err = terminate(p, timeout=60)
    check(code == 0, f"SIGTERM: exit {code}: {err[-800:]}")
    p = c.run(*job(c, out, state, 2), stdin=subprocess.DEVNULL, timeout=120)
    check(p.returncode == 0 and "restored checkpoint" in p.stderr,
          f"restart: exit {p.returncode}: {p.stderr[-800:]}")
    return f"{compare(c, out)} records"


if __name__ == "__main__":
    suite.main()
