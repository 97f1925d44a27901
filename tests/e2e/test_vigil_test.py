#!/usr/bin/env python3
"""`vigil test FILE.test.yml...`: rule unit tests (docs/language-notes.md, "Rule unit tests").

Usage: test_vigil_test.py --vigil PATH [--root REPO]
Writes rules and test files into a temp directory and checks exit codes (0 all pass, 1 a case
fails or the rules do not compile, 2 a malformed test file) and what is printed: PASS/FAIL per
case, expected vs produced records with their differences, `N passed, M failed`.
"""
import os
import subprocess

from vigil_e2e import Suite, check

suite = Suite(__doc__)

CARD_RULES = """
stream txn (card string, amount float, merchant string, at timestamp)
  event time at
  out of order 5s

rule card_testing
  from txn
  partition by card
  pattern small -> large
  define small as amount < 1.00, large as amount >= 500 and merchant != small.merchant
  within 10m
  emit first = small.amount
  labels { severity: "critical" }
  annotations { summary: "card {card}: {small.amount} then {large.amount}" }
"""

CARD_INPUT = """
    input:
      txn:
        - {at: +0s, event: {card: "4111", amount: 0.5, merchant: a}}
        - {at: +2m, event: {card: "4111", amount: 900, merchant: b}}
"""


def card_test(expect, extra=""):
    """A test file for CARD_RULES with one case: CARD_INPUT and `expect` (YAML text)."""
    return ("rule_files: [r.vgl]\nstart: 2024-01-01T00:00:00Z\ntests:\n"
            "  - name: small then large\n" + extra + CARD_INPUT + "    expect:\n" + expect)


GOOD_EXPECT = """      - rule: card_testing
        kind: match
        at: +2m
        key: {card: "4111"}
        fields: {first: 0.5}
        labels: {severity: critical}
        annotations: {summary: "card 4111: 0.5 then 900"}
"""


def vigil_test(c, *files):
    """`vigil test FILES` in c.tmp, the files named relative to it (as the output then is)."""
    files = [os.path.relpath(f, c.tmp) for f in files]
    return subprocess.run([c.vigil, "test", *files], capture_output=True, text=True, timeout=60,
                          cwd=c.tmp)


def expect_exit(p, code):
    check(p.returncode == code,
          f"exit {p.returncode}, expected {code}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")


@suite.test
def passing_file_exits_0(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT)))
    expect_exit(p, 0)
    check("PASS t.test.yml: small then large" in p.stdout, p.stdout)
    check(p.stdout.rstrip().endswith("1 passed, 0 failed"), p.stdout)


@suite.test
def wrong_expectation_shows_expected_vs_got(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT.replace("0.5}", "0.6}"))))
    expect_exit(p, 1)
    out = p.stdout
    check("FAIL t.test.yml:4: small then large" in out, out)
    check("expected records, not produced (1):" in out, out)
    check("fields: {first: 0.6}" in out, out)          # the expectation as written
    check("closest produced: {kind: match, rule: card_testing, at: +2m" in out, out)
    check("fields.first: expected 0.6, got 0.5" in out, out)
    check("produced records, not expected (1, 1 shown above as closest)" in out, out)
    check(out.rstrip().endswith("0 passed, 1 failed"), out)


@suite.test
def wrong_time_is_shown_as_offsets(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT.replace("at: +2m", "at: +3m"))))
    expect_exit(p, 1)
    check("at: expected 1704067380000 (+3m, 2024-01-01T00:03:00Z), got 1704067320000 "
          "(+2m, 2024-01-01T00:02:00Z)" in p.stdout, p.stdout)


@suite.test
def unexpected_record_fails(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test("      []\n")))
    expect_exit(p, 1)
    check("produced records, not expected (1):" in p.stdout, p.stdout)
    check('key: {card: "4111"}' in p.stdout, p.stdout)


@suite.test
def the_count_must_match(c):
    c.write("r.vgl", CARD_RULES)
    # The same (loose) expectation twice: only one record satisfies them.
    p = vigil_test(c, c.write("t.test.yml", card_test(
        "      - {rule: card_testing}\n      - {rule: card_testing}\n")))
    expect_exit(p, 1)
    check("expected records, not produced (1):" in p.stdout, p.stdout)
    check("(1 record(s) produced, 2 expected)" in p.stdout, p.stdout)


@suite.test
def a_loose_expectation_does_not_steal_the_record_a_strict_one_needs(c):
    c.write("r.vgl", CARD_RULES)
    t = c.write("t.test.yml", """rule_files: [r.vgl]
tests:
  - input:
      txn:
        - {at: +0s, event: {card: "1", amount: 0.5, merchant: a}}
        - {at: +1s, event: {card: "2", amount: 0.5, merchant: a}}
        - {at: +2s, event: {card: "1", amount: 600, merchant: b}}
        - {at: +3s, event: {card: "2", amount: 700, merchant: b}}
    expect:
      - {rule: card_testing}
      - {rule: card_testing, key: {card: "1"}}
""")
    p = vigil_test(c, t)
    expect_exit(p, 0)


@suite.test
def ordered_compares_positions(c):
    c.write("r.vgl", CARD_RULES)
    body = """rule_files: [r.vgl]
tests:
  - ordered: ORDERED
    input:
      txn:
        - {at: +0s, event: {card: "1", amount: 0.5, merchant: a}}
        - {at: +1s, event: {card: "1", amount: 600, merchant: b}}
        - {at: +2s, event: {card: "2", amount: 0.5, merchant: a}}
        - {at: +3s, event: {card: "2", amount: 700, merchant: b}}
    expect:
      - {rule: card_testing, key: {card: "2"}}
      - {rule: card_testing, key: {card: "1"}}
"""
    expect_exit(vigil_test(c, c.write("u.test.yml", body.replace("ORDERED", "false"))), 0)
    p = vigil_test(c, c.write("o.test.yml", body.replace("ORDERED", "true")))
    expect_exit(p, 1)
    check("in order" in p.stdout, p.stdout)


@suite.test
def malformed_yaml_exits_2_with_a_location(c):
    c.write("r.vgl", CARD_RULES)
    t = c.write("t.test.yml", "rule_files: [r.vgl]\ntests:\n  - name: x\n    input: {txn: [\n")
    p = vigil_test(c, t)
    expect_exit(p, 2)
    check("t.test.yml:5:1: error: invalid YAML" in p.stderr, p.stderr)


@suite.test
def unknown_key_exits_2_at_the_key(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT.replace("fields:", "feilds:"))))
    expect_exit(p, 2)
    check("t.test.yml:15:9: error: expected record: unknown key 'feilds'" in p.stderr, p.stderr)


@suite.test
def bad_offset_exits_2(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT.replace("+2m", "+2 minutes"))))
    expect_exit(p, 2)
    check("'+2 minutes' is not an offset" in p.stderr, p.stderr)


@suite.test
def unknown_names_exit_2(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("a.test.yml", card_test(GOOD_EXPECT.replace(
        "rule: card_testing", "rule: card_test"))))
    expect_exit(p, 2)
    check("a.test.yml:11:15: error: rule: no rule 'card_test' in the rules files (rules: card_testing)"
          in p.stderr, p.stderr)
    p = vigil_test(c, c.write("b.test.yml", card_test(GOOD_EXPECT).replace("txn:", "tx:")))
    expect_exit(p, 2)
    check("input: no stream 'tx' in the rules files (streams: txn)" in p.stderr, p.stderr)


@suite.test
def an_event_needs_a_time(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT).replace("at: +0s, ", "")))
    expect_exit(p, 2)
    check("input event: no time: give `at:`" in p.stderr, p.stderr)


@suite.test
def a_value_json_cannot_hold_exits_2_at_the_value(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml",
                              card_test(GOOD_EXPECT).replace("amount: 900", "amount: 1e999")))
    expect_exit(p, 2)
    check("t.test.yml:9:51: error: event: a map key must be a name, and numbers must be finite"
          in p.stderr, p.stderr)


@suite.test
def a_nested_event_time_field_is_filled(c):
    c.write("r.vgl", """
stream s (k string, meta.ts timestamp) event time meta.ts
rule r from s partition by k pattern a -> b define a as k == "x", b as k == "x"
  emit seen = a.meta.ts
""")
    t = c.write("t.test.yml", """rule_files: [r.vgl]
start: 1000
tests:
  - input:
      s:
        - {at: +0s, event: {k: x, meta: {host: h}}}
        - {at: +5s, event: {k: x}}
    expect:
      - {rule: r, at: +5s, fields: {seen: 1000}, events: {a: [{meta: {host: h, ts: 1000}}]}}
""")
    p = vigil_test(c, t)
    expect_exit(p, 0)


@suite.test
def processing_time_streams_are_rejected(c):
    c.write("r.vgl", "stream s (x int)\nrule r from s pattern a define a as x > 1\n")
    t = c.write("t.test.yml", "rule_files: [r.vgl]\ntests:\n  - input:\n      s:\n"
                "        - {at: +0s, event: {x: 2}}\n")
    p = vigil_test(c, t)
    expect_exit(p, 2)
    check("t.test.yml:4:7: error: input: stream 's' has no `event time`" in p.stderr, p.stderr)


@suite.test
def rules_error_exits_1_with_the_diagnostics(c):
    c.write("r.vgl", CARD_RULES.replace("amount >= 500", "amout >= 500"))
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT)))
    expect_exit(p, 1)
    check("r.vgl:10:" in p.stderr and "unknown field 'amout'" in p.stderr, p.stderr)
    check("FAIL t.test.yml: the rules files do not compile" in p.stdout, p.stdout)
    check("0 passed, 1 failed" in p.stdout, p.stdout)


@suite.test
def a_malformed_file_does_not_stop_the_others(c):
    c.write("r.vgl", CARD_RULES)
    good = c.write("good.test.yml", card_test(GOOD_EXPECT))
    bad = c.write("bad.test.yml", "tests: [")
    missing = c.path("missing.test.yml")
    p = vigil_test(c, bad, good, missing)
    expect_exit(p, 2)
    check("1 passed, 0 failed" in p.stdout, p.stdout)
    check("bad.test.yml:1:" in p.stderr and "missing.test.yml: error: cannot read" in p.stderr, p.stderr)


@suite.test
def unexpected_dead_letters_fail(c):
    c.write("r.vgl", CARD_RULES)
    p = vigil_test(c, c.write("t.test.yml", card_test(GOOD_EXPECT).replace(
        "        - {at: +2m", "        - raw: 'not json'\n        - {at: +2m")))
    expect_exit(p, 1)
    check("produced dead letters, not expected (1):" in p.stdout, p.stdout)
    check("reason: \"line 2: invalid JSON" in p.stdout, p.stdout)


FEATURE_RULES = """
stream s (k string, v float, t timestamp) event time t out of order 1s late to audit
stream m (host string, v float, t timestamp) event time t
sink audit file (path "never-written.jsonl")
sink pager stdout

rule ab
  from s
  partition by k
  pattern a -> b
  define a as v < 1, b as v > 100
  within 5m
  emit first = a.v
  to pager, audit
  on timeout

rule hot
  from m
  partition by host
  window 1m
  compute avg(v) as avg_v, count() as n
  when avg_v > 90 for 2m
  no data after 5m
  annotations { summary: "{host} at {avg_v}" }
"""

FEATURE_TEST = """rule_files: [f.vgl]
start: 2024-01-01T00:00:00Z
tests:
  - name: match, timeout, late, firing, nodata
    input:
      s:
        - {at: +0s, event: {k: x, v: 0.5}}
        - {at: +1m, event: {k: x, v: 500}}
        - {at: +2m, event: {k: y, v: 0.25}}
        - {at: +3m, event: {k: z, v: 7}}
        - {at: +1m, event: {k: z, v: 8}}          # 2m behind: late
      m:
        - {at: +0s, event: {host: h, v: 95}}
        - {at: +1m, event: {host: h, v: 95}}
        - {at: +2m, event: {host: h, v: 97}}
        - {at: +3m, event: {host: h, v: 99}}
    expect:
      - {rule: ab, kind: match, at: +1m, key: {k: x}, fields: {first: 0.5},
         events: {a: [{v: 0.5}], b: [{v: 500}]}, sinks: [pager, audit]}
      - {rule: ab, kind: timeout, at: +7m, key: {k: y}, fields: {first: 0.25},
         sinks: [audit, pager]}
      - {kind: late, stream: s, at: +1m, sinks: [audit]}
      # windows end at +1m, +2m, +3m: true for 2m at the one ending at +3m
      - {rule: hot, kind: firing, at: +3m, key: {host: h},
         fields: {avg_v: 97, n: 1, window_start: +2m, window_end: 2024-01-01T00:03:00Z},
         annotations: {summary: "h at 97"}}
      # the last window record ends at +4m: no record for 5m after it
      - {rule: hot, kind: nodata, at: +9m, key: {host: h}}

  - name: resolved
    input:
      m:
        - {at: +0s, event: {host: h, v: 95}}
        - {at: +1m, event: {host: h, v: 95}}
        - {at: +2m, event: {host: h, v: 95}}
        - {at: +3m, event: {host: h, v: 10}}
    expect:
      - {rule: hot, kind: firing, at: +3m}
      - {rule: hot, kind: resolved, at: +4m, fields: {avg_v: 10}}
"""


@suite.test
def every_record_kind(c):
    c.write("f.vgl", FEATURE_RULES)
    p = vigil_test(c, c.write("f.test.yml", FEATURE_TEST))
    expect_exit(p, 0)
    check("2 passed, 0 failed" in p.stdout, p.stdout)
    # Sinks are captured, not opened: the file sink wrote nothing.
    check(not os.path.exists(c.path("never-written.jsonl")), "the file sink was written")
    # And each expectation can fail: a wrong kind is reported.
    p = vigil_test(c, c.write("g.test.yml", FEATURE_TEST.replace("kind: nodata", "kind: resolved")))
    expect_exit(p, 1)
    check("kind: expected resolved, got nodata" in p.stdout, p.stdout)


if __name__ == "__main__":
    suite.main()
