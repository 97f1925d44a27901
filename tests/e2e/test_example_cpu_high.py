#!/usr/bin/env python3
"""The cpu_high example (a monitoring rule: where, partition by, window ... compute, when ...
for) runs with `vigil run` and fires then resolves for web-1 only, with one and two workers.

web-1's one-minute averages are above 90 for the windows ending T0+2m .. T0+13m
(T0 = 1714557600000): the run starts at the record of the window ending T0+2m and fires
5m later, on the window [T0+6m, T0+7m) (95, 96: avg 95.5, peak 96); the window
[T0+13m, T0+14m) (41, 42) resolves it. web-2 never exceeds 36.

Usage: test_example_cpu_high.py --vigil PATH [--root REPO]
Prints one line per case, then `N passed, M failed`; exits 1 on failure.
"""
import json
import os

from vigil_e2e import Suite, check, records

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


suite = Suite(__doc__, show_ok=True)


def run_case(c, extra):
    example = os.path.join(c.root, "examples", "cpu_high")
    p = c.run(os.path.join(example, "rules.vgl"),
              "--input", "metrics=" + os.path.join(example, "metrics.jsonl"), *extra,
              timeout=120)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()}")
    try:
        recs = records(p.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"standard output is not JSON lines: {e}") from None
    check(len(recs) == len(EXPECTED),
          f"expected {len(EXPECTED)} records, got {len(recs)}:\n{p.stdout}")
    for want, got in zip(EXPECTED, recs):
        err = subset(want, got)
        check(err is None, err)


suite.case("cpu_high (one worker)", run_case, [])
suite.case("cpu_high (two workers)", run_case, ["--parallelism", "2"])

if __name__ == "__main__":
    suite.main()
