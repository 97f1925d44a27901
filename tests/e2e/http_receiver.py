"""A local HTTP receiver for sink tests (not a test itself): it answers POSTs as a script says
(errors, hangs, dropped connections, then success) and logs every request it received.

As a program (what the C++ sink tests start):

    python3 http_receiver.py [--port P] [--refuse-for S] [--script STEPS] [--then STATUS]
                             [--log PATH]

prints `PORT <n>` on standard output once it listens, and runs until standard input closes
(its parent went away) or SIGTERM/SIGINT.

- `--port P`: the port (0, the default: any free one). With `--refuse-for S` it starts
  listening only after S seconds, so connections are refused meanwhile (give a port then;
  `PORT` is printed at once).
- `--script STEPS`: how the first requests are answered, in order: comma-separated steps
  `ACTION` or `ACTIONxN` (N requests); ACTION is an HTTP status (`500`, `429`, `400`),
  `hang:SECONDS` (wait, then answer 200: the client has usually given up by then), or
  `close` (drop the connection without answering). E.g. `500x3,hang:2x2,close`.
- `--then STATUS`: the answer once the script is used up (default 200; `500` = never
  recovers).
- `--log PATH`: one JSON object per request, appended when it is answered:
  {"n": 1, "status": 200, "path": "/x", "headers": {"content-type": ...}, "body": "...",
   "time": 1700000000.123}   (header names in lower case; "status" is what was answered or
  "close"). A receiver counts a record as delivered when its status is 2xx (a `hang` answer
  may reach a client that has already timed out: a duplicate from the sender's view).

As a module: Receiver(...) with start(), stop(), url, requests() for Python end-to-end tests.
"""
import argparse
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time


def parse_script(text):
    """'500x3,hang:2,close' -> [('500', None), ('500', None), ('500', None), ('hang', 2.0),
    ('close', None)]."""
    steps = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        action, _, count = part.partition("x")
        n = int(count) if count else 1
        if action.startswith("hang:"):
            step = ("hang", float(action[5:]))
        elif action == "close":
            step = ("close", None)
        else:
            step = (str(int(action)), None)
        steps.extend([step] * n)
    return steps


class Receiver:
    """A threaded HTTP/1.1 server (keep-alive) answering POSTs per a script."""

    def __init__(self, port=0, script="", then=200, log_path=None):
        self.port = port
        self.steps = parse_script(script)
        self.then = int(then)
        self.log_path = log_path
        self._lock = threading.Lock()
        self._n = 0
        self._requests = []
        self._server = None
        self._thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def requests(self):
        """Every request answered so far (dicts as in the log), oldest first."""
        with self._lock:
            return list(self._requests)

    def _next_step(self):
        with self._lock:
            self._n += 1
            if self._n <= len(self.steps):
                return self._n, self.steps[self._n - 1]
            return self._n, (str(self.then), None)

    def _record(self, entry):
        with self._lock:
            self._requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                n, (action, arg) = receiver._next_step()
                entry = {"n": n, "path": self.path, "body": body, "time": time.time(),
                         "headers": {k.lower(): v for k, v in self.headers.items()}}
                if action == "close":
                    entry["status"] = "close"
                    receiver._record(entry)
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                status = 200
                if action == "hang":
                    time.sleep(arg)
                else:
                    status = int(action)
                entry["status"] = status
                receiver._record(entry)
                reply = b'{"ok":true}' if status < 300 else b'{"error":"scripted failure"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up (timeout) and closed the connection

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port():
    """A port nothing listens on right now (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--refuse-for", type=float, default=0.0)
    ap.add_argument("--script", default="")
    ap.add_argument("--then", type=int, default=200)
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.refuse_for > 0 and args.port == 0:
        ap.error("--refuse-for needs --port")
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
    receiver = Receiver(args.port, args.script, args.then, args.log)
    if args.refuse_for > 0:
        print(f"PORT {args.port}", flush=True)
        if stop.wait(args.refuse_for):
            return 0
        receiver.start()
    else:
        receiver.start()
        print(f"PORT {receiver.port}", flush=True)
    stop.wait()
    receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
