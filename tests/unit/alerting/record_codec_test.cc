// Records survive a checkpoint exactly (alerting/record_codec.h), and the dead-letter output's
// `undeliverable` lines (engine/io/dead_letter.h) are whole JSON lines even when written from
// several threads.
#include "alerting/record_codec.h"

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "delivery_test_util.h"
#include "engine/io/dead_letter.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace vigil::alerting {
namespace {

using engine::Record;
using engine::RecordKind;

TEST(RecordCodec, RoundTripRendersTheSameJson) {
  std::vector<Record> records;
  records.push_back(testing::MakeRecord("0123456789abcdef"));
  Record odd = testing::MakeRecord("fedcba9876543210", RecordKind::kResolved);
  odd.key = {{"n", Value::Int(-3)}, {"up", Value::Bool(true)}, {"none", Value()},
             {"t", Value::Timestamp(EventTime(5))}, {"f", Value::Float(0.1)}};
  odd.fields = {{"nan", Value::Float(std::nan(""))}, {"s", Value::String("a\nb\"")}};
  odd.events.push_back({"empty_var", {}});
  records.push_back(odd);
  Record late;
  late.id = "00000000000000ff";
  late.kind = RecordKind::kLate;
  late.stream = "txn";
  late.time = EventTime(-7);
  records.push_back(late);

  std::string blob;
  Encoder enc(&blob);
  for (const Record& r : records) EncodeRecord(r, &enc);
  Decoder dec(blob);
  for (const Record& want : records) {
    Record got;
    ASSERT_TRUE(DecodeRecord(&dec, &got).ok());
    EXPECT_EQ(engine::RecordToJson(got), engine::RecordToJson(want));
    EXPECT_EQ(got.kind, want.kind);
    ASSERT_EQ(got.key.size(), want.key.size());
    for (size_t i = 0; i < got.key.size(); ++i) EXPECT_EQ(got.key[i].second.type(), want.key[i].second.type());
  }
  EXPECT_TRUE(dec.done());

  // Every truncation is an error, never a crash.
  for (size_t cut = 0; cut < blob.size(); cut += 7) {
    Decoder short_dec(std::string_view(blob).substr(0, cut));
    Record r;
    bool all_ok = true;
    for (size_t i = 0; i < records.size() && all_ok; ++i) all_ok = DecodeRecord(&short_dec, &r).ok();
    EXPECT_FALSE(all_ok) << "cut at " << cut;
  }
}

TEST(DeadLetterUndeliverable, LineHoldsSinkReasonAndRecord) {
  std::string out;
  engine::DeadLetterWriter w(&out);
  const Record r = testing::MakeRecord("0123456789abcdef");
  ASSERT_TRUE(w.WriteUndeliverable("hook", "webhook http://x/: HTTP 500 after 6 attempts", r).ok());
  EXPECT_EQ(out, "{\"kind\":\"undeliverable\",\"sink\":\"hook\",\"reason\":\"webhook http://x/: "
                 "HTTP 500 after 6 attempts\",\"record\":" +
                     engine::RecordToJson(r) + "}\n");
}

TEST(DeadLetterUndeliverable, ConcurrentWritersKeepLinesWhole) {
  std::string out;
  engine::DeadLetterWriter w(&out);
  std::vector<std::thread> threads;
  constexpr int kPerThread = 300;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Record r = testing::MakeRecord("000000000000000" + std::to_string(t));
      for (int i = 0; i < kPerThread; ++i) {
        if (t == 0) {
          ASSERT_TRUE(w.WriteInvalid("txn", "bad", engine::RecordOrigin{{}, -1, static_cast<uint64_t>(i)}, "{").ok());
        } else {
          ASSERT_TRUE(w.WriteUndeliverable("hook", "reason " + std::to_string(i), r).ok());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  simdjson::dom::parser parser;
  size_t lines = 0, undeliverable = 0;
  size_t start = 0;
  for (size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    simdjson::padded_string line(out.substr(start, nl - start));
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << out.substr(start, nl - start);
    std::string_view kind;
    ASSERT_EQ(doc["kind"].get(kind), simdjson::SUCCESS);
    if (kind == "undeliverable") ++undeliverable;
    ++lines;
    start = nl + 1;
  }
  EXPECT_EQ(lines, 4u * kPerThread);
  EXPECT_EQ(undeliverable, 3u * kPerThread);
}

}  // namespace
}  // namespace vigil::alerting
