#!/usr/bin/env bash
# Builds a fuzz target with clang (libFuzzer + ASan + UBSan) in its own build directory and
# runs it for a bounded time. Exit 0 when no crash was found.
#   tests/fuzz/run_fuzz.sh [SECONDS]        (default 60)
# Env: VIGIL_FUZZ_TARGET=parser (default) fuzzes the rules parser; VIGIL_FUZZ_COMPILE=1 also
#      fuzzes rules::CompileSources (needs the full front end);
#      VIGIL_FUZZ_TARGET=decoder fuzzes engine::EventDecoder differentially (fast path vs
#      simdjson, padded vs unpadded; tests/fuzz/decoder_fuzz.cc, seeds in decoder_corpus/);
#      BUILD_DIR (default build-fuzz), JOBS (default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_TO_RUN="${1:-60}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
TARGET="${VIGIL_FUZZ_TARGET:-parser}"
case "$TARGET" in
  parser) [[ "${VIGIL_FUZZ_COMPILE:-0}" == "1" ]] && BUILD_DIR="$BUILD_DIR/compile" ;;
  decoder) BUILD_DIR="$BUILD_DIR/decoder" ;;
  *) echo "run_fuzz.sh: unknown VIGIL_FUZZ_TARGET '$TARGET' (parser or decoder)" >&2; exit 2 ;;
esac
JOBS="${JOBS:-2}"
mkdir -p "$BUILD_DIR"

CXX="${CXX:-clang++}"
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "run_fuzz.sh: skipped ($CXX not found; scripts/setup installs clang)"
  exit 77
fi
FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$ROOT" -Wall -Wextra -Wno-unused-parameter)
SRCS=("$ROOT/tests/fuzz/parser_fuzz.cc" "$ROOT/rules/parser/parser.cc"
      "$ROOT/rules/parser/grammar.cc")
LIBS=()
HDR_DIRS=("$ROOT/rules")  # a header newer than an object rebuilds it
BINARY=parser_fuzz
SEEDS="$ROOT/tests/fuzz/corpus"
RUN_FLAGS=(-max_len=8192)
if [[ "$TARGET" == "decoder" ]]; then
  # The decoder and what it links: core (values, schemas), simdjson, abseil, fmt.
  SRCS=("$ROOT/tests/fuzz/decoder_fuzz.cc" "$ROOT/engine/decode/event_decoder.cc"
        "$ROOT/core/value.cc" "$ROOT/core/schema.cc" "$ROOT/core/time.cc")
  HDR_DIRS=("$ROOT/core" "$ROOT/cep" "$ROOT/engine/decode" "$ROOT/engine/source")
  if pkg-config --exists simdjson 2>/dev/null; then
    FLAGS+=($(pkg-config --cflags simdjson))
    LIBS+=($(pkg-config --libs simdjson))
  else
    LIBS+=(-lsimdjson)
  fi
  if pkg-config --exists absl_status absl_strings 2>/dev/null; then
    LIBS+=($(pkg-config --libs absl_status absl_statusor absl_strings))
  else
    LIBS+=(-labsl_status -labsl_statusor -labsl_strings -labsl_str_format_internal
           -labsl_cord -labsl_int128 -labsl_throw_delegate -labsl_raw_logging_internal)
  fi
  LIBS+=(-lfmt)
  BINARY=decoder_fuzz
  SEEDS="$ROOT/tests/fuzz/decoder_corpus"
  RUN_FLAGS=(-max_len=4096 -dict="$ROOT/tests/fuzz/decoder.dict")
elif [[ "${VIGIL_FUZZ_COMPILE:-0}" == "1" ]]; then
  # The whole front end and what it links: rules, cep/expr (the front end's output IR),
  # cep/connectors (the option catalogue the binder checks against), core.
  FLAGS+=(-DVIGIL_FUZZ_COMPILE)
  mapfile -t SRCS < <(printf '%s\n' "$ROOT/tests/fuzz/parser_fuzz.cc";
                      find "$ROOT/rules" "$ROOT/cep/expr" "$ROOT/cep/connectors" "$ROOT/core" -name '*.cc' | sort)
  LIBS+=($(pkg-config --libs re2) -lfmt -labsl_status -labsl_statusor -labsl_strings
         -labsl_str_format_internal -labsl_hash -labsl_raw_hash_set -labsl_city
         -labsl_low_level_hash)
fi

# Compile each source to an object (in parallel, JOBS at a time), then link.
OBJS=()
pids=()
for src in "${SRCS[@]}"; do
  obj="$BUILD_DIR/$(echo "${src#$ROOT/}" | tr '/' '_').o"
  OBJS+=("$obj")
  if [[ ! -f "$obj" || "$src" -nt "$obj" ||
        -n "$(find "${HDR_DIRS[@]}" -name '*.h' -newer "$obj" -print -quit)" ]]; then
    "$CXX" "${FLAGS[@]}" -c "$src" -o "$obj" &
    pids+=($!)
    if (( ${#pids[@]} >= JOBS )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" "${FLAGS[@]}" "${OBJS[@]}" "${LIBS[@]}" -o "$BUILD_DIR/$BINARY"

CORPUS="$BUILD_DIR/corpus"
mkdir -p "$CORPUS"
cp -n "$SEEDS"/* "$CORPUS"/ 2>/dev/null || true
cd "$BUILD_DIR"
exec "./$BINARY" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  "${RUN_FLAGS[@]}" -print_final_stats=1 "$CORPUS" "$SEEDS"
