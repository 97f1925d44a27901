#!/usr/bin/env python3
"""The cpu_high example (a monitoring rule: where, partition by, window ... compute, when ...
for) runs with `vigil run` and fires then resolves for web-1 only, with one and two workers.

web-1's one-minute averages are above 90 for the windows ending T0+2m .. T0+13m
(T0 = 1714557600000): the run starts at the record of the window ending T0+2m and fires
5m later, on the window [T0+6m, T0+7m) (95, 96: avg 95.5, peak 96); the window
[T0+13m, T0+14m) (41, 42) resolves it. web-2 never exceeds 36.

Usage: test_example_cpu_high.py --vigil PATH --root REPO_ROOT
Prints one line per case, then `N passed, M failed`; exits 1 on failure.
"""
import argparse
import json
import os
import subprocess
import sys

T0 = 1714557600000
MIN = 60000

EXPECTED = [
    {"rule": "cpu_high", "kind": "firing", "key": {"host": "web-1"}, "time": T0 + 7 * MIN,
     "events": {},
     "fields": {"host": "web-1", "cpu": 95.5, "peak": 96.0, "samples": 2,
                "window_start": T0 + 6 * MIN, "window_end": T0 + 7 * MIN},
     "labels": {"alertname": "cpu_high", "host": "web-1", "severity": "page"},
     "annotations": {"summary": "web-1 CPU 95.5% (peak 96%) for 5m"}},
    {"rule": "cpu_high", "kind": "resolved", "key": {"host": "web-1"}, "time": T0 + 14 * MIN,
     "fields": {"host": "web-1", "cpu": 41.5, "peak": 42.0, "samples": 2,
                "window_start": T0 + 13 * MIN, "window_end": T0 + 14 * MIN},
     "labels": {"alertname": "cpu_high", "host": "web-1", "severity": "page"}},
]


def subset(want, got, path="record"):
    """Returns None when `want` is a subset of `got` (as tests/rules_logic compares)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{path}: expected an object, got {got!r}"
        for k, v in want.items():
            if k not in got:
                return f"{path}.{k}: missing"
            err = subset(v, got[k], f"{path}.{k}")
            if err:
                return err
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            return f"{path}: expected {want!r}, got {got!r}"
        for i, (w, g) in enumerate(zip(want, got)):
            err = subset(w, g, f"{path}[{i}]")
            if err:
                return err
        return None
    if isinstance(want, float) or isinstance(got, float):
        ok = isinstance(got, (int, float)) and not isinstance(got, bool) and float(want) == got
    else:
        ok = want == got and type(want) is type(got)
    return None if ok else f"{path}: expected {want!r}, got {got!r}"


def run_case(vigil, root, extra):
    example = os.path.join(root, "examples", "cpu_high")
    cmd = [vigil, "run", os.path.join(example, "rules.vgl"),
           "--input", "metrics=" + os.path.join(example, "metrics.jsonl")] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return f"exit {p.returncode}: {p.stderr.strip()}"
    try:
        records = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        return f"standard output is not JSON lines: {e}"
    if len(records) != len(EXPECTED):
        return f"expected {len(EXPECTED)} records, got {len(records)}:\n{p.stdout}"
    for want, got in zip(EXPECTED, records):
        err = subset(want, got)
        if err:
            return err
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    passed = failed = 0
    for name, extra in [("one worker", []), ("two workers", ["--parallelism", "2"])]:
        err = run_case(os.path.abspath(args.vigil), os.path.abspath(args.root), extra)
        if err is None:
            passed += 1
            print(f"ok   cpu_high ({name})")
        else:
            failed += 1
            print(f"FAIL cpu_high ({name}): {err}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
