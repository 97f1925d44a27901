#!/usr/bin/env python3
"""Memory stays flat on an unbounded stream whose partial matches all expire.

Runs `vigil run` on N/10 and then N events (N = $VIGIL_MEMORY_EVENTS, default 10,000,000) of
bench/workload.py's `expire` workload (`a -> b within 1s`, b never comes, increasing
timestamps), generated on the fly into a pipe (`--input s=-`), and asserts that the peak RSS of
the large run is within 1.5x (+8 MiB) of the small one's. Prints both figures.

Usage: test_memory_flat.py --vigil PATH [--root REPO]
Prints `N passed, M failed`; exits nonzero on failure.
"""
import os
import subprocess

from vigil_e2e import Suite, check

suite = Suite(__doc__, tmp_prefix="vigil-mem-")


def peak_rss(c, events):
    """Runs the expire workload of `events` events; returns vigil's peak RSS in KiB."""
    rules = c.path("expire.vgl")
    workload = c.workload("expire", "--keys", "1000")
    subprocess.run(workload + ["--events", "0", "--rules", rules], check=True,
                   stdout=subprocess.DEVNULL)
    gen = subprocess.Popen(workload + ["--events", str(events)], stdout=subprocess.PIPE)
    timefile = c.path("time.txt")
    cmd = [c.vigil, "run", rules, "--input", "s=-", "--output", os.devnull,
           "--dead-letter", c.path("dead.jsonl"), "--parallelism", "1"]
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", timefile] + cmd
    p = subprocess.run(cmd, stdin=gen.stdout, capture_output=True, text=True, timeout=600)
    gen.stdout.close()
    gen.wait()
    check(p.returncode == 0, f"vigil exited {p.returncode}: {p.stderr[-1000:]}")
    check(f"{events} events" in p.stderr,
          f"expected {events} events in the summary: {p.stderr[-500:]}")
    check(os.path.exists(timefile), "/usr/bin/time is needed to measure peak RSS")
    with open(timefile) as f:
        return int(f.read().strip().splitlines()[-1])  # KiB


@suite.test
def memory_flat(c):
    large = int(os.environ.get("VIGIL_MEMORY_EVENTS", "10000000"))
    small = max(large // 10, 1000)
    rss_small = peak_rss(c, small)
    rss_large = peak_rss(c, large)
    print(f"peak RSS: {small} events {rss_small / 1024:.1f} MiB, "
          f"{large} events {rss_large / 1024:.1f} MiB "
          f"(ratio {rss_large / rss_small:.2f})")
    check(rss_large <= 1.5 * rss_small + 8 * 1024,
          f"peak RSS grew from {rss_small} KiB to {rss_large} KiB")


if __name__ == "__main__":
    suite.main()
