#!/usr/bin/env python3
"""Every example's rules must pass `vigil check`.

Usage: test_examples_check.py --vigil PATH [--root REPO]
Runs `vigil check` on each examples/*/rules.vgl; prints one line per example, then
`N passed, M failed`; exits 1 if any example fails (or none is found).
"""
import glob
import os
import subprocess

from vigil_e2e import Suite, check

suite = Suite(__doc__, show_ok=True)


def check_example(c, path):
    try:
        p = subprocess.run([c.vigil, "check", path], capture_output=True, text=True, timeout=60)
        rc, err = p.returncode, p.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        rc, err = -1, str(e)
    check(rc == 0, f"exit {rc}\n{err}")


@suite.setup
def find_examples(c):
    for path in sorted(glob.glob(os.path.join(c.root, "examples", "*", "rules.vgl"))):
        suite.case(os.path.relpath(path, c.root), check_example, path)


if __name__ == "__main__":
    suite.main()
