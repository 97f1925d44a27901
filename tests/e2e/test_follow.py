#!/usr/bin/env python3
"""End-to-end tests of `vigil run --follow`: file inputs are followed like `tail -f` (lines
appended later are read; a partial last line waits for its newline) until SIGINT/SIGTERM,
which take a final checkpoint and exit 0. Checkpoints record the followed files' offsets, so
a restart resumes from them. Without --follow the same run ends by itself.

Usage: test_follow.py --vigil PATH [--root REPO] [--filter TEXT]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import json
import os
import subprocess
import time

from vigil_e2e import Suite, check, read_records, terminate

suite = Suite(__doc__, filter=True)

RULES = ("stream s (k string, name string, ts timestamp)\n  event time ts\n"
         "rule r from s partition by k\n  pattern a -> b\n"
         "  define a as name == \"a\", b as name == \"b\"\n")


def ev(k, name, ts):
    return json.dumps({"k": k, "name": name, "ts": ts}) + "\n"


def append(path, text):
    with open(path, "a") as f:
        f.write(text)
        f.flush()


def matches(out):
    if not os.path.exists(out):
        return []
    return [r for r in read_records(out) if r.get("kind") == "match"]


def wait_matches(out, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = matches(out)
        if len(m) >= n:
            return m
        time.sleep(0.05)
    return matches(out)


def follow_reads_appended_lines_until_sigterm(c, n):
    rules = c.write("r.vgl", RULES)
    data = c.write("in.jsonl", ev("k1", "a", 1000))
    out = c.path("out.jsonl")
    p = c.start(rules, "--follow", "--input", f"s={data}", "--output", out,
                "--parallelism", str(n))
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


for n in (1, 2):
    suite.case("follow_reads_appended_lines_until_sigterm" + ("_parallelism_2" if n == 2 else ""),
               follow_reads_appended_lines_until_sigterm, n)


@suite.test
def without_follow_the_run_ends_by_itself(c):
    rules = c.write("r.vgl", RULES)
    data = c.write("in.jsonl", ev("k1", "a", 1000) + ev("k1", "b", 2000))
    out = c.path("out.jsonl")
    p = c.start(rules, "--input", f"s={data}", "--output", out)
    try:
        _, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("vigil without --follow did not end by itself")
    check(p.returncode == 0, f"exit {p.returncode}: {err[-800:]}")
    check(len(matches(out)) == 1, matches(out))


@suite.test
def restart_resumes_from_the_checkpointed_offset(c):
    rules = c.write("r.vgl", RULES)
    data = c.write("in.jsonl", ev("k1", "a", 1000))
    out = c.path("out.jsonl")
    state = c.path("state")
    args = [rules, "--follow", "--input", f"s={data}", "--output", out, "--state", state,
            "--checkpoint-interval", "200ms"]
    p = c.start(*args)
    time.sleep(0.5)
    code, err = terminate(p)
    check(code == 0, f"first run: exit {code}: {err[-800:]}")
    append(data, ev("k1", "b", 2000) + ev("k1", "x", 5000))
    p = c.start(*args)
    try:
        m = wait_matches(out, 1, 5.0)
        check(len(m) == 1, f"expected one match after the restart, got {m}")
        check(m[0].get("time") == 2000, m[0])
    finally:
        code, err = terminate(p)
    check(code == 0, f"second run: exit {code}: {err[-800:]}")
    check(len(matches(out)) == 1, matches(out))


@suite.test
def silent_followed_file_goes_idle(c):
    rules = c.write("r.vgl", RULES.replace("event time ts\n", "event time ts\n  idle after 500ms\n"))
    f1 = c.write("f1.jsonl", ev("k1", "a", 1000))
    f2 = c.write("f2.jsonl", "")
    out = c.path("out.jsonl")
    p = c.start(rules, "--follow", "--input", f"s={f1}", "--input", f"s={f2}", "--output", out)
    try:
        time.sleep(0.3)
        append(f1, ev("k1", "b", 2000) + ev("k1", "x", 5000))
        m = wait_matches(out, 1, 4.0)
        check(len(m) == 1, f"the silent followed file held the watermark back: {m}")
        check(p.poll() is None, "vigil exited while following")
    finally:
        code, err = terminate(p)
    check(code == 0, f"exit {code} after SIGTERM: {err[-800:]}")


if __name__ == "__main__":
    suite.main()
