"""Shared scaffolding of the end-to-end tests in this directory (not a test itself).

tests/CMakeLists.txt runs every tests/e2e/test_*.py as `python3 test_x.py --vigil PATH --root
REPO`; each script imports this module (its own directory is first on sys.path), describes its
cases with a Suite and calls Suite.main():

    from vigil_e2e import Suite, check

    suite = Suite(__doc__)

    @suite.test
    def some_case(c):  # c: a Ctx (the vigil binary, the repository root, a temp directory)
        p = c.run(c.write("r.vgl", RULES), "--input", f"s={c.events('s.jsonl', EVENTS)}")
        check(p.returncode == 0, p.stderr)

    if __name__ == "__main__":
        suite.main()

Every script takes --vigil PATH (required) and --root REPO (default: the checkout this file is
in), plus the options it adds with Suite.option. The runner prints one line per failing case
(`FAIL name (test_x.py:LINE): why`, or a traceback for anything but an AssertionError), an
`ok` line for a passing case when the suite has show_ok or the case returns a detail string,
then `N passed, M failed`; it exits 1 if any case failed or none passed, else 0.
"""
import argparse
import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- checks and JSON lines -------------------------------------------------------------------

def check(cond, msg):
    """Fails the current case with msg unless cond holds."""
    if not cond:
        raise AssertionError(msg)


def jsonl(events):
    """The JSON Lines text of a list of objects, one per line, each ending in a newline."""
    return "".join(json.dumps(e) + "\n" for e in events)


def records(text):
    """The JSON objects of the non-blank lines of text; raises if a line is not JSON."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_records(path):
    """records() of a file's contents."""
    with open(path) as f:
        return records(f.read())


def sorted_lines(path):
    """The lines of a file, sorted (records of different keys may come in any order)."""
    with open(path) as f:
        return sorted(f.read().splitlines())


def assert_same_lines(want, got, what="outputs"):
    """want and got are sorted lists of output lines; fails unless they are equal, saying how
    many lines are missing from got, extra in got, and repeated in got."""
    if want != got:
        sw, sg = set(want), set(got)
        raise AssertionError(f"{what} differ: {len(want)} vs {len(got)} lines; missing "
                             f"{len(sw - sg)}, extra {len(sg - sw)}, duplicates "
                             f"{len(got) - len(sg)}")


# --- processes -------------------------------------------------------------------------------

def terminate(p, timeout=5):
    """Sends SIGTERM to p and waits up to timeout seconds for it to exit, killing it after that.
    Returns (exit status, or None if it had to be killed; standard error if piped)."""
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        return None, err
    return p.returncode, err


class Ctx:
    """What a case gets: vigil (absolute path of the binary), root (absolute path of the
    repository), tmp (its temp directory), args (the parsed command line), and anything a
    Suite.setup function stored on it."""

    def __init__(self, vigil, root, tmp, args):
        self.vigil, self.root, self.tmp, self.args = vigil, root, tmp, args

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        """Writes text to tmp/name; returns the path."""
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def events(self, name, events, extra_lines=()):
        """Writes events (objects) then extra_lines (raw text), one per line, to tmp/name."""
        return self.write(name, jsonl(events) + "".join(line + "\n" for line in extra_lines))

    def run(self, *args, stdin=None, cwd=None, timeout=60):
        """`vigil run ARGS` to the end, capturing standard output and error as text. stdin is
        text to feed it, or a file, subprocess.DEVNULL or None (inherited). Runs in tmp unless
        cwd is given; timeout=None waits however long it takes."""
        feed = {"input": stdin} if isinstance(stdin, str) else {"stdin": stdin}
        return subprocess.run([self.vigil, "run", *args], capture_output=True, text=True,
                              timeout=timeout, cwd=cwd or self.tmp, **feed)

    def start(self, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, cwd=None, **popen):
        """`vigil run ARGS` in the background (text mode, in tmp unless cwd is given)."""
        return subprocess.Popen([self.vigil, "run", *args], stdin=stdin, stdout=stdout,
                                stderr=stderr, text=True, cwd=cwd or self.tmp, **popen)

    def run_to_end(self, *args):
        """`vigil run ARGS`, however long it takes; fails unless it exits 0."""
        p = self.run(*args, stdin=subprocess.DEVNULL, timeout=None)
        check(p.returncode == 0, f"uninterrupted run exit {p.returncode}: {p.stderr[-1000:]}")

    def workload(self, kind, *options):
        """The command line of bench/workload.py KIND OPTIONS."""
        return [sys.executable, os.path.join(self.root, "bench", "workload.py"), kind, *options]

    def workload_files(self, kind, *options):
        """Writes bench/workload.py's KIND workload (with OPTIONS) to tmp/events.jsonl and its
        rules to tmp/rules.vgl; returns (rules, events)."""
        rules, out = self.path("rules.vgl"), self.path("events.jsonl")
        subprocess.run(self.workload(kind, *options, "--rules", rules, "--out", out), check=True)
        return rules, out

    def fraud_workload(self, events, keys, jitter, seed=None):
        """The fraud workload_files: EVENTS events over KEYS cards, up to JITTER ms out of
        order, --seed SEED unless None."""
        options = ["--events", str(events), "--keys", str(keys), "--jitter", str(jitter)]
        if seed is not None:
            options += ["--seed", str(seed)]
        return self.workload_files("fraud", *options)

    def run_with_kills(self, args, state, kills, delay, expect_restore=False, max_attempts=60):
        """Runs `vigil run ARGS` (ARGS hold --state STATE) again and again until it exits 0,
        the first `kills` times killing it with SIGKILL delay() seconds after it starts (unless
        it ended before). Its standard error goes to STATE.stderr. A restart after a completed
        checkpoint (STATE/checkpoints/CURRENT_CHECKPOINT) that says `restored checkpoint`
        counts as a restore; with expect_restore, one that does not fails the case. Returns
        (kills, restores)."""
        killed_total = restores = attempts = 0
        err_path = state + ".stderr"
        while True:
            attempts += 1
            check(attempts <= max_attempts, "the job never finished")
            had_checkpoint = os.path.exists(os.path.join(state, "checkpoints",
                                                         "CURRENT_CHECKPOINT"))
            with open(err_path, "w") as err:
                p = self.start(*args, stdout=subprocess.DEVNULL, stderr=err)
                killed = False
                if killed_total < kills:
                    try:
                        p.wait(timeout=delay())
                    except subprocess.TimeoutExpired:
                        p.send_signal(signal.SIGKILL)
                        killed = True
                rc = p.wait()
            with open(err_path) as f:
                text = f.read()
            if attempts > 1 and had_checkpoint:
                if "restored checkpoint" in text:
                    restores += 1
                elif expect_restore and (not killed or text.strip()):
                    # (A run killed before it wrote anything may not have got as far as the
                    # restore on a loaded machine: that is no evidence either way.)
                    raise AssertionError(f"restart {attempts} did not restore: {text[-500:]}")
            if killed:
                killed_total += 1
                continue
            check(rc == 0, f"run exit {rc}: {text[-1000:]}")
            return killed_total, restores


# --- the runner ------------------------------------------------------------------------------

def _failure(e):
    """What a FAIL line says after the case's name about exception e (being handled): for an
    AssertionError, the test script's lines it came through (`test_x.py:120 -> 43`) and its
    message; for anything else, the traceback."""
    if not isinstance(e, AssertionError):
        return ":\n" + traceback.format_exc().rstrip()
    here = os.path.abspath(__file__)
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if os.path.abspath(f.filename) != here]
    if not frames:
        return f": {e}"
    lines = " -> ".join(str(f.lineno) for f in frames if f.filename == frames[0].filename)
    return f" ({os.path.basename(frames[0].filename)}:{lines}): {e}"


class Suite:
    """The cases of one test script and their runner.

    doc: the script's docstring (its --help text). tmp_prefix: the prefix of the suite's temp
    directory, where the setup functions run. Cases run in registration order; with
    shared_tmp they all get the setup functions' Ctx (same temp directory, and what one case
    stores on it the next sees), otherwise each gets a copy of it with a fresh temp directory
    of its own. filter: adds --filter TEXT (run only the cases whose name contains TEXT).
    show_ok: prints `ok NAME` for every passing case."""

    def __init__(self, doc, *, tmp_prefix="vigil-e2e-", shared_tmp=False, filter=False,
                 show_ok=False):
        self.tmp_prefix, self.shared_tmp, self.show_ok = tmp_prefix, shared_tmp, show_ok
        self.parser = argparse.ArgumentParser(
            description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
        self.parser.add_argument("--vigil", required=True, metavar="PATH", help="vigil binary")
        self.parser.add_argument("--root", default=REPO_ROOT, metavar="REPO",
                                 help="repository root (default: this checkout)")
        if filter:
            self.parser.add_argument("--filter", default="", metavar="TEXT",
                                     help="run only the cases whose name contains TEXT")
        self.cases = []
        self.setups = []

    def option(self, *flags, **kw):
        """Adds a command-line option (argparse.add_argument); cases read it from c.args."""
        self.parser.add_argument(*flags, **kw)

    def test(self, fn):
        """Decorator: registers fn(c) as a case named after it."""
        self.case(fn.__name__, fn)
        return fn

    def case(self, name, fn, *args, **kw):
        """Registers fn(c, *args, **kw) as a case called name. fn may return a detail string,
        printed in an `ok name: detail` line."""
        self.cases.append((name, lambda c: fn(c, *args, **kw)))

    def setup(self, fn):
        """Decorator: fn(c) runs once before the cases (it may generate inputs into c.tmp,
        store things on c, or register more cases). If it fails no case runs."""
        self.setups.append(fn)
        return fn

    def main(self, argv=None):
        sys.exit(self.run(argv))

    def run(self, argv=None):
        args = self.parser.parse_args(argv)
        wanted = getattr(args, "filter", "")
        passed = failed = 0

        def attempt(name, fn, c, show_ok=self.show_ok):
            try:
                detail = fn(c)
            except Exception as e:  # a failing case, not a crash of the runner
                print(f"FAIL {name}{_failure(e)}", flush=True)
                return False
            if detail is not None:
                print(f"ok   {name}: {detail}", flush=True)
            elif show_ok:
                print(f"ok   {name}", flush=True)
            return True

        with tempfile.TemporaryDirectory(prefix=self.tmp_prefix) as tmp:
            ctx = Ctx(os.path.abspath(args.vigil), os.path.abspath(args.root), tmp, args)
            for fn in self.setups:
                if not attempt(fn.__name__, fn, ctx, show_ok=False):
                    failed += 1
                    break
            else:
                for name, fn in self.cases:
                    if wanted not in name:
                        continue
                    if self.shared_tmp:
                        ok = attempt(name, fn, ctx)
                    else:
                        with tempfile.TemporaryDirectory(dir=tmp) as case_tmp:
                            c = copy.copy(ctx)
                            c.tmp = case_tmp
                            ok = attempt(name, fn, c)
                    passed += ok
                    failed += not ok
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 and passed > 0 else 1
