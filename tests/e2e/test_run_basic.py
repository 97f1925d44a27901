#!/usr/bin/env python3
"""End-to-end tests of `vigil run` (spec/cli.md): exit codes, standard output holding only
records, the dead-letter output, inputs from files, standard input and `from`, sinks.

Usage: test_run_basic.py --vigil PATH [--root REPO] [--filter TEXT]
Prints one line per failing test, then `N passed, M failed`; exits nonzero on failure.
"""
import json
import os
import subprocess
import time

from vigil_e2e import Suite, check, records

suite = Suite(__doc__, filter=True)

RULES = """\
stream txn (card string, amount float, at timestamp)
  event time at
  out of order 1s

rule card_testing
  from txn
  partition by card
  pattern small -> large
  define small as amount < 1.00, large as amount >= 500
  within 10m
  emit first = small.amount, total = large.amount
  labels { severity: "critical" }
  annotations { summary: "card {card}: {first} then {total}" }
"""

EVENTS = [
    {"card": "c1", "amount": 0.5, "at": 1000},
    {"card": "c2", "amount": 0.7, "at": 1500},
    {"card": "c1", "amount": 900, "at": 2000},
    {"card": "c2", "amount": 10, "at": 2500},
    {"card": "c2", "amount": 600.5, "at": 3000},
]


def expect_exit(p, code):
    check(p.returncode == code,
          f"exit {p.returncode}, expected {code}\nstdout: {p.stdout[-800:]}\nstderr: {p.stderr[-800:]}")


@suite.test
def matches_on_stdout_only_records(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS)
    p = c.run(rules, "--input", f"txn={events}", "--parallelism", "1")
    expect_exit(p, 0)
    recs = records(p.stdout)
    check(len(recs) == 2, f"expected 2 records, got {recs}")
    by_card = {r["key"]["card"]: r for r in recs}
    r1 = by_card["c1"]
    check(r1["rule"] == "card_testing" and r1["kind"] == "match", r1)
    check(r1["time"] == 2000, r1)
    check(r1["fields"] == {"first": 0.5, "total": 900}, r1["fields"])
    check(r1["labels"]["alertname"] == "card_testing" and r1["labels"]["card"] == "c1"
          and r1["labels"]["severity"] == "critical", r1["labels"])
    check(r1["annotations"]["summary"] == "card c1: 0.5 then 900", r1["annotations"])
    check(r1["events"]["small"][0] == EVENTS[0] and r1["events"]["large"][0] == EVENTS[2], r1)
    check(len(r1["id"]) == 16, r1["id"])
    check(by_card["c2"]["events"]["large"][0]["amount"] == 600.5, by_card["c2"])


@suite.test
def ids_are_stable_across_runs(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS)
    a = c.run(rules, "--input", f"txn={events}")
    b = c.run(rules, "--input", f"txn={events}")
    expect_exit(a, 0)
    ids_a = sorted(r["id"] for r in records(a.stdout))
    ids_b = sorted(r["id"] for r in records(b.stdout))
    check(ids_a == ids_b and len(set(ids_a)) == 2, f"{ids_a} vs {ids_b}")


@suite.test
def output_file_and_summary_on_stderr(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS)
    out = c.path("out.jsonl")
    p = c.run(rules, "--input", f"txn={events}", "--output", out)
    expect_exit(p, 0)
    check(p.stdout == "", f"stdout should be empty: {p.stdout!r}")
    check(len(records(open(out).read())) == 2, "two records in --output")
    check("5 events" in p.stderr and "2 matches" in p.stderr, p.stderr)


@suite.test
def output_file_gets_records_while_stdin_stays_open(c):
    # A live input never ends the job: records must reach --output as they happen, not at
    # the next checkpoint or at the end.
    rules = c.write("r.vgl", RULES)
    out = c.path("live.jsonl")
    p = c.start(rules, "--input", "txn=-", "--output", out, stdin=subprocess.PIPE, stdout=None,
                stderr=subprocess.DEVNULL)
    try:
        late_enough = {"card": "c9", "amount": 5, "at": 10000}  # moves the watermark past c1
        p.stdin.write("".join(json.dumps(e) + "\n" for e in EVENTS + [late_enough]))
        p.stdin.flush()
        deadline = time.time() + 5
        n = 0
        while time.time() < deadline and n < 2:
            time.sleep(0.1)
            n = len(records(open(out).read())) if os.path.exists(out) else 0
        check(n == 2, f"{n} records in --output while standard input is open")
    finally:
        p.stdin.close()
        p.wait(timeout=30)


@suite.test
def output_file_starts_empty_on_a_fresh_run(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS)
    out = c.path("out.jsonl")
    with open(out, "w") as f:
        f.write('{"stale": true}\n')
    for _ in range(2):
        expect_exit(c.run(rules, "--input", f"txn={events}", "--output", out), 0)
    recs = records(open(out).read())
    check(len(recs) == 2 and all("stale" not in r for r in recs), f"--output holds {recs}")
    # /dev/null and other non-regular files are written, never truncated.
    expect_exit(c.run(rules, "--input", f"txn={events}", "--output", os.devnull), 0)


@suite.test
def stdin_input(c):
    rules = c.write("r.vgl", RULES)
    data = "\n".join(json.dumps(e) for e in EVENTS) + "\n"
    p = c.run(rules, "--input", "txn=-", stdin=data)
    expect_exit(p, 0)
    check(len(records(p.stdout)) == 2, p.stdout)


@suite.test
def from_file_relative_to_rules_dir(c):
    os.makedirs(c.path("rules"), exist_ok=True)
    rules = c.write("rules/r.vgl", RULES.replace("  out of order 1s\n",
                                                 "  out of order 1s\n  from file(path \"data/txn.jsonl\")\n"))
    os.makedirs(c.path("rules/data"), exist_ok=True)
    c.events("rules/data/txn.jsonl", EVENTS)
    p = c.run(rules, cwd="/")
    expect_exit(p, 0)
    check(len(records(p.stdout)) == 2, p.stdout + p.stderr)


@suite.test
def from_stdin_in_rules(c):
    rules = c.write("r.vgl", RULES.replace("  out of order 1s\n", "  out of order 1s\n  from stdin\n"))
    data = "\n".join(json.dumps(e) for e in EVENTS) + "\n"
    p = c.run(rules, stdin=data)
    expect_exit(p, 0)
    check(len(records(p.stdout)) == 2, p.stdout + p.stderr)


@suite.test
def dead_letter_file_invalid_and_late(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS + [{"card": "c3", "amount": 1, "at": 100}],
                      extra_lines=['{"card": "c3", "amount": "lots", "at": 5000}', "oops"])
    dead = c.path("dead.jsonl")
    p = c.run(rules, "--input", f"txn={events}", "--dead-letter", dead)
    expect_exit(p, 0)
    check(len(records(p.stdout)) == 2, p.stdout)
    dl = records(open(dead).read())
    check(len(dl) == 3, f"dead letters: {dl}")
    late = [d for d in dl if d["kind"] == "late"]
    invalid = [d for d in dl if d["kind"] == "invalid"]
    check(len(late) == 1 and late[0]["stream"] == "txn" and late[0]["time"] == 100
          and late[0]["watermark"] == 1999 and late[0]["event"]["card"] == "c3", late)
    check(len(invalid) == 2, invalid)
    check(invalid[0] == {"kind": "invalid", "stream": "txn", "line": 7,
                         "reason": "line 7: field 'amount': expected float, got string",
                         "input": '{"card": "c3", "amount": "lots", "at": 5000}'}, invalid[0])
    check(invalid[1]["line"] == 8 and invalid[1]["input"] == "oops", invalid[1])
    check("1 late" in p.stderr and "2 invalid" in p.stderr, p.stderr)


@suite.test
def dead_letter_defaults_to_stderr(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS, extra_lines=["[1]"])
    p = c.run(rules, "--input", f"txn={events}")
    expect_exit(p, 0)
    check(len(records(p.stdout)) == 2, p.stdout)
    dl = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
    check(len(dl) == 1 and dl[0]["reason"] == "line 6: not a JSON object", p.stderr)


@suite.test
def late_to_and_timeout_sinks(c):
    rules = c.write("r.vgl", RULES.replace("  out of order 1s\n", "  out of order 1s\n  late to late\n")
                    .replace("within 10m", "within 1s").rstrip("\n")
                    + "\n  on timeout to expired\n"
                    + 'sink late file (path "late.jsonl")\nsink expired file (path "expired.jsonl")\n')
    events = c.events("txn.jsonl", [
        {"card": "a", "amount": 0.1, "at": 10000},
        {"card": "b", "amount": 0.2, "at": 20000},
        {"card": "a", "amount": 900, "at": 100},
        {"card": "b", "amount": 900, "at": 20500},
    ])
    dead = c.path("dead.jsonl")
    p = c.run(rules, "--input", f"txn={events}", "--dead-letter", dead)
    expect_exit(p, 0)
    check(open(dead).read() == "", "late events go to `late to`, not the dead letter")
    late = records(open(c.path("late.jsonl")).read())
    check(len(late) == 1 and late[0]["kind"] == "late" and late[0]["time"] == 100, late)
    expired = records(open(c.path("expired.jsonl")).read())
    check(len(expired) == 1 and expired[0]["kind"] == "timeout" and expired[0]["time"] == 11000
          and expired[0]["key"] == {"card": "a"}, expired)
    out = records(p.stdout)
    check(len(out) == 1 and out[0]["kind"] == "match" and out[0]["key"] == {"card": "b"}, out)


@suite.test
def rules_error_exit_1(c):
    rules = c.write("r.vgl", RULES.replace("amount >= 500", "amout >= 500"))
    events = c.events("txn.jsonl", EVENTS)
    p = c.run(rules, "--input", f"txn={events}")
    expect_exit(p, 1)
    check("error" in p.stderr and "amout" in p.stderr, p.stderr)
    check(p.stdout == "", p.stdout)


@suite.test
def usage_errors_exit_2(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS)
    p = c.run(rules, "--input", f"nosuch={events}")
    expect_exit(p, 2)
    check("unknown stream 'nosuch'" in p.stderr, p.stderr)
    p = c.run(rules, "--input", "txn")
    expect_exit(p, 2)
    check("STREAM=PATH" in p.stderr, p.stderr)
    p = c.run(rules)
    expect_exit(p, 2)
    check("stream 'txn'" in p.stderr and "no input" in p.stderr, p.stderr)
    p = c.run(rules, "--input", f"txn={events}", "--no-such-flag")
    expect_exit(p, 2)


@suite.test
def runtime_errors_exit_3(c):
    rules = c.write("r.vgl", RULES)
    p = c.run(rules, "--input", f"txn={c.path('missing.jsonl')}")
    expect_exit(p, 3)
    check("missing.jsonl" in p.stderr, p.stderr)
    kafka = c.write("k.vgl", RULES.replace(
        "  out of order 1s\n", '  out of order 1s\n  from kafka(brokers "127.0.0.1:9092", topic "t")\n'))
    p = c.run(kafka)
    expect_exit(p, 3)
    check("stream 'txn'" in p.stderr and "kafka" in p.stderr, p.stderr)  # names what failed
    when = c.write("w.vgl", "stream m (host string, value float, at timestamp) event time at\n"
                   "rule hot from m partition by host when value > 90\n")
    events = c.events("m.jsonl", [{"host": "h", "value": 95, "at": 1}])
    p = c.run(when, "--input", f"m={events}")
    expect_exit(p, 0)  # monitoring rules run (MakeRuleOperator)
    check('"kind":"firing"' in p.stdout, p.stdout)


@suite.test
def state_checkpoint_metrics_parallelism_flags_run(c):
    rules = c.write("r.vgl", RULES)
    events = c.events("txn.jsonl", EVENTS)
    p = c.run(rules, "--input", f"txn={events}", "--state", c.path("state"),
              "--checkpoint-interval", "5s", "--metrics", "127.0.0.1:0", "--parallelism", "4")
    expect_exit(p, 0)
    check(len(records(p.stdout)) == 2, p.stdout)
    check("not implemented" not in p.stderr, p.stderr)
    bad = c.run(rules, "--input", f"txn={events}", "--metrics", "9100")
    expect_exit(bad, 2)


@suite.test
def max_partial_matches(c):
    rules = c.write("r.vgl", RULES)
    evs = [{"card": "c", "amount": 0.1 * (i + 1), "at": 1000 + i} for i in range(5)]
    evs.append({"card": "c", "amount": 700, "at": 2000})
    events = c.events("txn.jsonl", evs)
    p = c.run(rules.replace("r.vgl", "r.vgl"), "--input", f"txn={events}",
              "--max-partial-matches", "2")
    expect_exit(p, 0)
    recs = records(p.stdout)
    check(1 <= len(recs) <= 2, recs)


@suite.test
def two_streams_two_inputs(c):
    rules = c.write("r.vgl", RULES + """
stream login (user string, ok bool, at timestamp) event time at
rule brute from login partition by user pattern f{3} define f as not ok
""")
    events = c.events("txn.jsonl", EVENTS)
    logins = c.events("login.jsonl", [{"user": "u", "ok": False, "at": t} for t in (1, 2, 3)])
    p = c.run(rules, "--input", f"txn={events}", "--input", f"login={logins}")
    expect_exit(p, 0)
    recs = records(p.stdout)
    check(sorted(r["rule"] for r in recs) == ["brute", "card_testing", "card_testing"], recs)


if __name__ == "__main__":
    suite.main()
