#!/usr/bin/env python3
"""Exactly-once restart after kill -9 (spec/cli.md, `vigil run` restart).

Generates a deterministic fraud workload (bench/workload.py), runs it uninterrupted with
--output A, then runs it with --state D --checkpoint-interval 50ms --output B, killing the
job with SIGKILL at random (seeded) moments at least 5 times and restarting it each time
until it exits 0. Every restart after a completed checkpoint must say `restored checkpoint`
on standard error; the sorted lines of A and B must be identical. Done at --parallelism 1
and 2. A third case mixes invalid lines and late events into the input and also gives
--dead-letter FILE: after the kills the dead-letter file must be byte-for-byte the one of
the uninterrupted run (it is recorded at checkpoints and cut back on restore, like --output).

Usage: test_kill_restart.py --vigil PATH [--root REPO] [--events N] [--seed S] [--kills K]
Prints one line per case, then `N passed, M failed`; exits nonzero on failure.
"""
import random
import time

from vigil_e2e import Suite, assert_same_lines, check, sorted_lines

suite = Suite(__doc__, tmp_prefix="vigil-kill-", shared_tmp=True)
suite.option("--events", type=int, default=1_500_000)
suite.option("--seed", type=int, default=7)
suite.option("--kills", type=int, default=6)


@suite.setup
def workload(c):
    c.rules, c.input = c.fraud_workload(c.args.events, keys=5000, jitter=300, seed=c.args.seed)
    # The same events with an invalid line every 997 lines and a late one every 1499.
    c.dirty = c.path("dirty.jsonl")
    with open(c.input) as src, open(c.dirty, "w") as out:
        for i, line in enumerate(src):
            out.write(line)
            if i % 997 == 0:
                out.write('{"card":"x","amount":"lots","merchant":"m1","at":1}\n')
            if i % 1499 == 0 and i > 5000:
                out.write('{"card":"late","amount":1.5,"merchant":"m2","at":1000}\n')


def kill_restart(c, parallelism, dead_letter=False):
    rng = random.Random(c.args.seed * 100 + parallelism)
    tag = f"{parallelism}{'d' if dead_letter else ''}"
    a, b = c.path(f"a{tag}.jsonl"), c.path(f"b{tag}.jsonl")
    da, db = c.path(f"dead-a{tag}.jsonl"), c.path(f"dead-b{tag}.jsonl")
    state = c.path(f"state{tag}")
    job = [c.rules, "--input", f"txn={c.dirty if dead_letter else c.input}",
           "--parallelism", str(parallelism)]
    t0 = time.time()
    c.run_to_end(*job, "--output", a, *(["--dead-letter", da] if dead_letter else []))
    duration = time.time() - t0
    # Each run lives a random 6-12% of an uninterrupted run's time (at least 0.1 s: start-up
    # and restore take ~25 ms, and a checkpoint every 50ms then completes): a run can't get
    # further than it lived, so every one of the kills lands before the job could end,
    # however fast the machine is.
    t0 = time.time()
    kills, restores = c.run_with_kills(
        [*job, "--output", b, "--state", state, "--checkpoint-interval", "50ms",
         *(["--dead-letter", db] if dead_letter else [])], state,
        kills=c.args.kills, delay=lambda: max(0.1, rng.uniform(0.06, 0.12) * duration),
        expect_restore=True)
    la, lb = sorted_lines(a), sorted_lines(b)
    check(kills >= 5, f"only {kills} kills: the workload ended too soon")
    check(restores >= 3, f"only {restores} restarts restored a checkpoint")
    assert_same_lines(la, lb)
    detail = f"{len(la)} records, {kills} kills, {restores} restores, {time.time() - t0:.1f}s"
    if dead_letter:
        with open(da, "rb") as f:
            want = f.read()
        with open(db, "rb") as f:
            got = f.read()
        invalid, late = want.count(b'"kind":"invalid"'), want.count(b'"kind":"late"')
        check(invalid > 100 and late > 100, f"workload: {invalid} invalid, {late} late")
        check(want == got, f"dead-letter files differ: {len(want)} vs {len(got)} bytes, "
                           f"{got.count(chr(10).encode())} vs {want.count(chr(10).encode())} lines")
        detail += f", dead letters identical ({invalid} invalid, {late} late)"
    return detail


for n in (1, 2):
    suite.case(f"kill_restart_parallelism_{n}", kill_restart, n)
suite.case("kill_restart_dead_letter_parallelism_2", kill_restart, 2, dead_letter=True)

if __name__ == "__main__":
    suite.main()
