#!/usr/bin/env python3
"""End-to-end tests of `vigil run --follow`: file inputs are followed like `tail -f` (lines
appended later are read; a partial last line waits for its newline) until SIGINT/SIGTERM,
which take a final checkpoint and exit 0. Checkpoints record the followed files' offsets, so
a restart resumes from them. Without --follow the same run ends by itself.

Usage: test_follow.py --vigil PATH [--root REPO] [--filter TEXT]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

TESTS = []

RULES = ("stream s (k string, name string, ts timestamp)\n  event time ts\n"
         "rule r from s partition by k\n  pattern a -> b\n"
         "  define a as name == \"a\", b as name == \"b\"\n")


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Ctx:
    def __init__(self, vigil, root, tmp):
        self.vigil, self.root, self.tmp = vigil, root, tmp

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def start(self, args):
        return subprocess.Popen([self.vigil, "run", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=self.tmp)


def ev(k, name, ts):
    return json.dumps({"k": k, "name": name, "ts": ts}) + "\n"


def append(path, text):
    with open(path, "a") as f:
        f.write(text)
        f.flush()


def matches(out):
    if not os.path.exists(out):
        return []
    recs = []
    with open(out) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))
    return [r for r in recs if r.get("kind") == "match"]


def wait_matches(out, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = matches(out)
        if len(m) >= n:
            return m
        time.sleep(0.05)
    return matches(out)


def terminate(p):
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        return None, err
    return p.returncode, err


@test
def follow_reads_appended_lines_until_sigterm(c):
    rules = c.write("r.vgl", RULES)
    data = c.write("in.jsonl", ev("k1", "a", 1000))
    out = c.path("out.jsonl")
    p = c.start([rules, "--follow", "--input", f"s={data}", "--output", out])
    try:
        time.sleep(0.5)
        check(p.poll() is None, f"vigil exited at the end of the file: {p.poll()}")
        # The b event arrives in two writes: a partial line must wait for its newline.
        line = ev("k1", "b", 2000)
        append(data, line[:10])
        time.sleep(0.2)
        append(data, line[10:] + ev("k1", "x", 5000))
        m = wait_matches(out, 1, 5.0)
        check(len(m) == 1, f"expected one match while running, got {m}")
        check(p.poll() is None, "vigil exited while following")
    finally:
        code, err = terminate(p)
    check(code == 0, f"exit {code} after SIGTERM: {err[-800:]}")
    check(len(matches(out)) == 1, matches(out))


@test
def without_follow_the_run_ends_by_itself(c):
    rules = c.write("r.vgl", RULES)
    data = c.write("in.jsonl", ev("k1", "a", 1000) + ev("k1", "b", 2000))
    out = c.path("out.jsonl")
    p = c.start([rules, "--input", f"s={data}", "--output", out])
    try:
        _, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("vigil without --follow did not end by itself")
    check(p.returncode == 0, f"exit {p.returncode}: {err[-800:]}")
    check(len(matches(out)) == 1, matches(out))


@test
def restart_resumes_from_the_checkpointed_offset(c):
    rules = c.write("r.vgl", RULES)
    data = c.write("in.jsonl", ev("k1", "a", 1000))
    out = c.path("out.jsonl")
    state = c.path("state")
    args = [rules, "--follow", "--input", f"s={data}", "--output", out, "--state", state,
            "--checkpoint-interval", "200ms"]
    p = c.start(args)
    time.sleep(0.5)
    code, err = terminate(p)
    check(code == 0, f"first run: exit {code}: {err[-800:]}")
    append(data, ev("k1", "b", 2000) + ev("k1", "x", 5000))
    p = c.start(args)
    try:
        m = wait_matches(out, 1, 5.0)
        check(len(m) == 1, f"expected one match after the restart, got {m}")
        check(m[0].get("time") == 2000, m[0])
    finally:
        code, err = terminate(p)
    check(code == 0, f"second run: exit {code}: {err[-800:]}")
    check(len(matches(out)) == 1, matches(out))


@test
def silent_followed_file_goes_idle(c):
    rules = c.write("r.vgl", RULES.replace("event time ts\n", "event time ts\n  idle after 500ms\n"))
    f1 = c.write("f1.jsonl", ev("k1", "a", 1000))
    f2 = c.write("f2.jsonl", "")
    out = c.path("out.jsonl")
    p = c.start([rules, "--follow", "--input", f"s={f1}", "--input", f"s={f2}", "--output", out])
    try:
        time.sleep(0.3)
        append(f1, ev("k1", "b", 2000) + ev("k1", "x", 5000))
        m = wait_matches(out, 1, 4.0)
        check(len(m) == 1, f"the silent followed file held the watermark back: {m}")
        check(p.poll() is None, "vigil exited while following")
    finally:
        code, err = terminate(p)
    check(code == 0, f"exit {code} after SIGTERM: {err[-800:]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", default=".")
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    vigil = os.path.abspath(a.vigil)
    root = os.path.abspath(a.root)
    passed = failed = 0
    for fn in TESTS:
        if a.filter and a.filter not in fn.__name__:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                fn(Ctx(vigil, root, tmp))
                passed += 1
            except Exception:
                failed += 1
                print(f"FAIL {fn.__name__}:\n{traceback.format_exc()}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
