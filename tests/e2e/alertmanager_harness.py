"""Starts real Prometheus Alertmanagers on 127.0.0.1 for sink tests (not a test itself).

The Debian package prometheus-alertmanager (scripts/setup) provides the binary. Each instance
gets its own free port, a temporary storage directory and a config that routes everything to
a receiver that notifies nobody; clustering is off (--cluster.listen-address=), so two
instances are independent, like an HA pair whose gossip is not needed for the test.

As a program (what the C++ sink tests start):

    python3 alertmanager_harness.py [--count N]

prints `URL http://127.0.0.1:PORT` for each instance once it is ready, then runs until
standard input closes or SIGTERM/SIGINT, and stops the instances. Exits 77 (CTest's "skipped")
with a message on standard error when the alertmanager binary is missing.

As a module: start(tmpdir) -> Alertmanager (url, alerts(), stop()); find_binary().
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CONFIG = """route:
  receiver: nobody
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: nobody
"""

CANDIDATES = ["/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager"]


def find_binary():
    """The alertmanager binary, or None."""
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Alertmanager:
    def __init__(self, proc, url, workdir):
        self.proc = proc
        self.url = url
        self.workdir = workdir

    def alerts(self):
        """GET /api/v2/alerts: the alerts Alertmanager holds (resolved ones are not listed)."""
        with urllib.request.urlopen(self.url + "/api/v2/alerts", timeout=5) as r:
            return json.load(r)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(tmpdir, binary=None, ready_timeout=30.0):
    """Starts one instance under tmpdir and waits until GET /-/ready answers 200."""
    binary = binary or find_binary()
    if binary is None:
        raise FileNotFoundError("prometheus-alertmanager is not installed (scripts/setup)")
    workdir = tempfile.mkdtemp(prefix="am-", dir=tmpdir)
    config = os.path.join(workdir, "alertmanager.yml")
    with open(config, "w") as f:
        f.write(CONFIG)
    last_error = None
    for _ in range(3):  # a free port may be taken by someone else before we bind it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(os.path.join(workdir, "alertmanager.log"), "ab")
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.path={workdir}/data",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.time() + ready_timeout
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return Alertmanager(proc, url, workdir)
            except OSError as e:
                last_error = e
            time.sleep(0.1)
        Alertmanager(proc, url, workdir).stop()
    with open(os.path.join(workdir, "alertmanager.log"), "rb") as f:
        tail = f.read()[-2000:].decode("utf-8", "replace")
    raise RuntimeError(f"alertmanager did not become ready ({last_error}):\n{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1)
    args = ap.parse_args()
    binary = find_binary()
    if binary is None:
        print("SKIP: prometheus-alertmanager is not installed (run scripts/setup)",
              file=sys.stderr, flush=True)
        return 77
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    tmpdir = tempfile.mkdtemp(prefix="vigil-am-")
    instances = []
    try:
        for _ in range(args.count):
            instances.append(start(tmpdir, binary))
            print(f"URL {instances[-1].url}", flush=True)
        stop.wait()
    finally:
        for am in instances:
            am.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
