#!/usr/bin/env python3
"""End-to-end tests of `vigil run` on live inputs that stay open (language.md §2, §7):
processing-time watermarks follow the wall clock, and `idle after` lets a silent partition
stop holding an event-time stream back, so records leave before the inputs end. Every case
runs at --parallelism 1 (the router applies the work itself) and 2 (worker threads, lines
decoded by the workers).

Usage: test_live_streams.py --vigil PATH [--root REPO] [--filter TEXT]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import json
import os
import queue
import subprocess
import threading
import time

from vigil_e2e import Suite, check

suite = Suite(__doc__, tmp_prefix="vigil-live-", filter=True)


class Live:
    """A `vigil run` process whose standard output is read line by line with a timeout."""

    def __init__(self, c, args, stdin=subprocess.PIPE):
        self.p = c.start(*args, stdin=stdin, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, events):
        for e in events:
            self.p.stdin.write(json.dumps(e) + "\n")
        self.p.stdin.flush()

    def wait_record(self, pred, timeout):
        """The first record on stdout satisfying pred within timeout seconds, else None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if line.strip():
                rec = json.loads(line)
                if pred(rec):
                    return rec

    def finish(self):
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode, self.p.stderr.read()


def processing_time_window_closes_while_stdin_is_open(c, n):
    rules = c.write("r.vgl", "stream m (host string, value float)\n"
                    "rule busy from m\n  window 1s compute count() as n\n  when n > 0\n")
    live = Live(c, [rules, "--input", "m=-", "--parallelism", str(n)])
    try:
        live.send([{"host": "a", "value": 1}, {"host": "a", "value": 2},
                   {"host": "b", "value": 3}])
        rec = live.wait_record(lambda r: r.get("kind") == "firing", 4.0)
        check(rec is not None, "no firing record while stdin stayed open")
        check(rec["rule"] == "busy" and rec["fields"]["n"] >= 1, rec)
        check(live.p.poll() is None, "vigil exited before stdin was closed")
    finally:
        code, err = live.finish()
    check(code == 0, f"exit {code}: {err[-800:]}")


def no_data_fires_while_stdin_is_open(c, n):
    rules = c.write("r.vgl", "stream m (host string, value float)\n"
                    "rule hot from m partition by host\n  when value > 90 no data after 1s\n")
    live = Live(c, [rules, "--input", "m=-", "--parallelism", str(n)])
    try:
        live.send([{"host": "a", "value": 95}])
        fired = live.wait_record(lambda r: r.get("kind") == "firing", 3.0)
        check(fired is not None, "no firing record while stdin stayed open")
        nodata = live.wait_record(lambda r: r.get("kind") == "nodata", 4.0)
        check(nodata is not None, "no nodata record while stdin stayed open")
        check(nodata["key"] == {"host": "a"}, nodata)
        check(nodata["time"] - fired["time"] == 1000, (fired, nodata))
        check(live.p.poll() is None, "vigil exited before stdin was closed")
    finally:
        code, err = live.finish()
    check(code == 0, f"exit {code}: {err[-800:]}")


def idle_run(c, idle, n):
    """Two named pipes of one event-time stream; events on the first only. Returns whether a
    match left before either pipe was closed, and the exit status."""
    stream = "stream s (name string, t timestamp)\n  event time t\n"
    if idle:
        stream += "  idle after 1s\n"
    rules = c.write("r.vgl", stream + "rule r from s\n  pattern a -> b\n"
                    "  define a as name == \"a\", b as name == \"b\"\n")
    p1, p2 = c.path("p1"), c.path("p2")
    os.mkfifo(p1)
    os.mkfifo(p2)
    live = Live(c, [rules, "--input", f"s={p1}", "--input", f"s={p2}", "--parallelism", str(n)],
                stdin=subprocess.DEVNULL)
    writers = {}

    def opener(path):
        writers[path] = open(path, "w")

    threads = [threading.Thread(target=opener, args=(p,), daemon=True) for p in (p1, p2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    try:
        check(p1 in writers and p2 in writers, "vigil did not open both pipes")
        w = writers[p1]
        for e in [{"name": "a", "t": 1000}, {"name": "b", "t": 2000},
                  {"name": "x", "t": 3000}]:
            w.write(json.dumps(e) + "\n")
        w.flush()
        # The first pipe stays live (a heartbeat every 0.25 s); the second never speaks.
        rec, t, deadline = None, 3000, time.monotonic() + (4.0 if idle else 2.5)
        while rec is None and time.monotonic() < deadline:
            rec = live.wait_record(lambda r: r.get("kind") == "match", 0.25)
            t += 250
            w.write(json.dumps({"name": "x", "t": t}) + "\n")
            w.flush()
        alive = live.p.poll() is None
    finally:
        for f in writers.values():
            f.close()
        code, err = live.finish()
    check(code == 0, f"exit {code}: {err[-800:]}")
    return rec, alive


def idle_partition_stops_holding_the_watermark(c, n):
    rec, alive = idle_run(c, idle=True, n=n)
    check(rec is not None, "no match while the silent pipe stayed open")
    check(alive, "vigil exited before the pipes were closed")
    check(rec["time"] == 2000, rec)


def silent_partition_holds_the_watermark_without_idle_after(c, n):
    rec, _ = idle_run(c, idle=False, n=n)
    check(rec is None, f"match before the silent partition ended: {rec}")


for fn in (processing_time_window_closes_while_stdin_is_open, no_data_fires_while_stdin_is_open,
           idle_partition_stops_holding_the_watermark,
           silent_partition_holds_the_watermark_without_idle_after):
    for n in (1, 2):
        suite.case(f"{fn.__name__}{'' if n == 1 else '_parallelism_2'}", fn, n)


if __name__ == "__main__":
    suite.main()
