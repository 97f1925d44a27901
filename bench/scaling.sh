#!/usr/bin/env bash
# Throughput of `vigil run` at 1 and 2 worker threads on a fraud (or metrics) workload, with
# and without checkpoints every second (RocksDB state in a temporary --state DIR).
# Usage: bench/scaling.sh [VIGIL]      (default: build/vigil)
# Env:   WORKLOAD=fraud|metrics (default fraud), EVENTS (default 3000000), KEYS (default 10000
#        for fraud, 2000 for metrics), JITTER ms (fraud; default 200), KEEP=1.
# Prints events/s per configuration, the 2-vs-1 speedup and the checkpointed/plain ratio.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
vigil="${1:-$root/build/vigil}"
events="${EVENTS:-3000000}"
[ -x "$vigil" ] || { echo "scaling.sh: no vigil binary at $vigil" >&2; exit 2; }
tmp="$(mktemp -d /tmp/vigil-scaling-XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
kind="${WORKLOAD:-fraud}"
echo "generating $events $kind events..." >&2
if [ "$kind" = metrics ]; then
  python3 "$root/bench/workload.py" metrics --events "$events" --keys "${KEYS:-2000}" \
    --rules "$tmp/rules.vgl" --out "$tmp/events.jsonl"
  stream=m
else
  python3 "$root/bench/workload.py" fraud --events "$events" --keys "${KEYS:-10000}" \
    --jitter "${JITTER:-200}" --rules "$tmp/rules.vgl" --out "$tmp/events.jsonl"
  stream=txn
fi

run() {  # parallelism, extra args...
  local p=$1; shift
  rm -rf "$tmp/state"
  local start end
  start=$(date +%s.%N)
  "$vigil" run "$tmp/rules.vgl" --input "$stream=$tmp/events.jsonl" --output "$tmp/out.jsonl" \
    --dead-letter "$tmp/dead.jsonl" --parallelism "$p" "$@" 2> "$tmp/stderr.txt"
  end=$(date +%s.%N)
  rm -f "$tmp/out.jsonl"
  python3 -c "print(int($events / ($end - $start)))"
}

p1=$(run 1); echo "parallelism 1:                 $p1 events/s"
p2=$(run 2); echo "parallelism 2:                 $p2 events/s"
c1=$(run 1 --state "$tmp/state" --checkpoint-interval 1s)
echo "parallelism 1, checkpoint 1s:  $c1 events/s"
c2=$(run 2 --state "$tmp/state" --checkpoint-interval 1s)
echo "parallelism 2, checkpoint 1s:  $c2 events/s"
python3 -c "print('speedup 2 vs 1: %.2fx (target >= 1.8x); with checkpoints / without: p1 %.0f%%, p2 %.0f%% (target >= 80%%)' % ($p2/$p1, 100*$c1/$p1, 100*$c2/$p2))"
echo "cores: $(nproc)"
