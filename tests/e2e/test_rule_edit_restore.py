#!/usr/bin/env python3
"""Restoring with an edited rules file (issue: savepoints and restore).

A job fed through standard input is stopped with SIGTERM (final checkpoint) while two rules
hold a partial match for key x. It is restarted with the same --state DIR and a rules file in
which one rule changed: the unchanged rule keeps its state (its partial match completes with
an event sent after the restart); the changed rule starts fresh, with a warning naming it.

Usage: test_rule_edit_restore.py --vigil PATH [--root REPO]
Prints `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

RULES = """stream s (k string, name string, ts timestamp) event time ts
rule keep from s partition by k pattern a -> b define a as name == "a", b as name == "b"
rule edit from s partition by k pattern a -> c define a as name == "a", c as name == "c"
"""
EDITED = RULES.replace('c as name == "c"', 'c as name == "c" or name == "d"')


def lines(events):
    return "".join(json.dumps(e) + "\n" for e in events)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=".")
    args = ap.parse_args()
    vigil = os.path.abspath(args.vigil)
    failures = []
    with tempfile.TemporaryDirectory(prefix="vigil-edit-") as tmp:
        r1, r2 = os.path.join(tmp, "r1.vgl"), os.path.join(tmp, "r2.vgl")
        with open(r1, "w") as f:
            f.write(RULES)
        with open(r2, "w") as f:
            f.write(EDITED)
        out, state = os.path.join(tmp, "out.jsonl"), os.path.join(tmp, "state")
        # `a` for key x, then an event of key y at ts 10 so the watermark passes `a`: both
        # rules hold a partial match for x when the job stops.
        p = subprocess.Popen([vigil, "run", r1, "--input", "s=-", "--output", out, "--state",
                              state, "--checkpoint-interval", "100ms"],
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdin.write(lines([{"k": "x", "name": "a", "ts": 1}, {"k": "y", "name": "z", "ts": 10}]))
        p.stdin.flush()
        time.sleep(0.8)
        p.send_signal(signal.SIGTERM)
        p.stdin.close()
        rc = p.wait(timeout=30)
        if rc != 0:
            failures.append(f"first run exit {rc}: {p.stderr.read()}")
        q = subprocess.run([vigil, "run", r2, "--input", "s=-", "--output", out, "--state", state],
                           input=lines([{"k": "x", "name": "b", "ts": 11},
                                        {"k": "x", "name": "c", "ts": 12}]),
                           capture_output=True, text=True, timeout=60)
        if q.returncode != 0:
            failures.append(f"restart exit {q.returncode}: {q.stderr}")
        if "restored checkpoint" not in q.stderr:
            failures.append(f"restart did not restore: {q.stderr}")
        if "rule 'edit' changed" not in q.stderr or "rule 'keep' changed" in q.stderr:
            failures.append(f"expected a warning naming 'edit' only: {q.stderr}")
        with open(out) as f:
            recs = [json.loads(l) for l in f if l.strip()]
        got = sorted((r["rule"], tuple(e["name"] for v in r["events"].values() for e in v))
                     for r in recs)
        if got != [("keep", ("a", "b"))]:
            failures.append(f"records: expected keep(a, b) only, got {got}")
    for f in failures:
        print(f"FAIL rule_edit_restore: {f}")
    passed = 0 if failures else 1
    print(f"{passed} passed, {1 - passed} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
