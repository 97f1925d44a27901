#!/usr/bin/env python3
"""Golden rule-logic test runner (see README.md in this folder).

Usage: run.py --vigil PATH [--filter TEXT] [--verbose] PATH...   (files or folders)
Prints one line per failing block, then `N passed, M failed`; exit 0 only if all pass.
"""
import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile


class Block:
    def __init__(self, path, line, directive, rules, sections):
        self.path, self.line, self.directive = path, line, directive
        self.rules, self.sections = rules, sections

    @property
    def name(self):
        return f"{os.path.relpath(self.path)}:{self.line}"


def parse_file(path):
    blocks = []
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        # skip comments/blank lines before a directive
        while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
            i += 1
        if i >= len(lines):
            break
        start = i
        directive = lines[i].strip()
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != "====":
            body.append(lines[i])
            i += 1
        i += 1  # skip ====
        rules, sections, current = [], [], None
        for ln in body:
            if ln.startswith("----"):
                current = (ln[4:].strip(), [])
                sections.append(current)
            elif current is None:
                rules.append(ln)
            else:
                current[1].append(ln)
        blocks.append(Block(path, start + 1, directive, "\n".join(rules) + "\n", sections))
    return blocks


def subset(expected, actual):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k])
                                                for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(subset(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    return expected == actual


def record_matches(e, a):
    # A subset match, except that an expected `events` object names exactly the variables
    # that bound events (so a match over fewer variables is not satisfied by a longer one).
    if not subset(e, a):
        return False
    if isinstance(e.get("events"), dict) and isinstance(a.get("events"), dict):
        return set(e["events"]) == set(a["events"])
    return True


def match_records(expected, actual, ordered):
    if len(expected) != len(actual):
        return f"expected {len(expected)} records, got {len(actual)}"
    if ordered:
        for n, (e, a) in enumerate(zip(expected, actual)):
            if not record_matches(e, a):
                return f"record {n + 1}: expected {json.dumps(e)} got {json.dumps(a)}"
        return None
    remaining = list(actual)
    for e in expected:
        for k, a in enumerate(remaining):
            if record_matches(e, a):
                del remaining[k]
                break
        else:
            return f"no record matches {json.dumps(e)}"
    return None


def read_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    return out


def expected_jsonl(lines):
    return [json.loads(l) for l in lines if l.strip() and not l.lstrip().startswith("#")]


def run_block(vigil, b, tmp):
    words = shlex.split(b.directive)
    rules = os.path.join(tmp, "rules.vgl")
    with open(rules, "w") as f:
        f.write(b.rules)
    if words[:2] == ["check", "ok"]:
        p = subprocess.run([vigil, "check", rules], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            return f"expected exit 0, got {p.returncode}:\n{p.stderr}"
        return None
    if words[:2] == ["check", "error"]:
        p = subprocess.run([vigil, "check", rules], capture_output=True, text=True, timeout=60)
        want = [l.strip() for s, ls in b.sections for l in ls if l.strip()]
        prefix = rules + ":"
        got = [l[len(prefix):].strip() for l in p.stderr.split("\n")
               if l.startswith(prefix) and ": error: " in l]
        if p.returncode != 1:
            return f"expected exit 1, got {p.returncode}:\n{p.stderr}"
        if got != want:
            return "diagnostics differ:\n  want: " + "\n        ".join(want) + \
                "\n  got:  " + "\n        ".join(got) + f"\n--- stderr:\n{p.stderr}"
        return None
    if words[0] == "explain":
        # `explain [FLAGS...]`: the standard output of `vigil explain` must equal the
        # `---- output` section (trailing spaces and blank lines at the end ignored).
        p = subprocess.run([vigil, "explain", rules] + words[1:], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            return f"expected exit 0, got {p.returncode}:\n{p.stderr}"
        want = [l.rstrip() for s, ls in b.sections if s == "output" for l in ls]
        got = [l.rstrip() for l in p.stdout.split("\n")]
        while want and not want[-1]:
            want.pop()
        while got and not got[-1]:
            got.pop()
        if got != want:
            return "explain output differs:\n  want:\n    " + "\n    ".join(want) + \
                "\n  got:\n    " + "\n    ".join(got)
        return None
    if words[0] == "run":
        ordered = "ordered" in words[1:]
        expect_error = "error" in words[1:]
        flags = [w for w in words[1:] if w not in ("ordered", "error")]
        cmd = [vigil, "run", rules, "--output", os.path.join(tmp, "out.jsonl"),
               "--dead-letter", os.path.join(tmp, "dead.jsonl")]
        if "--parallelism" not in flags:
            cmd += ["--parallelism", "1"]
        for n, (name, lines) in enumerate(b.sections):
            w = name.split()
            if w and w[0] == "input":
                # `input STREAM [watermarks]`; a stream with several input sections gets one
                # input (source partition) per section.
                path = os.path.join(tmp, f"in_{n}_{w[1]}.jsonl")
                with open(path, "w") as f:
                    f.write("\n".join(lines).rstrip("\n") + "\n")
                uri = f"file://{path}?watermarks=true" if "watermarks" in w[2:] else path
                cmd += ["--input", f"{w[1]}={uri}"]
        cmd += flags
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp)
        except subprocess.TimeoutExpired:
            return "timed out"
        if expect_error:
            if p.returncode == 0:
                return "expected a non-zero exit"
            for name, lines in b.sections:
                if name == "stderr":
                    for l in lines:
                        if l.strip() and l.strip() not in p.stderr:
                            return f"stderr lacks {l.strip()!r}:\n{p.stderr}"
            return None
        if p.returncode != 0:
            return f"exit {p.returncode}:\n{p.stderr[-2000:]}"
        for name, lines in b.sections:
            if name in ("output", "dead-letter"):
                path = os.path.join(tmp, "out.jsonl" if name == "output" else "dead.jsonl")
                try:
                    actual = read_jsonl(path)
                except json.JSONDecodeError as e:
                    return f"{name} is not JSON lines: {e}"
                err = match_records(expected_jsonl(lines), actual, ordered)
                if err:
                    return f"{name}: {err}\n  actual:\n    " + \
                        "\n    ".join(json.dumps(a) for a in actual)
        return None
    return f"unknown directive {b.directive!r}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    args.vigil = os.path.abspath(args.vigil)  # blocks run with a temporary working directory
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(glob.glob(os.path.join(p, "**", "*.test"), recursive=True))
        else:
            files.append(p)
    passed = failed = 0
    for path in files:
        if args.filter not in path:
            continue
        for b in parse_file(path):
            with tempfile.TemporaryDirectory(prefix="vigil-logic-") as tmp:
                try:
                    err = run_block(args.vigil, b, tmp)
                except Exception as e:  # a broken test file is a failure, not a crash
                    err = f"runner error: {e!r}"
            if err:
                failed += 1
                print(f"FAIL {b.name}: {b.directive}\n  {err}")
            else:
                passed += 1
                if args.verbose:
                    print(f"ok   {b.name}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
