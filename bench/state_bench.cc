// State backend micro benchmarks: the work of one checkpoint barrier, i.e. writing the keys that
// changed since the last checkpoint (one atomic batch of N dirty keys of ~200 bytes) and taking
// the checkpoint, for the heap backend (with a checkpoint directory) and RocksDB.
//
//   build-state/bench/state_bench --benchmark_min_time=2
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "engine/state/codec.h"
#include "engine/state/heap_backend.h"
#include "engine/state/rocksdb_backend.h"

namespace vigil::engine::state {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil_state_bench_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<StateBackend> Make(int kind, const std::string& dir) {
  if (kind == 1) return std::move(RocksDbBackend::Open({.dir = dir}).value());
  return std::move(HeapBackend::Open({.dir = dir}).value());
}

// ~200 bytes: an encoded event with a few fields, like a shared-buffer entry.
std::string Value200(uint64_t i) {
  Event ev;
  ev.values = {Value::String("user-" + std::to_string(i % 5000)), Value::Float(i * 0.25),
               Value::Int(static_cast<int64_t>(i)), Value::String("login")};
  ev.raw = R"({"user":"user-)" + std::to_string(i % 5000) +
           R"(","amount":123.25,"country":"NL","kind":"login","device":"ios-17.1-abcdef"})";
  ev.raw.resize(150, ' ');
  ev.time = EventTime(1700000000000 + static_cast<int64_t>(i));
  ev.seq = i;
  Encoder e;
  e.Ev(ev);
  return std::move(e.buffer());
}

WriteBatch DirtyKeys(int n, uint64_t round, uint64_t key_space) {
  WriteBatch wb;
  std::mt19937_64 rng(round);
  for (int i = 0; i < n; ++i) {
    uint64_t k = rng() % key_space;
    wb.Put(StateKey(1, static_cast<uint16_t>(k % kDefaultMaxKeyGroups), std::to_string(k)),
           Value200(round * n + i));
  }
  return wb;
}

// One barrier: write N dirty keys + checkpoint. Live state grows to `key_space` keys.
void BM_BarrierWriteAndCheckpoint(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const int dirty = static_cast<int>(state.range(1));
  const uint64_t key_space = 100000;
  TempDir dir;
  auto b = Make(kind, dir.path());
  for (uint64_t r = 0; r < 10; ++r) {  // warm state
    if (!b->Write(DirtyKeys(dirty, 1000 + r, key_space)).ok()) state.SkipWithError("write");
  }
  uint64_t id = 0;
  uint64_t round = 0;
  double write_s = 0, chk_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    WriteBatch wb = DirtyKeys(dirty, round++, key_space);
    state.ResumeTiming();
    auto t0 = std::chrono::steady_clock::now();
    if (!b->Write(wb).ok()) state.SkipWithError("write");
    auto t1 = std::chrono::steady_clock::now();
    if (!b->Checkpoint(++id, "meta").ok()) state.SkipWithError("checkpoint");
    auto t2 = std::chrono::steady_clock::now();
    write_s += std::chrono::duration<double>(t1 - t0).count();
    chk_s += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["write_ms"] = benchmark::Counter(write_s * 1e3 / state.iterations());
  state.counters["checkpoint_ms"] = benchmark::Counter(chk_s * 1e3 / state.iterations());
  state.counters["state_MB"] = benchmark::Counter(b->ApproximateSize() / 1e6);
  state.SetItemsProcessed(state.iterations() * dirty);
  state.SetLabel(kind == 1 ? "rocksdb" : "heap");
}
BENCHMARK(BM_BarrierWriteAndCheckpoint)
    ->ArgNames({"rocksdb", "dirty"})
    ->Args({0, 10000})
    ->Args({1, 10000})
    ->Unit(benchmark::kMillisecond);

void BM_EncodeEvent(benchmark::State& state) {
  Event ev;
  ev.values = {Value::String("user-42"), Value::Float(0.25), Value::Int(7)};
  ev.raw = std::string(150, 'x');
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    Encoder e(&buf);
    e.Ev(ev);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(state.iterations() * buf.size());
}
BENCHMARK(BM_EncodeEvent);

void BM_DecodeEvent(benchmark::State& state) {
  Event ev;
  ev.values = {Value::String("user-42"), Value::Float(0.25), Value::Int(7)};
  ev.raw = std::string(150, 'x');
  Encoder e;
  e.Ev(ev);
  Event out;
  for (auto _ : state) {
    Decoder d(e.buffer());
    benchmark::DoNotOptimize(d.Ev(&out));
  }
  state.SetBytesProcessed(state.iterations() * e.size());
}
BENCHMARK(BM_DecodeEvent);

}  // namespace
}  // namespace vigil::engine::state

BENCHMARK_MAIN();
