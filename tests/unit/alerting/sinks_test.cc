// Unit tests of output records (engine/record.h, engine/record_id.h) and the file/stdout sinks.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "alerting/file_sink.h"
#include "alerting/sink_registry.h"
#include "alerting/stdout_sink.h"
#include "engine/record.h"
#include "engine/record_id.h"
#include "gtest/gtest.h"

namespace vigil::alerting {
namespace {

using engine::Record;
using engine::RecordKind;

EventPtr Ev(std::string raw, uint64_t seq = 0) {
  auto e = std::make_shared<Event>();
  e->raw = std::move(raw);
  e->seq = seq;
  return e;
}

Record MatchRecord() {
  Record r;
  r.id = "9f2c41d07a1b3e55";
  r.rule = "card_testing";
  r.kind = RecordKind::kMatch;
  r.key = {{"card", Value::String("4111")}};
  r.time = EventTime(1700000000000);
  r.events = {{"small", {Ev(R"({"card":"4111","amount":0.5})")}},
              {"large", {Ev(R"({"card":"4111","amount":900})")}}};
  r.fields = {{"first_amount", Value::Float(0.5)}, {"total", Value::Float(900.0)}};
  r.labels = {{"alertname", "card_testing"}, {"card", "4111"}, {"severity", "critical"}};
  r.annotations = {{"summary", "card 4111: 0.5 then 900"}};
  return r;
}

std::filesystem::path TempDir() {
  return std::filesystem::temp_directory_path() /
         ("vigil_sinks_test_" + std::to_string(::getpid()));
}

std::string TempPath(const std::string& name) {
  std::filesystem::create_directories(TempDir());
  return (TempDir() / name).string();
}

// Removes the test's scratch directory at exit.
class TempDirCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(TempDir(), ec);
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- RecordToJson ----------------------------------------------------------------------------

TEST(RecordKindName, AllKinds) {
  EXPECT_EQ(engine::RecordKindName(RecordKind::kMatch), "match");
  EXPECT_EQ(engine::RecordKindName(RecordKind::kTimeout), "timeout");
  EXPECT_EQ(engine::RecordKindName(RecordKind::kFiring), "firing");
  EXPECT_EQ(engine::RecordKindName(RecordKind::kResolved), "resolved");
  EXPECT_EQ(engine::RecordKindName(RecordKind::kNodata), "nodata");
  EXPECT_EQ(engine::RecordKindName(RecordKind::kLate), "late");
}

TEST(RecordToJson, MatchGolden) {
  EXPECT_EQ(engine::RecordToJson(MatchRecord()),
            R"({"id":"9f2c41d07a1b3e55","rule":"card_testing","kind":"match",)"
            R"("key":{"card":"4111"},"time":1700000000000,)"
            R"("events":{"small":[{"card":"4111","amount":0.5}],)"
            R"("large":[{"card":"4111","amount":900}]},)"
            R"("fields":{"first_amount":0.5,"total":900.0},)"
            R"("labels":{"alertname":"card_testing","card":"4111","severity":"critical"},)"
            R"("annotations":{"summary":"card 4111: 0.5 then 900"}})");
}

TEST(RecordToJson, EmptyRecord) {
  Record r;
  r.id = "0000000000000000";
  r.rule = "r";
  r.kind = RecordKind::kTimeout;
  EXPECT_EQ(engine::RecordToJson(r),
            R"({"id":"0000000000000000","rule":"r","kind":"timeout","key":{},"time":0,)"
            R"("events":{},"fields":{},"labels":{},"annotations":{}})");
}

TEST(RecordToJson, LateHasStreamInsteadOfRule) {
  Record r;
  r.id = "00000000000000ff";
  r.rule = "ignored";
  r.stream = "txn";
  r.kind = RecordKind::kLate;
  r.time = EventTime(-5);
  r.events = {{"txn", {Ev("  {\"a\": 1}\r\n")}}};
  EXPECT_EQ(engine::RecordToJson(r),
            R"({"id":"00000000000000ff","stream":"txn","kind":"late","key":{},"time":-5,)"
            R"("events":{"txn":[{"a": 1}]},"fields":{},"labels":{},"annotations":{}})");
}

TEST(RecordToJson, EscapingAndValueTypes) {
  Record r;
  r.id = "id";
  r.rule = "we\"ird\\rule";
  r.kind = RecordKind::kFiring;
  r.key = {{"host", Value::String("a\nb")},
           {"n", Value::Int(-3)},
           {"up", Value::Bool(true)},
           {"none", Value()}};
  r.time = EventTime(7);
  r.events = {{"v", {Ev(R"({"x":"é\u0001"})"), Ev(R"({"x":2})")}}};
  r.fields = {{"t", Value::Timestamp(EventTime(1000))},
              {"f", Value::Float(1e21)},
              {"nan", Value::Float(std::nan(""))}};
  r.labels = {{"tab\tkey", "ctl\x01"}};
  r.annotations = {{"summary", "quote \" slash / back \\ é"}};
  EXPECT_EQ(engine::RecordToJson(r),
            R"({"id":"id","rule":"we\"ird\\rule","kind":"firing",)"
            R"("key":{"host":"a\nb","n":-3,"up":true,"none":null},"time":7,)"
            R"("events":{"v":[{"x":"é\u0001"},{"x":2}]},)"
            R"("fields":{"t":1000,"f":1e+21,"nan":null},)"
            R"("labels":{"tab\tkey":"ctl\u0001"},)"
            R"("annotations":{"summary":"quote \" slash / back \\ é"}})");
}

// ---- StableRecordId --------------------------------------------------------------------------

struct IdInputs {
  std::string rule = "card_testing";
  RecordKind kind = RecordKind::kMatch;
  std::vector<std::pair<std::string, Value>> key = {{"card", Value::String("4111")}};
  std::vector<uint64_t> seqs = {3, 7, 8};
  EventTime time{1700000000000};
  std::string Id() const { return engine::StableRecordId(rule, kind, key, seqs, time); }
};

bool IsHex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(StableRecordId, DeterministicAndWellFormed) {
  IdInputs in;
  std::string id = in.Id();
  EXPECT_TRUE(IsHex16(id)) << id;
  EXPECT_EQ(id, in.Id());
  IdInputs copy = in;
  EXPECT_EQ(id, copy.Id());
  EXPECT_TRUE(IsHex16(engine::StableRecordId("", RecordKind::kLate, {}, {}, EventTime(0))));
}

TEST(StableRecordId, EveryInputMatters) {
  const std::string base = IdInputs().Id();
  std::vector<IdInputs> variants(12);
  variants[0].rule = "card_testinh";
  variants[1].kind = RecordKind::kTimeout;
  variants[2].key = {{"card", Value::String("4112")}};
  variants[3].key = {{"kard", Value::String("4111")}};
  variants[4].key = {};
  variants[5].key = {{"card", Value::Int(4111)}};
  variants[6].seqs = {3, 7};
  variants[7].seqs = {3, 8, 7};
  variants[8].seqs = {3, 7, 9};
  variants[9].time = EventTime(1700000000001);
  variants[10].key = {{"card", Value::String("4111")}, {"x", Value()}};
  variants[11].rule = "card_testing4111";  // no ambiguity between fields
  variants[11].key = {{"card", Value::String("")}};
  std::vector<std::string> ids = {base};
  for (size_t i = 0; i < variants.size(); ++i) {
    std::string id = variants[i].Id();
    EXPECT_TRUE(IsHex16(id));
    for (const std::string& other : ids) EXPECT_NE(id, other) << "variant " << i;
    ids.push_back(id);
  }
}

TEST(StableRecordId, FloatZeroAndIntFloatKeys) {
  IdInputs a, b, c;
  a.key = {{"v", Value::Float(0.0)}};
  b.key = {{"v", Value::Float(-0.0)}};
  c.key = {{"v", Value::Int(0)}};
  EXPECT_EQ(a.Id(), b.Id());
  EXPECT_NE(a.Id(), c.Id());
}

TEST(StableRecordId, SpreadsOverSequences) {
  // Consecutive event positions give distinct, well-spread ids.
  std::set<std::string> ids;
  std::set<char> first_digits;
  for (uint64_t s = 0; s < 2000; ++s) {
    IdInputs in;
    in.seqs = {s};
    std::string id = in.Id();
    ids.insert(id);
    first_digits.insert(id[0]);
  }
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(first_digits.size(), 16u);
}

// ---- file sink ---------------------------------------------------------------------------------

TEST(FileSink, WritesExactLinesAndAppends) {
  std::string path = TempPath("out.jsonl");
  std::filesystem::remove(path);
  Record r1 = MatchRecord();
  Record r2 = MatchRecord();
  r2.id = "0123456789abcdef";
  r2.kind = RecordKind::kTimeout;
  {
    auto sink = FileSink::Open(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->Write(r1).ok());
    ASSERT_TRUE((*sink)->Write(r2).ok());
    ASSERT_TRUE((*sink)->Flush().ok());
    EXPECT_EQ((*sink)->path(), path);
  }
  std::string want = engine::RecordToJson(r1) + "\n" + engine::RecordToJson(r2) + "\n";
  EXPECT_EQ(ReadFile(path), want);
  {
    // Reopening appends; the destructor writes what is buffered.
    auto sink = FileSink::Open(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(r1).ok());
  }
  EXPECT_EQ(ReadFile(path), want + engine::RecordToJson(r1) + "\n");
}

TEST(FileSink, ManyRecordsCrossChunks) {
  std::string path = TempPath("many.jsonl");
  std::filesystem::remove(path);
  auto sink = FileSink::Open(path);
  ASSERT_TRUE(sink.ok());
  Record r = MatchRecord();
  std::string want;
  for (int i = 0; i < 2000; ++i) {
    r.id = engine::StableRecordId(r.rule, r.kind, r.key, {static_cast<uint64_t>(i)}, r.time);
    want += engine::RecordToJson(r) + "\n";
    ASSERT_TRUE((*sink)->Write(r).ok());
  }
  EXPECT_GT((*sink)->size(), 0u);  // chunks went out before Flush
  ASSERT_TRUE((*sink)->Flush().ok());
  EXPECT_EQ((*sink)->size(), want.size());
  EXPECT_EQ(ReadFile(path), want);
}

// Exactly-once across restarts: the state is the synced size; a restore cuts the file back to
// it and later records are appended after it.
TEST(FileSink, SnapshotAndRestoreCutBackToTheCheckpointedSize) {
  std::string path = TempPath("restore.jsonl");
  std::filesystem::remove(path);
  {
    std::ofstream(path) << "kept from an earlier run\n";
  }
  Record r = MatchRecord();
  const std::string line = engine::RecordToJson(r) + "\n";
  std::string state;
  {
    auto sink = FileSink::Open(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(r).ok());
    auto snap = (*sink)->SnapshotState(1);
    ASSERT_TRUE(snap.ok());
    state = *snap;
    EXPECT_EQ(state, std::to_string(25 + line.size()));
    ASSERT_TRUE((*sink)->Write(r).ok());  // after the checkpoint: lost in the crash
    ASSERT_TRUE((*sink)->Write(r).ok());
    ASSERT_TRUE((*sink)->Flush().ok());
  }
  EXPECT_EQ(ReadFile(path), "kept from an earlier run\n" + line + line + line);
  auto again = FileSink::Open(path);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Restore(state).ok());
  EXPECT_EQ((*again)->size(), 25 + line.size());
  ASSERT_TRUE((*again)->Write(r).ok());
  ASSERT_TRUE((*again)->Close().ok());
  EXPECT_EQ(ReadFile(path), "kept from an earlier run\n" + line + line);
  EXPECT_EQ((*again)->Restore("12x").code(), absl::StatusCode::kDataLoss);
}

TEST(FileSink, UnwritablePathIsAnError) {
  auto missing_dir = FileSink::Open("/nonexistent-vigil-dir/x/out.jsonl");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing_dir.status().message().find("/nonexistent-vigil-dir/x/out.jsonl"),
            std::string::npos);
  // A directory cannot be opened for writing.
  auto dir = FileSink::Open(std::filesystem::temp_directory_path().string());
  EXPECT_FALSE(dir.ok());
  auto via_registry = MakeFileSink("/nonexistent-vigil-dir/out.jsonl");
  EXPECT_FALSE(via_registry.ok());
}

// ---- stdout sink -------------------------------------------------------------------------------

TEST(StdoutSink, WritesLinesToDescriptorOnFlush) {
  std::string path = TempPath("stdout.jsonl");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  Record r = MatchRecord();
  {
    StdoutSink sink(fd);
    ASSERT_TRUE(sink.Write(r).ok());
    EXPECT_EQ(ReadFile(path), "");  // buffered
    ASSERT_TRUE(sink.Flush().ok());
    EXPECT_EQ(ReadFile(path), engine::RecordToJson(r) + "\n");
  }
  // The sink does not close the descriptor.
  EXPECT_EQ(::write(fd, "x", 1), 1);
  ::close(fd);
}

TEST(StdoutSink, ClosedPipeIsAnError) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);
  std::signal(SIGPIPE, SIG_IGN);
  StdoutSink sink(p[1]);
  ASSERT_TRUE(sink.Write(MatchRecord()).ok());
  absl::Status st = sink.Flush();
  EXPECT_FALSE(st.ok());
  ::close(p[1]);
}

// ---- registry ----------------------------------------------------------------------------------

TEST(SinkRegistry, FileAndStdout) {
  std::string path = TempPath("registry.jsonl");
  std::filesystem::remove(path);
  cep::SinkDef file{"audit", "file", {{"path", Value::String(path)}}};
  auto sink = MakeSink(file, {});
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Write(MatchRecord()).ok());
  ASSERT_TRUE((*sink)->Flush().ok());
  EXPECT_EQ(ReadFile(path), engine::RecordToJson(MatchRecord()) + "\n");

  auto out = MakeSink(cep::SinkDef{"console", "stdout", {}}, {});
  ASSERT_TRUE(out.ok());
  EXPECT_NE(*out, nullptr);
  EXPECT_NE(MakeStdoutSink(), nullptr);
}

TEST(SinkRegistry, Errors) {
  auto no_path = MakeSink(cep::SinkDef{"audit", "file", {}}, {});
  EXPECT_EQ(no_path.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_path = MakeSink(cep::SinkDef{"audit", "file", {{"path", Value::Int(3)}}}, {});
  EXPECT_EQ(bad_path.status().code(), absl::StatusCode::kInvalidArgument);
  // kafka is in the language but not in this build's registry.
  auto kafka = MakeSink(cep::SinkDef{"x", "kafka", {{"brokers", Value::String("b:9092")}}}, {});
  EXPECT_EQ(kafka.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(kafka.status().message(), "sink kind 'kafka' is not available yet");
  auto unknown = MakeSink(cep::SinkDef{"x", "carrier_pigeon", {}}, {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown sink kind 'carrier_pigeon'");
  // Options are checked at creation, with the option's name.
  auto bad_url = MakeSink(cep::SinkDef{"x", "webhook", {{"url", Value::String("localhost")}}}, {});
  EXPECT_EQ(bad_url.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_url.status().message(),
            "option 'url': 'localhost' is not an http:// or https:// URL");
  ::unsetenv("VIGIL_TEST_UNSET_TOKEN");
  auto no_token = MakeSink(cep::SinkDef{"x",
                                        "alertmanager",
                                        {{"url", Value::String("http://127.0.0.1:9")},
                                         {"bearer_token_env", Value::String("VIGIL_TEST_UNSET_TOKEN")}}}, {});
  EXPECT_EQ(no_token.status().message(),
            "option 'bearer_token_env': environment variable 'VIGIL_TEST_UNSET_TOKEN' is not set "
            "or empty");
}

TEST(SinkRegistry, CreatesNetworkSinksAndTakesNewKinds) {
  engine::SinkContext ctx;
  ctx.name = "hook";
  auto hook = MakeSink(cep::SinkDef{"hook", "webhook", {{"url", Value::String("http://127.0.0.1:9/x")}}},
                       ctx);
  ASSERT_TRUE(hook.ok()) << hook.status();
  EXPECT_EQ((*hook)->stats().sent, 0u);
  EXPECT_TRUE((*hook)->Close().ok());  // nothing queued: returns at once
  auto pager = MakeSink(
      cep::SinkDef{"pager", "alertmanager", {{"url", Value::String("http://127.0.0.1:9")}}}, ctx);
  ASSERT_TRUE(pager.ok()) << pager.status();
  EXPECT_TRUE((*pager)->Close().ok());

  SinkRegistry registry;
  EXPECT_FALSE(registry.Has("kafka"));
  registry.Register("kafka", [](const cep::SinkDef&, const engine::SinkContext&)
                                 -> absl::StatusOr<std::unique_ptr<engine::Sink>> {
    return MakeStdoutSink();
  });
  EXPECT_TRUE(registry.Has("kafka"));
  EXPECT_TRUE(registry.Make(cep::SinkDef{"bus", "kafka", {}}, ctx).ok());
  EXPECT_TRUE(SinkRegistry::Default().Has("webhook"));
  EXPECT_FALSE(SinkRegistry::Default().Has("kafka"));
}

// ---- checkpoints of the file and stdout sinks ----------------------------------------------

TEST(FileSink, SnapshotRecordsTheSizeAndRestoreCutsBackToIt) {
  std::string path = TempPath("restore.jsonl");
  std::filesystem::remove(path);
  Record a = MatchRecord(), b = MatchRecord(), c = MatchRecord();
  b.id = "000000000000000b";
  c.id = "000000000000000c";
  std::string state;
  {
    auto sink = FileSink::Open(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(a).ok());
    auto snap = (*sink)->SnapshotState(1);
    ASSERT_TRUE(snap.ok()) << snap.status();
    state = *snap;
    EXPECT_EQ(ReadFile(path), engine::RecordToJson(a) + "\n");  // written and synced
    ASSERT_TRUE((*sink)->Write(b).ok());  // after the checkpoint: lost in the "crash"
    ASSERT_TRUE((*sink)->Flush().ok());
    EXPECT_EQ((*sink)->stats().sent, 2u);
  }
  auto sink = FileSink::Open(path);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Restore(state).ok());
  ASSERT_TRUE((*sink)->Write(c).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(ReadFile(path), engine::RecordToJson(a) + "\n" + engine::RecordToJson(c) + "\n");

  // A file shorter than its checkpoint lost records: an error, not a silent gap.
  std::filesystem::resize_file(path, 3);
  auto again = FileSink::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Restore(state).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*again)->Restore("short").code(), absl::StatusCode::kDataLoss);
}

TEST(StdoutSink, SnapshotWritesThroughAndIsEmpty) {
  std::string path = TempPath("stdout_snap.jsonl");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  {
    StdoutSink sink(fd);
    ASSERT_TRUE(sink.Write(MatchRecord()).ok());
    auto snap = sink.SnapshotState(1);
    ASSERT_TRUE(snap.ok());
    EXPECT_EQ(*snap, "");
    EXPECT_EQ(ReadFile(path), engine::RecordToJson(MatchRecord()) + "\n");
    EXPECT_TRUE(sink.Restore("").ok());
    EXPECT_EQ(sink.stats().sent, 1u);
  }
  ::close(fd);
}

}  // namespace
}  // namespace vigil::alerting
