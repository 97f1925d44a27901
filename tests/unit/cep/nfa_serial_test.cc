// NfaState serialization (Nfa::SerializeState / RestoreState) and Nfa::NextDeadline.
//
// Round trip: for several patterns, a run that is serialized and restored into a fresh state
// after every possible prefix of its input must produce exactly the results (kind, events,
// order, time, captures, aggregates) of the uninterrupted run. Corrupted input must give
// DataLoss, never a crash.
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cep/nfa/nfa.h"
#include "core/codec.h"
#include "gtest/gtest.h"
#include "tests/unit/cep/nfa_test_harness.h"

namespace vigil::cep::testing {
namespace {

// One input step: an event (name, price, time) or, with advance, AdvanceTime(ts).
struct Step {
  std::string name;
  double price = 0;
  int64_t ts = 0;
  bool advance = false;
};

std::string RenderResult(const Pattern& p, const MatchResult& r) {
  std::string out = r.kind == MatchResult::Kind::kMatch ? "match" : "timeout";
  absl::StrAppend(&out, "@", r.time.ms);
  for (size_t v = 0; v < r.events.size(); ++v) {
    if (r.events[v].empty()) continue;
    std::vector<std::string> ids;
    for (const EventPtr& e : r.events[v]) {
      ids.push_back(absl::StrCat(e->values[kIdSlot].as_int(), "/", e->time.ms, "/", e->seq));
    }
    absl::StrAppend(&out, " ", p.vars[v].name, ":[", absl::StrJoin(ids, ","), "]");
  }
  for (const Value& c : r.captures) absl::StrAppend(&out, " cap=", c.ToString());
  for (const AggAcc& a : r.aggs) {
    absl::StrAppend(&out, " agg=", a.count, ",", a.n, ",", a.value.ToString(), ",", a.fsum);
  }
  return out;
}

// Runs `steps` then closes every window; when `split` is in [0, steps.size()], the state is
// serialized before step `split`, restored into a fresh state and the run continues on it.
std::vector<std::string> RunSteps(const Nfa& nfa, const std::vector<Step>& steps, int split,
                                  size_t* state_bytes = nullptr) {
  std::unique_ptr<NfaState> state = nfa.NewState();
  std::vector<std::string> out;
  std::vector<MatchResult> results;
  auto collect = [&] {
    for (const MatchResult& r : results) out.push_back(RenderResult(nfa.pattern(), r));
    results.clear();
  };
  auto round_trip = [&] {
    std::string bytes;
    Encoder enc(&bytes);
    nfa.SerializeState(*state, &enc);
    if (state_bytes != nullptr) *state_bytes = std::max(*state_bytes, bytes.size());
    std::unique_ptr<NfaState> restored = nfa.NewState();
    Decoder dec(bytes);
    absl::Status st = nfa.RestoreState(restored.get(), &dec);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(dec.done());
    EXPECT_EQ(nfa.NextDeadline(*restored), nfa.NextDeadline(*state));
    EXPECT_EQ(nfa.Stats(*restored).partial_matches, nfa.Stats(*state).partial_matches);
    EXPECT_EQ(nfa.Stats(*restored).buffered_events, nfa.Stats(*state).buffered_events);
    EXPECT_EQ(nfa.Stats(*restored).dropped_partial_matches,
              nfa.Stats(*state).dropped_partial_matches);
    EXPECT_EQ(nfa.IsIdle(*restored), nfa.IsIdle(*state));
    // The encoding is canonical: a restored state serializes to the same bytes.
    std::string again;
    Encoder enc2(&again);
    nfa.SerializeState(*restored, &enc2);
    EXPECT_EQ(again, bytes);
    state = std::move(restored);
  };
  for (size_t i = 0; i <= steps.size(); ++i) {
    if (static_cast<int>(i) == split) round_trip();
    if (i == steps.size()) break;
    const Step& s = steps[i];
    if (s.advance) {
      nfa.AdvanceTime(*state, EventTime(s.ts), &results);
    } else {
      auto e = std::make_shared<Event>();
      e->values = {Value::String(s.name), Value::Float(s.price),
                   Value::Int(static_cast<int64_t>(i + 1))};
      e->time = EventTime(s.ts);
      e->seq = 1000 + i;
      e->raw = absl::StrCat("{\"name\":\"", s.name, "\",\"i\":", i + 1, "}");
      nfa.Process(*state, e, &results);
    }
    collect();
  }
  nfa.AdvanceTime(*state, EventTime::Max(), &results);
  collect();
  return out;
}

// Deterministic input over `names`: times increase by 0..2 (ties included), prices 0..4, an
// AdvanceTime step now and then.
std::vector<Step> MakeSteps(const std::vector<std::string>& names, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Step> steps;
  int64_t ts = 1;
  for (int i = 0; i < n; ++i) {
    ts += static_cast<int64_t>(rng() % 3);
    if (rng() % 9 == 0) {
      steps.push_back({"", 0, ts + static_cast<int64_t>(rng() % 4), true});
      ts = steps.back().ts;
      continue;
    }
    steps.push_back({names[rng() % names.size()], static_cast<double>(rng() % 5), ts, false});
  }
  return steps;
}

struct Case {
  std::string name;
  std::function<void(NfaTestHarness&)> build;
  std::vector<std::string> names;
  int events = 80;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back(
      {"LoopWithCombinationsAndTimeouts",
       [](NfaTestHarness& h) {
         int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
         h.pattern().within = Duration(12);
         h.options().report_timeouts = true;
         h.Build({First(V(a)), FollowedByAny(V(b, Plus().Combinations())), FollowedBy(V(c))});
       },
       {"a", "b", "b", "c", "x"}});
  cases.push_back({"GreedyConsecutiveLoop",
                   [](NfaTestHarness& h) {
                     int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
                     h.pattern().skip = SkipStrategy::kSkipPastLast;
                     h.Build({First(V(a)), FollowedBy(V(b, TimesOrMore(2).Consecutive().Greedy())),
                              FollowedBy(V(c))});
                   },
                   {"a", "b", "b", "b", "c", "x"}});
  cases.push_back({"QuantifiedGroupAndAlternation",
                   [](NfaTestHarness& h) {
                     int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), d = h.Var("d"),
                         e = h.Var("e");
                     h.pattern().within = Duration(20);
                     h.Build({First(V(a)), FollowedBy(Seq({First(V(b)), Next(V(c))}, Plus())),
                              FollowedBy(Alt({V(d), V(e)}))});
                   },
                   {"a", "b", "c", "b", "c", "d", "e", "x"}});
  cases.push_back({"NegationInTheMiddle",
                   [](NfaTestHarness& h) {
                     int a = h.Var("a"), nx = h.Var("x"), b = h.Var("b"), ny = h.Var("y"),
                         c = h.Var("c");
                     h.Build({First(V(a)), FollowedBy(NotV(nx)), FollowedBy(V(b)), Next(NotV(ny)),
                              FollowedBy(V(c))});
                   },
                   {"a", "b", "c", "a", "b", "c", "x", "y", "z"}});
  cases.push_back({"TrailingNegationWithin",
                   [](NfaTestHarness& h) {
                     int a = h.Var("a"), b = h.Var("b"), nc = h.Var("c");
                     h.pattern().within = Duration(8);
                     h.pattern().skip = SkipStrategy::kSkipPastLast;
                     h.Build({First(V(a)), FollowedBy(V(b, Plus())), FollowedBy(NotV(nc))});
                   },
                   {"a", "b", "b", "x", "x", "a", "c"}});
  for (auto [skip, label] : std::vector<std::pair<SkipStrategy, std::string>>{
           {SkipStrategy::kSkipPastLast, "SkipPastLast"},
           {SkipStrategy::kSkipToNext, "SkipToNext"},
           {SkipStrategy::kSkipToFirst, "SkipToFirst"},
           {SkipStrategy::kSkipToLast, "SkipToLast"}}) {
    cases.push_back(
        {label,
         [skip](NfaTestHarness& h) {
           int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
           h.pattern().skip = skip;
           h.pattern().skip_var = b;
           h.pattern().within = Duration(15);
           h.options().report_timeouts = true;
           h.Build({First(V(a, Plus())), FollowedBy(V(b, Plus().Consecutive())), FollowedBy(V(c))});
         },
         {"a", "a", "b", "b", "c", "x"}});
  }
  cases.push_back(
      {"AggregatesAndCapturesInDefine",
       [](NfaTestHarness& h) {
         int s = h.Var("start");
         h.pattern().captures = {{s, kPriceSlot}};
         E e;
         int32_t sum = e.Call(Function::kCoalesce, {e.Agg(0, AggFn::kSum, Type::kFloat), e.Num(0)},
                              Type::kFloat);
         ExprPtr mcond = e.Done(
             e.Bin(ExprOp::kAnd, e.Bin(ExprOp::kEq, e.Name(), e.Str("m")),
                   e.Bin(ExprOp::kLt, e.Bin(ExprOp::kAdd, sum, e.Price(), Type::kFloat),
                         e.Bin(ExprOp::kAdd, e.Capture(0, Type::kFloat), e.Num(4), Type::kFloat))));
         int m = h.Var("m", mcond);
         int end = h.Var("end");
         h.pattern().aggs = {{AggFn::kSum, m, kPriceSlot},
                             {AggFn::kCount, m, -1},
                             {AggFn::kAvg, m, kPriceSlot},
                             {AggFn::kFirst, m, kNameSlot}};
         h.pattern().within = Duration(14);
         h.options().report_timeouts = true;
         h.Build({First(V(s)), FollowedByAny(V(m, Plus().Combinations())), FollowedBy(V(end))});
       },
       {"start", "m", "m", "end", "x"}});
  cases.push_back({"TimeBoundsBetweenSteps",
                   [](NfaTestHarness& h) {
                     // Deadlines come from the last event's time (read from the restored
                     // shared buffer): a -> b+ ->[4] c, a pending `->[3] !x` after it.
                     int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), nx = h.Var("x");
                     h.pattern().within = Duration(16);
                     h.options().report_timeouts = true;
                     h.Build({First(V(a)), FollowedBy(V(b, Plus())), Within(FollowedBy(V(c)), 4),
                              Within(FollowedBy(NotV(nx)), 3)});
                   },
                   {"a", "b", "b", "c", "x", "y"}});
  cases.push_back({"MaxPartialMatchesDrops",
                   [](NfaTestHarness& h) {
                     int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
                     h.options().max_partial_matches = 5;
                     h.Build({First(V(a)), FollowedByAny(V(b)), FollowedBy(V(c))});
                   },
                   {"a", "b", "c", "x"}});
  return cases;
}

class NfaSerialRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(NfaSerialRoundTrip, EverySplitPointGivesTheUninterruptedResults) {
  NfaTestHarness h;
  GetParam().build(h);
  const Nfa& nfa = h.nfa();
  size_t total = 0;  // results over all seeds: the inputs must exercise the pattern
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::vector<Step> steps = MakeSteps(GetParam().names, GetParam().events, seed);
    size_t max_bytes = 0;
    const std::vector<std::string> want = RunSteps(nfa, steps, -1);
    total += want.size();
    for (int split = 0; split <= static_cast<int>(steps.size()); ++split) {
      ASSERT_EQ(RunSteps(nfa, steps, split, &max_bytes), want)
          << "seed " << seed << " split " << split;
    }
    EXPECT_GT(max_bytes, 0u);
  }
  EXPECT_GE(total, 4u);
}

INSTANTIATE_TEST_SUITE_P(Patterns, NfaSerialRoundTrip, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// A state with shared prefixes, captures, aggregates and held matches, as bytes.
struct Rich {
  NfaTestHarness h;
  std::string bytes;
  Rich() {
    Cases()[9].build(h);  // AggregatesAndCapturesInDefine
    for (const char* n : {"start", "m", "m", "x", "start", "m", "m"}) h.Feed(n, 1);
    Encoder enc(&bytes);
    h.nfa().SerializeState(h.state(), &enc);
  }
};

TEST(NfaSerial, RichStateIsNotTrivial) {
  Rich r;
  EXPECT_GT(r.h.Stats().partial_matches, 4u);
  EXPECT_GT(r.bytes.size(), 100u);
}

TEST(NfaSerial, EmptyStateIsSmall) {
  NfaTestHarness h;
  Cases()[0].build(h);
  std::string bytes;
  Encoder enc(&bytes);
  h.nfa().SerializeState(h.state(), &enc);
  EXPECT_LE(bytes.size(), 8u);
  auto st = h.nfa().NewState();
  Decoder dec(bytes);
  ASSERT_TRUE(h.nfa().RestoreState(st.get(), &dec).ok());
  EXPECT_TRUE(h.nfa().IsIdle(*st));
}

TEST(NfaSerial, TruncationIsDataLoss) {
  Rich r;
  for (size_t n = 0; n < r.bytes.size(); ++n) {
    auto st = r.h.nfa().NewState();
    Decoder dec(std::string_view(r.bytes).substr(0, n));
    absl::Status s = r.h.nfa().RestoreState(st.get(), &dec);
    ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << "length " << n << ": " << s;
    EXPECT_TRUE(r.h.nfa().IsIdle(*st));
    EXPECT_EQ(r.h.nfa().Stats(*st).buffered_events, 0u);
  }
}

TEST(NfaSerial, UnknownVersionIsDataLoss) {
  Rich r;
  std::string bad = r.bytes;
  bad[0] = 7;
  auto st = r.h.nfa().NewState();
  Decoder dec(bad);
  EXPECT_EQ(r.h.nfa().RestoreState(st.get(), &dec).code(), absl::StatusCode::kDataLoss);
}

TEST(NfaSerial, FlippedBytesNeverCrash) {
  // Every byte, several masks: either DataLoss, or a state that keeps running to the end.
  Rich r;
  const Nfa& nfa = r.h.nfa();
  int rejected = 0;
  for (size_t i = 0; i < r.bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x02, 0x10, 0x40, 0x80, 0xff}) {
      std::string bad = r.bytes;
      bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ mask);
      auto st = nfa.NewState();
      Decoder dec(bad);
      absl::Status s = nfa.RestoreState(st.get(), &dec);
      if (!s.ok()) {
        ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
        EXPECT_TRUE(nfa.IsIdle(*st));
        ++rejected;
        continue;
      }
      std::vector<MatchResult> out;
      for (const char* n : {"m", "end", "start", "m", "end"}) {
        auto e = std::make_shared<Event>();
        e->values = {Value::String(n), Value::Float(1), Value::Int(99)};
        e->time = EventTime(100);
        nfa.Process(*st, e, &out);
      }
      nfa.AdvanceTime(*st, EventTime::Max(), &out);
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(NfaSerial, GarbageIsDataLoss) {
  NfaTestHarness h;
  Cases()[0].build(h);
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (!junk.empty()) junk[0] = 1;  // past the version check
    auto st = h.nfa().NewState();
    Decoder dec(junk);
    absl::Status s = h.nfa().RestoreState(st.get(), &dec);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    }
  }
}

// ---------------------------------------------------------------- NextDeadline

TEST(NfaNextDeadline, OldestPartialMatchPlusWithin) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.pattern().within = Duration(10);
  h.options().report_timeouts = true;
  h.Build({First(V(a)), FollowedBy(V(b))});
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
  h.Feed("x", 0, 1);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
  h.Feed("a", 0, 3);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(13));
  h.Feed("a", 0, 5);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(13));
  h.AdvanceTo(12);  // no-op before the deadline
  EXPECT_TRUE(h.Timeouts().empty());
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(13));
  h.AdvanceTo(13);
  EXPECT_EQ(h.Timeouts(), (Strings{"a:[2]"}));
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(15));
  h.Feed("b", 0, 14);
  EXPECT_EQ(h.Matches(), (Strings{"a:[3] b:[4]"}));
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
}

TEST(NfaNextDeadline, NoneWithoutWithin) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(a)), FollowedBy(V(b))});
  h.Feed("a");
  EXPECT_FALSE(h.nfa().IsIdle(h.state()));
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
}

TEST(NfaNextDeadline, TimeBoundOfTheStateAPartialMatchWaitsIn) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(a)), Within(FollowedBy(V(b)), 7)});  // no `within`
  h.Feed("a", 0, 3);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(10));
  h.Feed("a", 0, 5);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(10));
  h.AdvanceTo(10);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(12));
  h.Feed("b", 0, 11);
  EXPECT_EQ(h.Matches(), (Strings{"a:[2] b:[3]"}));
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
}

TEST(NfaNextDeadline, IsExactForTrailingNegation) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b");
  h.pattern().within = Duration(10);
  h.Build({First(V(a)), FollowedBy(NotV(nb))});
  h.Feed("a", 0, 1);
  ASSERT_EQ(h.nfa().NextDeadline(h.state()), EventTime(11));
  h.AdvanceTo(10);
  EXPECT_TRUE(h.Matches().empty());
  h.AdvanceTo(11);
  EXPECT_EQ(h.Matches(), (Strings{"a:[1]"}));
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
}

}  // namespace
}  // namespace vigil::cep::testing
