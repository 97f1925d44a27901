#!/usr/bin/env python3
"""End-to-end tests of `vigil ctl` (src/commands.h) against the gRPC admin API served by
admin-demo-server (tests/e2e/admin_demo_server.cc: the real AdminServer over a fake job that
compiles what is deployed): output, JSON output, exit codes (0 ok, 1 deploy rejected, 2 usage,
3 cannot reach / refused / job error), the bearer token, TLS, and deploy diagnostics identical
to `vigil check`'s.

Usage: test_ctl.py --vigil PATH [--root REPO] [--demo-server PATH] [--filter TEXT]
The demo server is looked for beside the vigil binary and one directory up (build/).
"""
import json
import os
import shutil
import socket
import subprocess

from vigil_e2e import Suite, check

suite = Suite(__doc__, filter=True)
suite.option("--demo-server", default="", metavar="PATH", help="admin-demo-server binary")

TOKEN = "e2e-t0ken.with~symbols"

CHANGED = """\
stream txn (card string, amount float, merchant string, at timestamp)
  event time at
  out of order 5s

rule card_testing
  from txn
  partition by card
  pattern small -> large
  define small as amount < 2.00, large as amount >= 500
  within 10m

rule big_spender
  from txn
  partition by card
  when amount > 10000
"""

BAD = """\
stream txn (card string, amount float, at timestamp)
  event time at

rule broken
  from txn
  partition by card
  when amout > 5
"""


def demo_server_path(c):
    if c.args.demo_server:
        return c.args.demo_server
    here = os.path.dirname(os.path.realpath(c.vigil))
    for d in (here, os.path.dirname(here)):
        p = os.path.join(d, "admin-demo-server")
        if os.path.exists(p):
            return p
    raise AssertionError(f"admin-demo-server not found beside {c.vigil}; build it "
                         "(cmake --build build --target admin-demo-server) or pass --demo-server")


class Server:
    """admin-demo-server in the background, serving the example card_testing rules."""

    def __init__(self, c, *args):
        self.p = subprocess.Popen([demo_server_path(c), *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  cwd=c.root)
        line = self.p.stdout.readline()
        if not line.startswith("listening on "):
            self.p.kill()
            raise AssertionError(f"demo server did not start: {line!r} {self.p.stderr.read()}")
        self.address = line.split()[-1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()  # it stops when standard input ends
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def ctl(c, *args, cwd=None):
    return subprocess.run([c.vigil, "ctl", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd or c.tmp)


def token_file(c, text=TOKEN + "\n", name="token"):
    return c.write(name, text)


@suite.test
def status_as_a_table_and_as_json(c):
    with Server(c) as s:
        p = ctl(c, "--admin", s.address, "status")
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        lines = p.stdout.splitlines()
        check(lines[0] == "job: up 12m34s, parallelism 2", p.stdout)
        check(lines[1].startswith("checkpoints: last #12 at 2024-05-01T10:00:00.000Z"), p.stdout)
        header = next(l for l in lines if l.startswith("RULE "))
        check(header.split() == ["RULE", "KIND", "STREAM", "EVENTS", "EVENTS/S", "MATCHES",
                                 "TIMEOUTS", "PARTIAL", "KEYS", "DROPPED", "FIRING"], header)
        row = lines[lines.index(header) + 1].split()
        check(row[:4] == ["card_testing", "pattern", "txn", "48211"], row)
        check(any(l.split()[:2] == ["txn", "48211"] for l in lines), p.stdout)

        j = ctl(c, "--admin", s.address, "--output", "json", "status")
        check(j.returncode == 0, j.stderr)
        doc = json.loads(j.stdout)
        check(doc["rules"][0]["name"] == "card_testing", doc)
        check(doc["streams"][0]["events"] == 48211, doc)
        check(doc["checkpoint"]["last_id"] == 12, doc)
        # Options of ctl may also come after the command.
        after = ctl(c, "status", "--admin", s.address)
        check(after.returncode == 0 and after.stdout == p.stdout, after.stderr)


@suite.test
def the_token_is_required_and_checked(c):
    with Server(c, "--token-file", token_file(c)) as s:
        p = ctl(c, "--admin", s.address, "status")
        check(p.returncode == 3, f"exit {p.returncode}")
        check("refused the call: it needs a token (--admin-token-file)" in p.stderr, p.stderr)
        check(p.stdout == "", p.stdout)
        wrong = token_file(c, "not-the-token\n", "wrong")
        p = ctl(c, "--admin", s.address, "--admin-token-file", wrong, "savepoint")
        check(p.returncode == 3, f"exit {p.returncode}")
        check("the admin API refused the token" in p.stderr, p.stderr)
        check(TOKEN not in p.stderr and "not-the-token" not in p.stderr, p.stderr)
        p = ctl(c, "--admin", s.address, "--admin-token-file", c.path("token"), "status")
        check(p.returncode == 0, p.stderr)
        p = ctl(c, "--admin", s.address, "--admin-token-file", c.path("missing"), "status")
        check(p.returncode == 2 and "cannot read the token file" in p.stderr, p.stderr)


@suite.test
def deploy_applies_and_says_what_changed(c):
    with Server(c) as s:
        rules = c.write("new.vgl", CHANGED)
        p = ctl(c, "--admin", s.address, "deploy", rules)
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        check(p.stdout == "applied at barrier 100: changed card_testing (state dropped); "
              "added big_spender\n", p.stdout)
        status = json.loads(ctl(c, "--admin", s.address, "--output", "json", "status").stdout)
        check([r["name"] for r in status["rules"]] == ["card_testing", "big_spender"], status)
        # The same rules again: nothing changed.
        j = ctl(c, "--admin", s.address, "--output", "json", "deploy", rules)
        check(j.returncode == 0, j.stderr)
        doc = json.loads(j.stdout)
        check(doc["applied"] and doc["barrier_id"] == 101, doc)
        check(doc["unchanged"] == ["card_testing", "big_spender"] and doc["changed"] == [], doc)
        # Back to the example's rules: big_spender goes.
        example = os.path.join(c.root, "examples", "card_testing", "rules.vgl")
        p = ctl(c, "--admin", s.address, "deploy", example)
        check(p.returncode == 0, p.stderr)
        check(p.stdout == "applied at barrier 102: changed card_testing (state dropped); "
              "removed big_spender (state dropped)\n", p.stdout)


@suite.test
def rejected_deploy_prints_check_diagnostics_and_changes_nothing(c):
    c.write("bad.vgl", BAD)
    with Server(c) as s:
        p = ctl(c, "--admin", s.address, "deploy", "bad.vgl")
        check(p.returncode == 1, f"exit {p.returncode}: {p.stderr}")
        check(p.stdout == "", p.stdout)
        chk = subprocess.run([c.vigil, "check", "bad.vgl"], capture_output=True, text=True,
                             cwd=c.tmp)
        check(chk.returncode == 1, chk.stderr)
        check("amout" in chk.stderr, chk.stderr)
        check(p.stderr.startswith(chk.stderr), f"ctl:\n{p.stderr}\ncheck:\n{chk.stderr}")
        check(p.stderr[len(chk.stderr):] ==
              "vigil ctl: the rules were not deployed; the job runs the rules it had\n", p.stderr)
        # JSON: the reply on stdout, still exit 1.
        j = ctl(c, "--admin", s.address, "--output", "json", "deploy", "bad.vgl")
        check(j.returncode == 1, j.stderr)
        doc = json.loads(j.stdout)
        check(not doc["applied"] and doc["diagnostics"] == chk.stderr, doc)
        status = json.loads(ctl(c, "--admin", s.address, "--output", "json", "status").stdout)
        check([r["name"] for r in status["rules"]] == ["card_testing"], status)
        p = ctl(c, "--admin", s.address, "deploy", "nonexistent.vgl")
        check(p.returncode == 2 and "cannot read rules file nonexistent.vgl" in p.stderr,
              p.stderr)


@suite.test
def alerts_by_rule_and_key(c):
    with Server(c) as s:
        p = ctl(c, "--admin", s.address, "alerts")
        check(p.returncode == 0, p.stderr)
        lines = p.stdout.splitlines()
        check(lines[0].split() == ["RULE", "KEY", "SINCE", "LABELS"], p.stdout)
        check(lines[1].split()[:3] == ["card_testing", "card=4111", "2024-05-01T10:07:00.000Z"],
              p.stdout)
        check(lines[2] == "1 alert firing; 7 open partial matches", p.stdout)

        p = ctl(c, "--admin", s.address, "alerts", "--rule", "card_testing", "--key", "card=4111")
        check(p.returncode == 0, p.stderr)
        check("card_testing card=4111: firing since 2024-05-01T10:07:00.000Z; "
              "1 open partial match\n" in p.stdout, p.stdout)
        check("small=1 large=0" in p.stdout, p.stdout)

        j = ctl(c, "--admin", s.address, "--output", "json", "alerts", "--rule", "card_testing",
                "--key", "card=5500")
        check(j.returncode == 0, j.stderr)
        doc = json.loads(j.stdout)
        check(doc["firing"]["total"] == 0 and doc["keys"][0]["key"] == {"card": "5500"}, doc)
        check(doc["keys"][0]["firing"] is False, doc)

        p = ctl(c, "--admin", s.address, "alerts", "--rule", "nope")
        check(p.returncode == 2 and "vigil ctl: unknown rule 'nope'" in p.stderr, p.stderr)
        p = ctl(c, "--admin", s.address, "alerts", "--key", "card=1")
        check(p.returncode == 2 and "--key needs --rule" in p.stderr, p.stderr)
        p = ctl(c, "--admin", s.address, "alerts", "--rule", "card_testing", "--key", "card")
        check(p.returncode == 2 and "expected FIELD=VALUE" in p.stderr, p.stderr)
        p = ctl(c, "--admin", s.address, "alerts", "--limit", "0")
        check(p.returncode == 2, p.stderr)


@suite.test
def savepoint_prints_the_path(c):
    with Server(c) as s:
        p = ctl(c, "--admin", s.address, "savepoint")
        check(p.returncode == 0, p.stderr)
        check(p.stdout == "/var/lib/vigil/savepoints/savepoint-1\n", p.stdout)
        j = ctl(c, "--admin", s.address, "--output", "json", "savepoint")
        check(json.loads(j.stdout) == {"path": "/var/lib/vigil/savepoints/savepoint-2"}, j.stdout)
    with Server(c, "--no-state") as s:
        p = ctl(c, "--admin", s.address, "savepoint")
        check(p.returncode == 3, f"exit {p.returncode}")
        check("vigil ctl: the job answered FAILED_PRECONDITION: the job runs without --state"
              in p.stderr, p.stderr)


@suite.test
def unreachable_and_usage_errors(c):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        p = ctl(c, "--admin", f"127.0.0.1:{port}", "status")
        check(p.returncode == 3, f"exit {p.returncode}")
        check(p.stderr.startswith(f"vigil ctl: cannot reach 127.0.0.1:{port}: "), p.stderr)
        p = ctl(c, "--admin", f":{port}", "status")  # an omitted host is 127.0.0.1
        check(p.stderr.startswith(f"vigil ctl: cannot reach 127.0.0.1:{port}: "), p.stderr)
    for args in (["status"],                                  # no --admin
                 ["--admin", "127.0.0.1:9"],                  # no command
                 ["--admin", "127.0.0.1:9", "reboot"],        # unknown command
                 ["--admin", "127.0.0.1:9", "deploy"],        # no files
                 ["--admin", "", "status"],                   # empty address
                 ["--admin", "127.0.0.1:99999", "status"],    # bad port
                 ["--admin", "127.0.0.1:9", "--timeout", "soon", "status"],
                 ["--admin", "127.0.0.1:9", "--output", "yaml", "status"]):
        p = ctl(c, *args)
        check(p.returncode == 2, f"{args}: exit {p.returncode}: {p.stderr}")


@suite.test
def tls_with_a_self_signed_certificate(c):
    if shutil.which("openssl") is None:
        raise AssertionError("openssl is not installed (scripts/setup installs it)")
    cert, key = c.path("server.crt"), c.path("server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    with Server(c, "--tls-cert", cert, "--tls-key", key, "--token-file", token_file(c)) as s:
        p = ctl(c, "--admin", s.address, "--tls-ca", cert, "--admin-token-file", c.path("token"),
                "status")
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
        check("card_testing" in p.stdout, p.stdout)
        port = s.address.rsplit(":", 1)[1]
        p = ctl(c, "--admin", f"localhost:{port}", "--tls-ca", cert, "--admin-token-file",
                c.path("token"), "status")
        check(p.returncode == 0, f"by name: exit {p.returncode}: {p.stderr}")
        p = ctl(c, "--admin", s.address, "--admin-token-file", c.path("token"), "status")
        check(p.returncode == 3 and "cannot reach" in p.stderr, p.stderr)
        check("E0" not in p.stderr and "Handshake" not in p.stderr, p.stderr)  # no gRPC log
        p = ctl(c, "--admin", s.address, "--tls-ca", key, "status")
        check(p.returncode == 2 and "no PEM certificate" in p.stderr, p.stderr)


if __name__ == "__main__":
    suite.main()
