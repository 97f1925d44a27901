#!/usr/bin/env python3
"""Deterministic JSON Lines workloads for `vigil run` benchmarks and memory tests.

Usage:
  workload.py fraud  --events N [--keys K] [--jitter MS] [--seed S] [--rules FILE] [--out FILE]
  workload.py expire --events N [--keys K] [--rules FILE] [--out FILE]
  workload.py metrics --events N [--keys K] [--seed S] [--rules FILE] [--out FILE]

fraud:  a `txn` stream of card transactions over K cards (1 ms apart, optionally up to
        JITTER ms out of order, within the stream's 1s bound); the rule `card_testing` looks
        for a tiny amount followed by a large one on the same card within 10 minutes.
expire: a stream `s` of events named "a" only, strictly increasing timestamps; the rule
        `never` (`a -> b within 1s`) opens a partial match on every event and every one of them
        expires: the state must stay flat however long the stream is.
metrics: an SRE workload: a stream `m` of CPU readings from K hosts (default 2000; ~20 ms
        apart, up to 300 ms out of order; a third of the hosts run hot, a seventh swing
        between hot and cool every 2 minutes) under three monitoring rules: a sliding window
        with avg/count/quantile held `for` a minute (`hot`), a `when ... clear when` (`dip`)
        and a pattern over window records (`swing`).

Events go to --out (default standard output); --rules writes the matching rules file.
The same arguments always produce the same bytes.
"""
import argparse
import random
import sys

BASE_MS = 1_700_000_000_000

FRAUD_RULES = """\
stream txn (card string, amount float, merchant string, at timestamp)
  event time at
  out of order 1s

rule card_testing
  from txn
  partition by card
  pattern small -> large
  define
    small as amount < 1.00,
    large as amount >= 500 and merchant != small.merchant
  within 10m
  emit first_amount = small.amount, total = large.amount
  labels { severity: "critical" }
  annotations { summary: "card {card}: {first_amount} then {total}" }
"""

EXPIRE_RULES = """\
stream s (k string, name string, at timestamp)
  event time at

rule never
  from s
  partition by k
  pattern a -> b
  define a as name == "a", b as name == "b"
  within 1s
"""


METRICS_RULES = """\
stream m (host string, value float, at timestamp) event time at out of order 1s

rule hot from m partition by host
  window 1m slide 30s compute avg(value) as cpu, count() as n, quantile(0.9, value) as p90
  when cpu > 84 for 1m keep firing for 30s no data after 3m

rule dip from m partition by host
  when value < 21 for 100ms clear when value > 50

rule swing from m partition by host
  window 1m compute max(value) as peak, min(value) as low
  pattern hi -> lo
  define hi as peak > 100, lo as low < 25
  within 3m
  on timeout
"""


def metrics(args, out):
    rng = random.Random(args.seed)
    hosts = [f"h{i}" for i in range(args.keys)]
    t = 0
    buf = []
    for _ in range(args.events):
        t += rng.randint(0, 40)
        h = rng.randrange(args.keys)
        if h % 7 == 1:  # swings between hot and cool every 2 minutes
            base = 85 if (t // 120000) % 2 else 40
        else:
            base = 85 if h % 3 == 0 else 40
        at = BASE_MS + max(0, t - rng.randint(0, 300))
        buf.append('{"host":"%s","value":%.3f,"at":%d}\n'
                   % (hosts[h], base + rng.uniform(-20, 20), at))
        if len(buf) >= 8192:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


def fraud(args, out):
    rng = random.Random(args.seed)
    merchants = [f"m{i}" for i in range(50)]
    cards = [f"4{i:015d}" for i in range(args.keys)]
    buf = []
    for i in range(args.events):
        r = rng.random()
        if r < 0.05:
            amount = round(rng.random() * 0.99, 2)
        elif r < 0.055:
            amount = 500 + rng.randrange(5000)
        else:
            amount = 1 + rng.randrange(300)
        t = BASE_MS + i
        if args.jitter:
            t -= rng.randrange(args.jitter + 1)
        buf.append('{"card":"%s","amount":%s,"merchant":"%s","at":%d}\n'
                   % (cards[rng.randrange(args.keys)], amount, merchants[rng.randrange(50)], t))
        if len(buf) >= 8192:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


def expire(args, out):
    keys = [f"k{i}" for i in range(args.keys)]
    nkeys = args.keys
    buf = []
    for i in range(args.events):
        buf.append('{"k":"%s","name":"a","at":%d}\n' % (keys[i % nkeys], BASE_MS + i))
        if len(buf) >= 8192:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["fraud", "expire", "metrics"])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=None)
    ap.add_argument("--jitter", type=int, default=0, help="fraud: max ms out of order (<= 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rules", help="write the rules file here")
    ap.add_argument("--out", help="write events here (default: standard output)")
    args = ap.parse_args()
    if args.keys is None:
        args.keys = {"fraud": 10_000, "expire": 1_000, "metrics": 2_000}[args.kind]
    if args.jitter > 1000:
        ap.error("--jitter must be <= 1000 (the stream's out-of-order bound)")
    if args.rules:
        with open(args.rules, "w") as f:
            f.write({"fraud": FRAUD_RULES, "expire": EXPIRE_RULES,
                     "metrics": METRICS_RULES}[args.kind])
    out = open(args.out, "w") if args.out else sys.stdout
    try:
        {"fraud": fraud, "expire": expire, "metrics": metrics}[args.kind](args, out)
    except BrokenPipeError:
        sys.exit(1)
    finally:
        if args.out:
            out.close()


if __name__ == "__main__":
    main()
