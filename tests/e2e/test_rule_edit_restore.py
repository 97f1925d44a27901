#!/usr/bin/env python3
"""Restoring with an edited rules file (issue: savepoints and restore).

A job fed through standard input is stopped with SIGTERM (final checkpoint) while two rules
hold a partial match for key x. It is restarted with the same --state DIR and a rules file in
which one rule changed: the unchanged rule keeps its state (its partial match completes with
an event sent after the restart); the changed rule starts fresh, with a warning naming it.

Usage: test_rule_edit_restore.py --vigil PATH [--root REPO]
Prints `N passed, M failed`; exits nonzero on failure.
"""
import subprocess
import time

from vigil_e2e import Suite, jsonl, read_records, terminate

suite = Suite(__doc__, tmp_prefix="vigil-edit-")

RULES = """stream s (k string, name string, ts timestamp) event time ts
rule keep from s partition by k pattern a -> b define a as name == "a", b as name == "b"
rule edit from s partition by k pattern a -> c define a as name == "a", c as name == "c"
"""
EDITED = RULES.replace('c as name == "c"', 'c as name == "c" or name == "d"')


@suite.test
def rule_edit_restore(c):
    failures = []  # every check runs; all failures are reported
    r1, r2 = c.write("r1.vgl", RULES), c.write("r2.vgl", EDITED)
    out, state = c.path("out.jsonl"), c.path("state")
    # `a` for key x, then an event of key y at ts 10 so the watermark passes `a`: both
    # rules hold a partial match for x when the job stops.
    p = c.start(r1, "--input", "s=-", "--output", out, "--state", state,
                "--checkpoint-interval", "100ms", stdin=subprocess.PIPE, stdout=None)
    p.stdin.write(jsonl([{"k": "x", "name": "a", "ts": 1}, {"k": "y", "name": "z", "ts": 10}]))
    p.stdin.flush()
    time.sleep(0.8)
    rc, err = terminate(p, timeout=30)
    if rc != 0:
        failures.append(f"first run exit {rc}: {err}")
    q = c.run(r2, "--input", "s=-", "--output", out, "--state", state,
              stdin=jsonl([{"k": "x", "name": "b", "ts": 11}, {"k": "x", "name": "c", "ts": 12}]))
    if q.returncode != 0:
        failures.append(f"restart exit {q.returncode}: {q.stderr}")
    if "restored checkpoint" not in q.stderr:
        failures.append(f"restart did not restore: {q.stderr}")
    if "rule 'edit' changed" not in q.stderr or "rule 'keep' changed" in q.stderr:
        failures.append(f"expected a warning naming 'edit' only: {q.stderr}")
    got = sorted((r["rule"], tuple(e["name"] for v in r["events"].values() for e in v))
                 for r in read_records(out))
    if got != [("keep", ("a", "b"))]:
        failures.append(f"records: expected keep(a, b) only, got {got}")
    if failures:
        raise AssertionError("\n".join(failures))


if __name__ == "__main__":
    suite.main()
