#!/usr/bin/env python3
"""End-to-end tests of the network sinks through `vigil run` (language.md §3): a `webhook`
sink against a local receiver that fails before it recovers, headers from the environment,
and an `alertmanager` sink against a real Alertmanager (skipped when prometheus-alertmanager
is not installed). The sinks' failure paths are covered by tests/unit/alerting.

Usage: test_sinks_network.py --vigil PATH [--root REPO] [--filter TEXT]
"""
import json
import os
import subprocess
import time

import alertmanager_harness
from http_receiver import Receiver
from vigil_e2e import Suite, check, read_records

suite = Suite(__doc__, filter=True, show_ok=True)

RULES = """\
stream txn (card string, amount float, at timestamp)
  event time at
  out of order 1s

sink hook webhook (url "{url}/alerts", timeout 2s, retries 8, backoff 50ms,
                   headers "X-Team: ${{VIGIL_E2E_TEAM}}")
sink audit file (path "audit.jsonl")

rule big
  from txn
  partition by card
  pattern a
  define a as amount >= 500
  labels {{ severity: "page" }}
  annotations {{ summary: "card {{card}}: {{a.amount}}" }}
  to hook, audit
"""


def run_with_env(c, env, *args):
    """`vigil run ARGS` in c.tmp with environment env (Ctx.run inherits ours)."""
    return subprocess.run([c.vigil, "run", *args], capture_output=True, text=True, timeout=120,
                          cwd=c.tmp, env=env, stdin=subprocess.DEVNULL)


def events(n):
    return [{"card": f"c{i}", "amount": 900.0 + i, "at": 1000 + i} for i in range(n)]


@suite.test
def webhook_delivers_every_record_after_failures(c):
    rx = Receiver(script="500x2,close,429").start()
    try:
        rules = c.write("r.vgl", RULES.format(url=rx.url))
        ev = c.events("txn.jsonl", events(40))
        env = dict(os.environ, VIGIL_E2E_TEAM="fraud-team-7")
        p = run_with_env(c, env, rules, "--input", f"txn={ev}")
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-1500:]}")
        audit = read_records(c.path("audit.jsonl"))
        check(len(audit) == 40, f"{len(audit)} records in the file sink")
        got = {}
        for req in rx.requests():
            if req["status"] != 200:
                continue
            rec = json.loads(req["body"])
            check(req["headers"].get("x-vigil-record-id") == rec["id"], req["headers"])
            check(req["headers"].get("x-team") == "fraud-team-7", req["headers"])
            check(got.get(rec["id"], req["body"]) == req["body"], "same id, different body")
            got[rec["id"]] = req["body"]
        want = {r["id"]: r for r in audit}
        check(set(got) == set(want), f"webhook got {len(got)} records, file {len(want)}")
        for rid, body in got.items():
            check(json.loads(body) == want[rid], f"record {rid} differs from the file's")
        failures = [r["status"] for r in rx.requests() if r["status"] != 200]
        check(sorted(map(str, failures)) == ["429", "500", "500", "close"], failures)
        check("fraud-team-7" not in p.stderr, "a header value reached the log")
        return f"{len(got)} records; failures answered: {failures}"
    finally:
        rx.stop()


@suite.test
def unset_header_variable_stops_the_run_with_its_name(c):
    rules = c.write("r.vgl", RULES.format(url="http://127.0.0.1:9"))
    ev = c.events("txn.jsonl", events(1))
    env = {k: v for k, v in os.environ.items() if k != "VIGIL_E2E_TEAM"}
    p = run_with_env(c, env, rules, "--input", f"txn={ev}")
    check(p.returncode != 0, "a run without the header's variable should fail")
    check("environment variable 'VIGIL_E2E_TEAM'" in p.stderr and "sink 'hook'" in p.stderr,
          p.stderr)
    check(p.stdout == "", p.stdout)


AM_RULES = """\
stream metrics (host string, cpu float, at timestamp)
  event time at
  out of order 1s

sink pager alertmanager (url "{url}", external_url "http://vigil.test")

rule cpu_hot
  from metrics
  partition by host
  when cpu > 90 for 2s
  labels {{ severity: "page" }}
  annotations {{ summary: "{{host}} CPU {{cpu}}" }}
  to pager
"""


@suite.test
def alertmanager_holds_the_firing_alerts(c):
    if alertmanager_harness.find_binary() is None:
        return "skipped: prometheus-alertmanager is not installed (scripts/setup)"
    am = alertmanager_harness.start(c.tmp)
    try:
        rules = c.write("r.vgl", AM_RULES.format(url=am.url))
        now = int(time.time() * 1000)
        ev = []
        for i in range(6):  # web-1 hot for 5 s: fires; web-2 cool then hot for 1 s: does not
            ev.append({"host": "web-1", "cpu": 95.0, "at": now - 6000 + i * 1000})
            ev.append({"host": "web-2", "cpu": 50.0 if i < 4 else 97.0, "at": now - 6000 + i * 1000})
        events_path = c.events("metrics.jsonl", ev)
        p = c.run(rules, "--input", f"metrics={events_path}", timeout=120)
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-1500:]}")
        alerts = am.alerts()
        by_host = {a["labels"].get("host"): a for a in alerts}
        check(set(by_host) == {"web-1"}, f"alerts: {[a['labels'] for a in alerts]}")
        a = by_host["web-1"]
        check(a["labels"] == {"alertname": "cpu_hot", "host": "web-1", "severity": "page"},
              a["labels"])
        check(a["annotations"].get("summary", "").startswith("web-1 CPU 95"), a["annotations"])
        check(a["generatorURL"] == "http://vigil.test/rules/cpu_hot", a["generatorURL"])
        check(a["status"]["state"] in ("active", "unprocessed"), a["status"])
        return f"alert {a['labels']} {a['status']['state']}"
    finally:
        am.stop()


if __name__ == "__main__":
    suite.main()
