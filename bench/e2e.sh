#!/usr/bin/env bash
# End-to-end throughput of `vigil run` on one thread, JSONL parsing included.
# Usage: bench/e2e.sh [VIGIL]      (default: build/vigil)
# Env:   EVENTS (default 2000000), KEYS (default 10000), JITTER ms (default 200),
#        WORKLOAD fraud|expire (default fraud), KEEP=1 keeps the temporary folder.
# Prints the events/s of the run and its peak RSS (from /usr/bin/time -v, or VmHWM).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
vigil="${1:-$root/build/vigil}"
events="${EVENTS:-2000000}"
keys="${KEYS:-10000}"
jitter="${JITTER:-200}"
workload="${WORKLOAD:-fraud}"
[ -x "$vigil" ] || { echo "e2e.sh: no vigil binary at $vigil" >&2; exit 2; }
tmp="$(mktemp -d /tmp/vigil-bench-XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT

stream=txn
extra=()
if [ "$workload" = fraud ]; then
  extra=(--jitter "$jitter")
else
  stream=s
fi
echo "generating $events $workload events over $keys keys..." >&2
python3 "$root/bench/workload.py" "$workload" --events "$events" --keys "$keys" "${extra[@]}" \
  --rules "$tmp/rules.vgl" --out "$tmp/events.jsonl"
bytes=$(stat -c %s "$tmp/events.jsonl")

cmd=("$vigil" run "$tmp/rules.vgl" --input "$stream=$tmp/events.jsonl" --output /dev/null
     --dead-letter "$tmp/dead.jsonl" --parallelism 1)
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v -o "$tmp/time.txt" "${cmd[@]}" 2> "$tmp/stderr.txt"
  rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tmp/time.txt")
else
  "${cmd[@]}" 2> "$tmp/stderr.txt" &
  pid=$!
  rss_kb=0
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$v" ] && [ "$v" -gt "$rss_kb" ] && rss_kb=$v
    sleep 0.05
  done
  wait "$pid"
fi
end=$(date +%s.%N)
cat "$tmp/stderr.txt" >&2
python3 - "$start" "$end" "$events" "$bytes" "$rss_kb" <<'PY'
import sys
start, end, events, size, rss = map(float, sys.argv[1:])
secs = end - start
print(f"events: {int(events)}  bytes: {int(size)}  wall: {secs:.3f} s")
print(f"throughput: {events / secs:,.0f} events/s  ({size / secs / 1e6:.1f} MB/s)")
print(f"peak RSS: {rss / 1024:.1f} MiB")
PY
