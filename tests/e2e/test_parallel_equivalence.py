#!/usr/bin/env python3
"""`vigil run --parallelism N` gives the same records whatever N (order across keys aside).

Runs a deterministic fraud workload (bench/workload.py, out-of-order events, timeouts
off) and an `on timeout` rule at N = 1, 2, 3, from a file and from standard input, with and
without --state checkpoints, and compares the sorted output lines.

Usage: test_parallel_equivalence.py --vigil PATH [--root REPO] [--events N]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

TIMEOUT_RULES = """
rule slow_pair
  from txn
  partition by merchant
  pattern small -> large
  define small as amount < 0.50, large as amount >= 4000
  within 2s
  on timeout
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--events", type=int, default=300_000)
    args = ap.parse_args()
    vigil = os.path.abspath(args.vigil)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="vigil-par-") as tmp:
        rules = os.path.join(tmp, "rules.vgl")
        events = os.path.join(tmp, "events.jsonl")
        subprocess.run([sys.executable, os.path.join(args.root, "bench", "workload.py"), "fraud",
                        "--events", str(args.events), "--keys", "3000", "--jitter", "500",
                        "--rules", rules, "--out", events], check=True)
        with open(rules, "a") as f:
            f.write(TIMEOUT_RULES)

        def run(n, stdin=False, state=False):
            cmd = [vigil, "run", rules, "--parallelism", str(n)]
            cmd += ["--input", "txn=-" if stdin else f"txn={events}"]
            if state:
                cmd += ["--state", os.path.join(tmp, f"state-{n}-{stdin}"),
                        "--checkpoint-interval", "100ms"]
            with open(events) as inp:
                p = subprocess.run(cmd, stdin=inp if stdin else subprocess.DEVNULL,
                                   capture_output=True, text=True)
            if p.returncode != 0:
                raise AssertionError(f"{cmd}: exit {p.returncode}: {p.stderr[-800:]}")
            return sorted(p.stdout.splitlines())

        base = None
        for n, stdin, state in [(1, False, False), (2, False, False), (3, False, False),
                                (2, True, False), (3, False, True), (2, True, True)]:
            name = f"parallelism_{n}{'_stdin' if stdin else ''}{'_state' if state else ''}"
            try:
                out = run(n, stdin, state)
                if base is None:
                    base = out
                    if len(base) < 100:
                        raise AssertionError(f"too few records: {len(base)}")
                elif out != base:
                    raise AssertionError(f"{len(out)} records vs {len(base)} at parallelism 1; "
                                         f"{len(set(out) ^ set(base))} differ")
                passed += 1
            except Exception as e:  # noqa: BLE001
                print(f"FAIL {name}: {e}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
