// The pure parts of scale-out (engine/scaleout): the plan, the exchange messages, the readers'
// watermarks and deduplication, and the changelog fold.
#include <set>

#include "engine/operator/key_group.h"
#include "engine/scaleout/changelog.h"
#include "engine/scaleout/exchange_messages.h"
#include "engine/scaleout/exchange_watermarks.h"
#include "engine/scaleout/plan.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine::scaleout {
namespace {

std::shared_ptr<const cep::RuleSet> Compile(const std::string& text) {
  auto r = rules::CompileSources({{"t.vgl", text}});
  EXPECT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].message);
  return r.rule_set;
}

constexpr char kRules[] = R"(
stream txn (card string, amount float, at timestamp) event time at out of order 1s
stream other (x int)
rule r from txn partition by card pattern a -> b define a as amount < 1, b as amount > 500
)";

TEST(Plan, TopicsHashAndKeyGroupRanges) {
  auto rules = Compile(kRules);
  auto plan = MakePlan(*rules, "fraud", "", 16);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->group, "vigil.fraud");
  EXPECT_EQ(plan->hash.size(), 12u);
  EXPECT_EQ(plan->repart_topics[0], "vigil.fraud." + plan->hash + ".repart.txn");
  EXPECT_EQ(plan->repart_topics[1], "");  // no rule reads it
  EXPECT_EQ(plan->state_topics[0], "vigil.fraud." + plan->hash + ".state.txn");
  // Every key group belongs to exactly the partition whose range holds it.
  for (int r : {1, 3, 16, 100, 128}) {
    auto p = MakePlan(*rules, "fraud", "", r);
    ASSERT_TRUE(p.ok());
    int covered = 0;
    for (int part = 0; part < r; ++part) {
      auto [first, last] = p->KeyGroupsOfPartition(part);
      for (int g = first; g <= last; ++g) {
        EXPECT_EQ(p->PartitionOfKeyGroup(static_cast<uint16_t>(g)), part) << r << " " << g;
        ++covered;
      }
    }
    EXPECT_EQ(covered, kMaxKeyGroups) << r;
  }
  // Same rules, same hash; another rule or another R, another hash.
  EXPECT_EQ(MakePlan(*Compile(kRules), "fraud", "", 16)->hash, plan->hash);
  EXPECT_NE(MakePlan(*rules, "fraud", "", 8)->hash, plan->hash);
  std::string changed = kRules;
  changed.replace(changed.find("amount > 500"), 12, "amount > 600");
  EXPECT_NE(MakePlan(*Compile(changed), "fraud", "", 16)->hash, plan->hash);
  EXPECT_FALSE(MakePlan(*rules, "bad app", "", 16).ok());
  EXPECT_FALSE(MakePlan(*rules, "fraud", "", 0).ok());
  EXPECT_NE(DescribePlan(*plan, *rules).find(plan->state_topics[0]), std::string::npos);
}

TEST(ExchangeMessages, RoundTrip) {
  Event e;
  e.values = {Value::String("c1"), Value::Float(0.5), Value::Timestamp(EventTime(1000))};
  e.raw = R"({"card":"c1","amount":0.5,"at":1000})";
  e.time = EventTime(1000);
  e.seq = (uint64_t{2} << 48) | 77;
  Event back;
  auto msg = DecodeExchangeMessage(EncodeEventMessage(e), &back);
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ(msg->kind, ExchangeMessage::Kind::kEvent);
  EXPECT_EQ(back.raw, e.raw);
  EXPECT_EQ(back.seq, e.seq);
  EXPECT_EQ(back.time, e.time);
  EXPECT_EQ(back.values, e.values);
  WatermarkMarker m{3, 4, Watermark(1234), InputState::kIdle};
  auto mm = DecodeExchangeMessage(EncodeMarkerMessage(m), &back);
  ASSERT_TRUE(mm.ok());
  EXPECT_EQ(mm->kind, ExchangeMessage::Kind::kMarker);
  EXPECT_EQ(mm->marker.input_partition, 3u);
  EXPECT_EQ(mm->marker.input_partitions, 4u);
  EXPECT_EQ(mm->marker.watermark, Watermark(1234));
  EXPECT_EQ(mm->marker.state, InputState::kIdle);
  EXPECT_EQ(DecodeExchangeMessage("x", &back).status().code(), absl::StatusCode::kDataLoss);
  std::string cut = EncodeMarkerMessage(m);
  cut.pop_back();
  EXPECT_FALSE(DecodeExchangeMessage(cut, &back).ok());
}

TEST(ExchangeWatermarks, MinimumOverInputPartitionsIdleEndedAndUnheard) {
  ExchangeWatermarks w;
  // Two input partitions; until both are heard from, nothing moves.
  EXPECT_FALSE(w.OnMarker({0, 2, Watermark(100), InputState::kActive}));
  EXPECT_EQ(w.watermark(), Watermark::Min());
  EXPECT_TRUE(w.OnMarker({1, 2, Watermark(50), InputState::kActive}));
  EXPECT_EQ(w.watermark(), Watermark(50));
  // A replaying writer's lower watermark is ignored.
  EXPECT_FALSE(w.OnMarker({1, 2, Watermark(10), InputState::kActive}));
  EXPECT_TRUE(w.OnMarker({1, 2, Watermark(80), InputState::kActive}));
  EXPECT_EQ(w.watermark(), Watermark(80));
  // Partition 1 idle: partition 0 alone decides.
  EXPECT_TRUE(w.OnMarker({1, 2, Watermark(80), InputState::kIdle}));
  EXPECT_EQ(w.watermark(), Watermark(100));
  // Both idle: time stands still.
  EXPECT_FALSE(w.OnMarker({0, 2, Watermark(200), InputState::kIdle}));
  EXPECT_EQ(w.watermark(), Watermark(100));
  // An event makes an idle partition active again (its last watermark counts again).
  EXPECT_TRUE(w.AcceptEvent(0, 5));
  EXPECT_EQ(w.watermark(), Watermark(200));
  // Partition 0 ended, partition 1 idle: nothing active, not all ended: time stands still.
  EXPECT_FALSE(w.OnMarker({0, 2, Watermark(300), InputState::kEnded}));
  EXPECT_FALSE(w.OnMarker({1, 2, Watermark(90), InputState::kActive}));  // below 200
  EXPECT_EQ(w.watermark(), Watermark(200));
  // Both ended: +infinity.
  EXPECT_TRUE(w.OnMarker({1, 2, Watermark(400), InputState::kEnded}));
  EXPECT_EQ(w.watermark(), Watermark::Max());
}

TEST(ExchangeWatermarks, DropsRepeatedOffsetsAndSurvivesACheckpoint) {
  ExchangeWatermarks w;
  EXPECT_TRUE(w.AcceptEvent(0, 10));
  EXPECT_TRUE(w.AcceptEvent(1, 3));
  EXPECT_FALSE(w.AcceptEvent(0, 10));
  EXPECT_FALSE(w.AcceptEvent(0, 7));
  EXPECT_TRUE(w.AcceptEvent(0, 11));
  w.OnMarker({0, 2, Watermark(5), InputState::kActive});
  w.OnMarker({1, 2, Watermark(9), InputState::kActive});
  Encoder enc;
  w.Encode(&enc);
  ExchangeWatermarks back;
  Decoder dec(enc.buffer());
  ASSERT_TRUE(back.Decode(&dec).ok());
  EXPECT_EQ(back.watermark(), Watermark(5));
  EXPECT_FALSE(back.AcceptEvent(0, 11));
  EXPECT_FALSE(back.AcceptEvent(1, 3));
  EXPECT_TRUE(back.AcceptEvent(1, 4));
}

ChangelogFold::Result Fold(const std::vector<std::pair<std::string, std::string>>& log) {
  ChangelogFold f;
  for (const auto& [k, v] : log) EXPECT_TRUE(f.Add(k, v).ok());
  return std::move(f).Finish();
}

TEST(Changelog, AppliesOnlyMarkedCheckpointsOfTheCurrentClaim) {
  auto r = Fold({{"", EncodeClaim("a1")},
                 {"k1", EncodePut("a1", 1, "v1")},
                 {"k2", EncodePut("a1", 1, "v2")},
                 {"", EncodeMarker("a1", 1, false, "rs1")},
                 {"k1", EncodePut("a1", 2, "v1b")},
                 {"k2", EncodeDelete("a1", 2)},
                 {"", EncodeMarker("a1", 2, false, "rs2")},
                 {"k1", EncodePut("a1", 3, "lost")}});  // no marker: never happened
  EXPECT_EQ(r.checkpoint, 2u);
  EXPECT_EQ(r.reader_state, "rs2");
  EXPECT_EQ(r.state, (std::map<std::string, std::string>{{"k1", "v1b"}}));
}

TEST(Changelog, ANewClaimFencesTheOldOwner) {
  auto r = Fold({{"", EncodeClaim("a1")},
                 {"k1", EncodePut("a1", 1, "v1")},
                 {"", EncodeMarker("a1", 1, false, "a-rs1")},
                 {"k1", EncodePut("a1", 2, "half")},  // a1 died before its marker
                 {"", EncodeClaim("b1")},
                 {"", EncodeMarker("a1", 2, false, "late")},  // a zombie's late marker
                 {"k2", EncodePut("a1", 3, "zombie")},
                 {"k3", EncodePut("b1", 5, "v3")},
                 {"", EncodeMarker("b1", 5, false, "b-rs5")}});
  EXPECT_EQ(r.checkpoint, 5u);
  EXPECT_EQ(r.reader_state, "b-rs5");
  EXPECT_EQ(r.state, (std::map<std::string, std::string>{{"k1", "v1"}, {"k3", "v3"}}));
}

TEST(Changelog, FullMarkerReplacesTheStateAndEmptyLogStartsEmpty) {
  auto r = Fold({{"", EncodeClaim("a1")},
                 {"k1", EncodePut("a1", 1, "v1")},
                 {"", EncodeMarker("a1", 1, false, "")},
                 {"k2", EncodePut("a1", 2, "v2")},
                 {"", EncodeMarker("a1", 2, true, "full")}});
  EXPECT_EQ(r.state, (std::map<std::string, std::string>{{"k2", "v2"}}));
  auto empty = Fold({});
  EXPECT_FALSE(empty.checkpoint.has_value());
  EXPECT_TRUE(empty.state.empty());
  ChangelogFold f;
  EXPECT_EQ(f.Add("", "?").code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vigil::engine::scaleout
