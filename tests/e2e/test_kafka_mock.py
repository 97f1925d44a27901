"""End-to-end tests of the kafka-mock program (tools/kafka_mock): a mock Kafka cluster in its
own process that other processes use through its bootstrap address.

    python3 tests/e2e/test_kafka_mock.py --vigil build/vigil [--kafka-mock build/kafka-mock]

kafka-mock is looked for beside the vigil binary and one directory up (build/src/vigil ->
build/kafka-mock) unless --kafka-mock is given.
"""
import json
import os
import queue
import signal
import subprocess
import threading
import time

from vigil_e2e import Suite, check, jsonl

suite = Suite(__doc__)
suite.option("--kafka-mock", default=None, metavar="PATH", help="the kafka-mock binary")

TXN = [{"card": f"c{i % 4}", "amount": i * 10, "n": i} for i in range(20)]


def binary(c):
    if c.args.kafka_mock:
        return os.path.abspath(c.args.kafka_mock)
    here = os.path.dirname(c.vigil)
    for d in (here, os.path.dirname(here)):
        p = os.path.join(d, "kafka-mock")
        if os.path.exists(p):
            return p
    raise AssertionError(f"kafka-mock not found near {c.vigil} (use --kafka-mock)")


class Mock:
    """A running kafka-mock: lines of its standard output arrive on a queue."""

    def __init__(self, c, *args):
        self.p = subprocess.Popen([binary(c), *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=c.tmp)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout=20):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("kafka-mock printed nothing in time")
        if line is None:
            raise AssertionError(f"kafka-mock ended early: {self.p.stderr.read()[-500:]}")
        return line

    def start(self):
        """Reads the bootstrap line, the topic lines and `ready`; returns (bootstrap, topics)."""
        first = self.line()
        check(first.startswith("bootstrap="), f"first line {first!r}")
        bootstrap, topics = first.split("=", 1)[1], {}
        while True:
            line = self.line()
            if line == "ready":
                return bootstrap, topics
            check(line.startswith("topic="), f"unexpected line {line!r}")
            name, parts = line.split(" ")
            topics[name.split("=", 1)[1]] = int(parts.split("=", 1)[1])

    def stop(self):
        """SIGTERM; returns (exit status, standard error)."""
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("kafka-mock did not stop on SIGTERM")
        return self.p.returncode, self.p.stderr.read()


def consume(c, bootstrap, topic, *extra, timeout=60):
    p = subprocess.run([binary(c), "--bootstrap", bootstrap, "--consume", topic, *extra],
                       capture_output=True, text=True, timeout=timeout)
    check(p.returncode == 0, f"--consume exit {p.returncode}: {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


@suite.test
def serves_topics_and_loads_until_stopped(c):
    txn = c.events("txn.jsonl", TXN)
    raw = c.write("raw.jsonl", '{"a":1}\nnot json\n\n{"a":3}\n')
    m = Mock(c, "--topic", "txn=3", "--topic", "alerts=2", "--load", f"txn={txn}:card",
             "--load", f"raw={raw}")
    try:
        bootstrap, topics = m.start()
        check(topics == {"txn": 3, "alerts": 2, "raw": 1}, f"topics {topics}")
        got = consume(c, bootstrap, "txn")
        check(len(got) == len(TXN), f"{len(got)} records of txn, want {len(TXN)}")
        check(sorted(r["value"] for r in got) == sorted(json.dumps(e) for e in TXN),
              "txn values differ from the file's lines")
        partition_of = {}
        for r in got:
            card = json.loads(r["value"])["card"]
            check(r["key"] == card, f"key {r['key']!r} for card {card}")
            check(partition_of.setdefault(card, r["partition"]) == r["partition"],
                  f"card {card} in two partitions")
            check(0 <= r["partition"] < 3, f"partition {r['partition']}")
        # Within a partition, records keep the file's order.
        for p in range(3):
            ns = [json.loads(r["value"])["n"] for r in got if r["partition"] == p]
            check(ns == sorted(ns), f"partition {p} out of order: {ns}")
        # Unkeyed lines go as they are (blank lines skipped), in order.
        rawgot = consume(c, bootstrap, "raw")
        check([r["value"] for r in rawgot] == ['{"a":1}', "not json", '{"a":3}'],
              f"raw: {rawgot}")
        check([r["offset"] for r in rawgot] == [0, 1, 2], f"raw offsets {rawgot}")
        check(consume(c, bootstrap, "alerts") == [], "alerts is not empty")
    finally:
        rc, err = m.stop()
    check(rc == 0, f"exit {rc} after SIGTERM: {err}")
    check("loaded txn 20 records" in err and "loaded raw 3 records" in err, err)


@suite.test
def keyed_records_land_in_the_same_partitions_every_time(c):
    txn = c.events("txn.jsonl", TXN)
    placements = []
    for _ in range(2):
        m = Mock(c, "--brokers", "2", "--topic", "txn=4", "--load", f"txn={txn}:card")
        try:
            bootstrap, _ = m.start()
            check(bootstrap.count(",") == 1, f"2 brokers, bootstrap {bootstrap}")
            placements.append(sorted((r["value"], r["partition"], r["offset"])
                                     for r in consume(c, bootstrap, "txn")))
        finally:
            m.stop()
    check(placements[0] == placements[1], "the two runs placed records differently")
    check(len({p for _, p, _ in placements[0]}) > 1, "every key in one partition")


@suite.test
def client_mode_loads_into_a_running_cluster_and_waits_for_records(c):
    m = Mock(c, "--topic", "in=2")
    try:
        bootstrap, _ = m.start()
        waiter = subprocess.Popen([binary(c), "--bootstrap", bootstrap, "--consume", "in",
                                   "--count", "5", "--timeout", "30"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        events = c.events("five.jsonl", TXN[:5])
        load = subprocess.run([binary(c), "--bootstrap", bootstrap, "--load", f"in={events}"],
                              capture_output=True, text=True, timeout=60)
        check(load.returncode == 0, f"client load exit {load.returncode}: {load.stderr}")
        check("loaded in 5 records" in load.stderr, load.stderr)
        out, err = waiter.communicate(timeout=40)
        check(waiter.returncode == 0, f"--count 5 exit {waiter.returncode}: {err}")
        check(len(out.splitlines()) == 5, out)
        # Unkeyed lines are spread round-robin: 3 to partition 0, 2 to partition 1.
        parts = sorted(json.loads(line)["partition"] for line in out.splitlines())
        check(parts == [0, 0, 0, 1, 1], f"partitions {parts}")
        # Too few records within the timeout: exit 1.
        short = subprocess.run([binary(c), "--bootstrap", bootstrap, "--consume", "in",
                                "--count", "6", "--timeout", "1"],
                               capture_output=True, text=True, timeout=30)
        check(short.returncode == 1 and "read 5 records" in short.stderr,
              f"exit {short.returncode}: {short.stderr}")
    finally:
        m.stop()


@suite.test
def bad_arguments_and_inputs_are_clear_errors(c):
    def run(*args):
        return subprocess.run([binary(c), *args], capture_output=True, text=True, timeout=60,
                              cwd=c.tmp)

    p = run("--topic", "txn")
    check(p.returncode == 2 and "NAME=PARTITIONS" in p.stderr, f"{p.returncode}: {p.stderr}")
    p = run("--topic", "txn=0")
    check(p.returncode == 2, f"{p.returncode}: {p.stderr}")
    p = run("--load", "txn=missing.jsonl")
    check(p.returncode == 1 and "missing.jsonl" in p.stderr, f"{p.returncode}: {p.stderr}")
    events = c.events("nokey.jsonl", [{"card": "c1"}, {"amount": 5}])
    p = run("--load", f"txn={events}:card")
    check(p.returncode == 1 and f"{events}:2: no field 'card'" in p.stderr,
          f"{p.returncode}: {p.stderr}")
    p = run("--consume", "txn")
    check(p.returncode == 2, f"--consume without --bootstrap: {p.returncode}: {p.stderr}")


if __name__ == "__main__":
    suite.main()
