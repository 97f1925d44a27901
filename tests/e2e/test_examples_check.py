#!/usr/bin/env python3
"""Every example's rules must pass `vigil check`.

Usage: test_examples_check.py --vigil PATH --root REPO_ROOT
Runs `vigil check` on each examples/*/rules.vgl; prints one line per example, then
`N passed, M failed`; exits 1 if any example fails (or none is found).
"""
import argparse
import glob
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.root, "examples", "*", "rules.vgl")))
    passed = failed = 0
    for path in files:
        name = os.path.relpath(path, args.root)
        try:
            p = subprocess.run([args.vigil, "check", path], capture_output=True, text=True,
                               timeout=60)
            rc, err = p.returncode, p.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            rc, err = -1, str(e)
        if rc == 0:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: exit {rc}\n{err}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
