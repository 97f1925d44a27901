#!/usr/bin/env python3
"""Savepoints and rescaling, and SIGTERM's final checkpoint (spec/cli.md, `vigil run`).

rescale_2_to_3: a job at --parallelism 2 writes a savepoint mid-run (`vigil savepoint --state
DIR`), is stopped with SIGTERM, and a new job at --parallelism 3 starts from the savepoint
(--from-savepoint) with the same --output: the output equals an uninterrupted run's.
sigterm_then_restart: SIGTERM mid-run exits 0 after a final checkpoint; a restart with the
same --state resumes from it (`restored checkpoint`) and the output is exactly-once.

Usage: test_rescale.py --vigil PATH [--root REPO] [--events N]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time


def sorted_lines(path):
    with open(path) as f:
        return sorted(f.read().splitlines())


def compare(a, b):
    la, lb = sorted_lines(a), sorted_lines(b)
    if la != lb:
        sa, sb = set(la), set(lb)
        raise AssertionError(f"outputs differ: {len(la)} vs {len(lb)} lines; missing "
                             f"{len(sa - sb)}, extra {len(sb - sa)}")
    return len(la)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--events", type=int, default=2_000_000)
    args = ap.parse_args()
    vigil = os.path.abspath(args.vigil)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="vigil-rescale-") as tmp:
        rules = os.path.join(tmp, "rules.vgl")
        events = os.path.join(tmp, "events.jsonl")
        subprocess.run([sys.executable, os.path.join(args.root, "bench", "workload.py"), "fraud",
                        "--events", str(args.events), "--keys", "5000", "--jitter", "300",
                        "--rules", rules, "--out", events], check=True)
        a = os.path.join(tmp, "a.jsonl")
        p = subprocess.run([vigil, "run", rules, "--input", f"txn={events}", "--output", a,
                            "--parallelism", "1"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr

        def start(out, state, parallelism, extra=()):
            return subprocess.Popen([vigil, "run", rules, "--input", f"txn={events}", "--output",
                                     out, "--state", state, "--parallelism", str(parallelism),
                                     "--checkpoint-interval", "1s", *extra],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        # rescale_2_to_3
        try:
            b = os.path.join(tmp, "b.jsonl")
            state = os.path.join(tmp, "state-b")
            job = start(b, state, 2)
            time.sleep(0.6)
            sp = subprocess.run([vigil, "savepoint", "--state", state], capture_output=True,
                                text=True, timeout=60)
            if sp.returncode != 0:
                raise AssertionError(f"vigil savepoint: exit {sp.returncode}: {sp.stderr}")
            path = sp.stdout.strip()
            if not os.path.exists(path):
                raise AssertionError(f"no savepoint at {path!r}")
            job.send_signal(signal.SIGTERM)
            _, err = job.communicate(timeout=60)
            if job.returncode != 0:
                raise AssertionError(f"SIGTERM: exit {job.returncode}: {err[-800:]}")
            p = subprocess.run([vigil, "run", rules, "--input", f"txn={events}", "--output", b,
                                "--state", os.path.join(tmp, "state-b3"), "--parallelism", "3",
                                "--from-savepoint", path], capture_output=True, text=True)
            if p.returncode != 0 or "restored savepoint" not in p.stderr:
                raise AssertionError(f"restore at 3: exit {p.returncode}: {p.stderr[-800:]}")
            n = compare(a, b)
            print(f"ok rescale_2_to_3: {n} records")
            passed += 1
        except Exception as e:  # noqa: BLE001
            print(f"FAIL rescale_2_to_3: {e}")
            failed += 1

        # sigterm_then_restart
        try:
            c = os.path.join(tmp, "c.jsonl")
            state = os.path.join(tmp, "state-c")
            job = start(c, state, 2)
            time.sleep(0.7)
            job.send_signal(signal.SIGTERM)
            _, err = job.communicate(timeout=60)
            if job.returncode != 0:
                raise AssertionError(f"SIGTERM: exit {job.returncode}: {err[-800:]}")
            job = start(c, state, 2)
            _, err = job.communicate(timeout=120)
            if job.returncode != 0 or "restored checkpoint" not in err:
                raise AssertionError(f"restart: exit {job.returncode}: {err[-800:]}")
            n = compare(a, c)
            print(f"ok sigterm_then_restart: {n} records")
            passed += 1
        except Exception as e:  # noqa: BLE001
            print(f"FAIL sigterm_then_restart: {e}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
