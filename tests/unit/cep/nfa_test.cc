// NFA semantics, ported from (and in the spirit of) Flink CEP's NFAITCase, GreedyITCase,
// GroupITCase, NotPatternITCase, AfterMatchSkipITCase, UntilConditionITCase and
// TimesRangeITCase, plus Vigil's extensions (alternation, trailing negation, captures and
// aggregates). Expected results follow Flink's semantics, derived by hand.
#include "cep/nfa/nfa.h"

#include "gtest/gtest.h"
#include "tests/unit/cep/nfa_test_harness.h"

namespace vigil::cep::testing {
namespace {

// ---------------------------------------------------------------- contiguity

TEST(NfaContiguity, RelaxedSkipsUntilFirstMatch) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(a)), FollowedBy(V(b))});
  h.FeedAll({"a", "c", "b", "a", "b"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[3]", "a:[4] b:[5]"}));
}

TEST(NfaContiguity, StrictNeedsTheVeryNextEvent) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(a)), Next(V(b))});
  h.FeedAll({"a", "c", "b", "a", "b"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[4] b:[5]"}));
}

TEST(NfaContiguity, NonDeterministicTakesEveryLaterMatch) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(a)), FollowedByAny(V(b))});
  h.FeedAll({"a", "b", "c", "b"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2]", "a:[1] b:[4]"}));
}

TEST(NfaContiguity, UndefinedVariableMatchesAnyEvent) {
  // NFAITCase.testNoConditionNFA: start -> end with no conditions.
  NfaTestHarness h;
  int s = h.VarAny("start"), e = h.VarAny("end");
  h.Build({First(V(s)), FollowedBy(V(e))});
  h.FeedAll({"x", "y", "z"});
  EXPECT_EQ(h.Matches(), (Strings{"start:[1] end:[2]", "start:[2] end:[3]"}));
}

TEST(NfaContiguity, MixedBranching) {
  // NFAITCase.testBranchingPatternMixedFollowedBy, reduced.
  NfaTestHarness h;
  int s = h.Var("s"), m1 = h.Var("m1"), m2 = h.Var("m2"), e = h.Var("e");
  h.Build({First(V(s)), FollowedByAny(V(m1)), FollowedBy(V(m2)), FollowedByAny(V(e))});
  h.FeedAll({"s", "m1", "m1", "m2", "m2", "e"});
  // followedBy after m1 takes only the first m2 for each m1 branch.
  EXPECT_EQ(h.Matches(), (Strings{"s:[1] m1:[2] m2:[4] e:[6]", "s:[1] m1:[3] m2:[4] e:[6]"}));
}

// ---------------------------------------------------------------- quantifiers

TEST(NfaQuantifier, OneOrMoreRelaxed) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(V(b, Plus())), FollowedBy(V(c))});
  h.FeedAll({"a", "b", "x", "b", "c"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2,4] c:[5]", "a:[1] b:[2] c:[5]"}));
}

TEST(NfaQuantifier, OneOrMoreAfterFollowedByAnyWithCombinations) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedByAny(V(b, Plus().Combinations())), FollowedBy(V(c))});
  h.FeedAll({"a", "b", "b", "c"});
  EXPECT_EQ(h.Matches(),
            (Strings{"a:[1] b:[2,3] c:[4]", "a:[1] b:[2] c:[4]", "a:[1] b:[3] c:[4]"}));
}

TEST(NfaQuantifier, OneOrMoreConsecutiveStopsAtGap) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(V(b, Plus().Consecutive())), FollowedBy(V(c))});
  h.FeedAll({"a", "b", "b", "x", "b", "c"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2,3] c:[6]", "a:[1] b:[2] c:[6]"}));
}

TEST(NfaQuantifier, OptionalTakesOrSkips) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(V(b, Opt())), FollowedBy(V(c))});
  h.FeedAll({"a", "b", "c"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2] c:[3]", "a:[1] c:[3]"}));
}

TEST(NfaQuantifier, TimesExactlyConsecutive) {
  // NFAITCase.testStartWithTimes-like: middle{2} consecutive -> end.
  NfaTestHarness h;
  int m = h.Var("m"), e = h.Var("e");
  h.Build({First(V(m, Times(2).Consecutive())), FollowedBy(V(e))});
  h.FeedAll({"m", "m", "x", "m", "e"});
  EXPECT_EQ(h.Matches(), (Strings{"m:[1,2] e:[5]"}));
}

TEST(NfaQuantifier, TimesRangeStrict) {
  // TimesRangeITCase.testTimesRangeStrict-like: c a{1,3} consecutive -> b.
  NfaTestHarness h;
  int c = h.Var("c"), a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(c)), Next(V(a, Times(1, 3).Consecutive())), FollowedBy(V(b))});
  h.FeedAll({"c", "a", "a", "a", "a", "b"});
  EXPECT_EQ(h.Matches(),
            (Strings{"c:[1] a:[2,3,4] b:[6]", "c:[1] a:[2,3] b:[6]", "c:[1] a:[2] b:[6]"}));
}

TEST(NfaQuantifier, TimesOrMoreCombinations) {
  NfaTestHarness h;
  int c = h.Var("c"), a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(c)), FollowedByAny(V(a, TimesOrMore(2).Combinations())), FollowedBy(V(b))});
  h.FeedAll({"c", "a", "a", "a", "b"});
  EXPECT_EQ(h.Matches(), (Strings{"c:[1] a:[2,3,4] b:[5]", "c:[1] a:[2,3] b:[5]",
                                  "c:[1] a:[2,4] b:[5]", "c:[1] a:[3,4] b:[5]"}));
}

TEST(NfaQuantifier, GreedyOneOrMoreTakesAll) {
  // GreedyITCase.testGreedyOneOrMore: a middle event that could also be `end` stays in the
  // loop.
  NfaTestHarness h;
  int s = h.Var("start", NameIs("c"));
  int m = h.Var("middle", NameIs("a"));
  int e = h.Var("end", NameIn({"a", "d"}));
  h.Build({First(V(s)), FollowedBy(V(m, Plus().Greedy())), FollowedBy(V(e))});
  h.FeedAll({"c", "a", "a", "a", "d"});
  EXPECT_EQ(h.Matches(), (Strings{"start:[1] middle:[2,3,4] end:[5]"}));
}

TEST(NfaQuantifier, NonGreedyBranchesOnEveryEnd) {
  NfaTestHarness h;
  int s = h.Var("start", NameIs("c"));
  int m = h.Var("middle", NameIs("a"));
  int e = h.Var("end", NameIn({"a", "d"}));
  h.Build({First(V(s)), FollowedBy(V(m, Plus())), FollowedBy(V(e))});
  h.FeedAll({"c", "a", "a", "d"});
  // a3 ends {c a2} (relaxed: a matching `end` cannot be skipped) and extends the loop.
  EXPECT_EQ(h.Matches(),
            (Strings{"start:[1] middle:[2,3] end:[4]", "start:[1] middle:[2] end:[3]"}));
}

TEST(NfaQuantifier, UntilEndsTheLoop) {
  // UntilConditionITCase.testUntilConditionFollowedByOneOrMore-like.
  NfaTestHarness h;
  int s = h.Var("start", NameIs("c"));
  int m = h.Var("middle", NameIs("a"));
  h.Build({First(V(s)), FollowedBy(V(m, Plus().Until(PriceIs(5.0))))});
  h.Feed("c");
  h.Feed("a", 1);
  h.Feed("a", 2);
  h.Feed("b", 5);  // until holds: the loop ends here
  h.Feed("a", 3);
  EXPECT_EQ(h.Matches(), (Strings{"start:[1] middle:[2,3]", "start:[1] middle:[2]"}));
}

// ---------------------------------------------------------------- groups

TEST(NfaGroup, TimesGroup) {
  // GroupITCase.testGroupFollowedByTimes-like: start -> (m1 -> m2){2} -> end.
  NfaTestHarness h;
  int s = h.Var("s"), m1 = h.Var("m1"), m2 = h.Var("m2"), e = h.Var("e");
  h.Build({First(V(s)), FollowedBy(Seq({First(V(m1)), FollowedBy(V(m2))}, Times(2))),
           FollowedBy(V(e))});
  h.FeedAll({"s", "m1", "m2", "m1", "m2", "m1", "m2", "e"});
  EXPECT_EQ(h.Matches(), (Strings{"s:[1] m1:[2,4] m2:[3,5] e:[8]"}));
}

TEST(NfaGroup, OptionalGroup) {
  NfaTestHarness h;
  int s = h.Var("s"), m1 = h.Var("m1"), m2 = h.Var("m2"), e = h.Var("e");
  h.Build({First(V(s)), FollowedBy(Seq({First(V(m1)), Next(V(m2))}, Opt())), FollowedBy(V(e))});
  h.FeedAll({"s", "m1", "m2", "e"});
  EXPECT_EQ(h.Matches(), (Strings{"s:[1] e:[4]", "s:[1] m1:[2] m2:[3] e:[4]"}));
}

TEST(NfaGroup, OptionalHeadOfGroup) {
  // GroupITCase.testGroupStartsWithOptionalPattern: a (b? c) d over a c d.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), d = h.Var("d");
  h.Build({First(V(a)), Next(Seq({First(V(b, Opt())), Next(V(c))})), Next(V(d))});
  h.FeedAll({"a", "c", "d", "a", "b", "c", "d"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] c:[2] d:[3]", "a:[4] b:[5] c:[6] d:[7]"}));
}

TEST(NfaGroup, FollowedByOptionalGroupDecidesTheSkipOnce) {
  // GroupITCase.testFollowedByOptionalGroupPattern: a -> (b c)? d over a d d: only {a d1}.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), d = h.Var("d");
  h.Build({First(V(a)), FollowedBy(Seq({First(V(b)), Next(V(c))}, Opt())), Next(V(d))});
  h.FeedAll({"a", "d", "d"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] d:[2]"}));
}

TEST(NfaGroup, OneOrMoreGroup) {
  NfaTestHarness h;
  int s = h.Var("s"), m1 = h.Var("m1"), m2 = h.Var("m2"), e = h.Var("e");
  h.Build(
      {First(V(s)), FollowedBy(Seq({First(V(m1)), FollowedBy(V(m2))}, Plus())), FollowedBy(V(e))});
  h.FeedAll({"s", "m1", "m2", "m1", "m2", "e"});
  EXPECT_EQ(h.Matches(), (Strings{"s:[1] m1:[2,4] m2:[3,5] e:[6]", "s:[1] m1:[2] m2:[3] e:[6]"}));
}

// ---------------------------------------------------------------- alternation

TEST(NfaAlternation, EitherBranchThenCommonContinuation) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), d = h.Var("d");
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(V(a)), FollowedBy(Alt({V(b), V(c)})), FollowedBy(V(d))});
  h.FeedAll({"a", "b", "d", "a", "c", "d"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2] d:[3]", "a:[4] c:[5] d:[6]"}));
}

TEST(NfaAlternation, BranchesAreIndependentWithoutSkip) {
  // Each alternative is its own relaxed branch: a1 also waits for the first c.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), d = h.Var("d");
  h.Build({First(V(a)), FollowedBy(Alt({V(b), V(c)})), FollowedBy(V(d))});
  h.FeedAll({"a", "b", "d", "a", "c", "d"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2] d:[3]", "a:[1] c:[5] d:[6]", "a:[4] c:[5] d:[6]"}));
}

TEST(NfaAlternation, AlternativesAreSequences) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c"), x = h.Var("x");
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(Alt({Seq({First(V(a)), Next(V(b))}), Seq({First(V(c))})})), FollowedBy(V(x))});
  h.FeedAll({"a", "b", "x", "c", "x", "a", "q", "b", "x"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2] x:[3]", "c:[4] x:[5]"}));
}

TEST(NfaAlternation, QuantifiedAlternation) {
  NfaTestHarness h;
  int s = h.Var("s"), b = h.Var("b"), c = h.Var("c"), e = h.Var("e");
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(V(s)), Next(Alt({V(b), V(c)}, Plus().Consecutive())), Next(V(e))});
  h.FeedAll({"s", "b", "c", "b", "e"});
  EXPECT_EQ(h.Matches(), (Strings{"s:[1] b:[2,4] c:[3] e:[5]"}));
}

// ---------------------------------------------------------------- negation

TEST(NfaNegation, NotFollowedByKillsThePartialMatch) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(NotV(nb)), FollowedBy(V(c))});
  h.FeedAll({"a", "b", "c", "a", "x", "c"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[4] c:[6]"}));
}

TEST(NfaNegation, NotNextChecksOnlyTheNextEvent) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), Next(NotV(nb)), FollowedBy(V(c))});
  h.FeedAll({"a", "b", "c", "a", "x", "b", "c"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[4] c:[7]"}));
}

TEST(NfaNegation, NotFollowedByBeforeOptional) {
  // NotPatternITCase.testNotFollowedByBeforeOptional: a -> !b ->> c? -> d; taking c ends the
  // negation's scope.
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b"), c = h.Var("c"), d = h.Var("d");
  h.Build({First(V(a)), FollowedBy(NotV(nb)), FollowedByAny(V(c, Opt())), FollowedBy(V(d))});
  h.FeedAll({"a", "c", "b", "d"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] c:[2] d:[4]"}));
}

TEST(NfaNegation, TrailingNegationMatchesWhenWindowCloses) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b");
  h.pattern().within = Duration(10);
  h.Build({First(V(a)), FollowedBy(NotV(nb))});
  h.Feed("a", 0, 1);
  h.Feed("x", 0, 5);
  h.AdvanceTo(10);
  EXPECT_TRUE(h.Matches().empty());
  h.AdvanceTo(11);
  ASSERT_EQ(h.Matches(), (Strings{"a:[1]"}));
  EXPECT_EQ(h.raw_matches()[0].time, EventTime(11));  // start + within
  h.Feed("a", 0, 20);
  h.Feed("b", 0, 25);  // the negation is seen: no match
  h.Finish();
  EXPECT_EQ(h.Matches().size(), 1u);
  EXPECT_EQ(h.Stats().buffered_events, 0u);
  EXPECT_TRUE(h.nfa().IsIdle(h.state()));
}

TEST(NfaNegation, MissingHeartbeat) {
  // beat -> !later within 60, `later` undefined: any event after a beat cancels its alert.
  NfaTestHarness h;
  int beat = h.Var("beat"), later = h.VarAny("later");
  h.pattern().within = Duration(60);
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(V(beat)), FollowedBy(NotV(later))});
  h.Feed("beat", 0, 0);
  h.Feed("beat", 0, 30);
  h.Feed("beat", 0, 200);
  h.Finish();
  ASSERT_EQ(h.Matches(true), (Strings{"beat:[2]", "beat:[3]"}));
  EXPECT_EQ(h.raw_matches()[0].time, EventTime(90));
  EXPECT_EQ(h.raw_matches()[1].time, EventTime(260));
}

TEST(NfaNegation, TrailingNegationAfterLoopKilledByNegatedEvent) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), nc = h.Var("c");
  h.pattern().within = Duration(100);
  h.Build({First(V(a)), FollowedBy(V(b, Plus())), FollowedBy(NotV(nc))});
  h.FeedAll({"a", "b", "b", "c"});
  h.Finish();
  EXPECT_TRUE(h.Matches().empty());
  EXPECT_EQ(h.Stats().buffered_events, 0u);
}

TEST(NfaNegation, TrailingNegationWithoutWithinIsRejected) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b");
  absl::Status s = h.TryBuild({First(V(a)), FollowedBy(NotV(nb))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NfaNegation, TrailingNotNextNeedsNoWithin) {
  // NotPatternITCase.testNotNextNoMatchesAtTheEnd and its complement: the event after the
  // last step decides; a match waits for it.
  NfaTestHarness h;
  int a = h.Var("a"), c = h.Var("c"), d = h.Var("d"), nb = h.Var("b");
  h.Build({First(V(a)), FollowedByAny(V(c)), FollowedByAny(V(d)), Next(NotV(nb))});
  h.FeedAll({"a", "c", "c", "d"});
  EXPECT_TRUE(h.Matches().empty());
  h.Feed("b");
  EXPECT_TRUE(h.Matches().empty());
  h.FeedAll({"a", "c", "d"});        // 6 7 8
  EXPECT_TRUE(h.Matches().empty());  // nothing after d yet: undecided, and no deadline
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);
  h.Feed("e");
  // followedByAny: [a1] and [a1 c2], [a1 c3] are still alive and reach the second d too.
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] c:[2] d:[8]", "a:[1] c:[3] d:[8]", "a:[1] c:[7] d:[8]",
                                  "a:[6] c:[7] d:[8]"}));
}

// ---------------------------------------------------------------- time bounds between steps

TEST(NfaStepBound, NextStepMustComeWithinTheBoundOfThePreviousEvent) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.options().report_timeouts = true;
  h.Build({First(V(a)), FollowedBy(V(b)), Within(FollowedBy(V(c)), 5)});
  h.Feed("a", 0, 0);
  h.Feed("b", 0, 20);  // no bound on b
  h.Feed("c", 0, 24);  // 4 after b
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2] c:[3]"}));
  h.Feed("a", 0, 30);
  h.Feed("b", 0, 31);
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(36));
  h.Feed("c", 0, 36);  // exactly at the bound: too late (half open)
  EXPECT_EQ(h.Matches().size(), 1u);
  ASSERT_EQ(h.Timeouts(), (Strings{"a:[4] b:[5]"}));
  EXPECT_EQ(h.raw_timeouts()[0].time, EventTime(36));
  EXPECT_TRUE(h.nfa().IsIdle(h.state()));
}

TEST(NfaStepBound, DeadlineIsTheEarliestOverPartialMatches) {
  // Deadlines are not in start order: a later partial match may expire first.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.pattern().within = Duration(100);
  h.options().report_timeouts = true;
  h.Build({First(V(a)), FollowedBy(V(b)), Within(FollowedBy(V(c)), 10)});
  h.Feed("a", 0, 0);   // [a1] waits for b: deadline 100 (within)
  h.Feed("a", 0, 50);  // [a2]: 150
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(100));
  h.Feed("b", 0, 60);  // [a1 b3] and [a2 b3] wait for c: 70
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), EventTime(70));
  h.AdvanceTo(69);
  EXPECT_TRUE(h.Timeouts().empty());
  h.AdvanceTo(70);
  EXPECT_EQ(h.Timeouts(), (Strings{"a:[1] b:[3]", "a:[2] b:[3]"}));
  for (const MatchResult& r : h.raw_timeouts()) EXPECT_EQ(r.time, EventTime(70));
  EXPECT_EQ(h.nfa().NextDeadline(h.state()), std::nullopt);  // b was taken (followedBy)
}

TEST(NfaStepBound, CheckedOnPathsThroughAnOptionalStep) {
  // a -> b? ->[5] c: from b when taken, from a when b is skipped.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b", NameIs("b")), c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(V(b, Opt())), Within(FollowedBy(V(c)), 5)});
  h.Feed("a", 0, 0);
  h.Feed("b", 0, 4);
  h.Feed("c", 0, 8);
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2] c:[3]"}));
  h.ClearResults();
  h.Feed("a", 0, 20);
  h.Feed("c", 0, 24);
  EXPECT_EQ(h.Matches(), (Strings{"a:[4] c:[5]"}));
}

TEST(NfaStepBound, TrailingNotFollowedByClosedByTheBound) {
  // NotPatternITCase.testNotFollowedByWithinAtEnd(PREVIOUS_AND_CURRENT).
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b");
  h.Build({First(V(a)), Within(FollowedBy(NotV(nb)), 3)});
  for (auto [name, ts] : std::vector<std::pair<const char*, int64_t>>{
           {"a", 1}, {"b", 2}, {"a", 4}, {"c", 5}, {"b", 10}, {"a", 11}, {"b", 13}}) {
    h.Feed(name, 0, ts);
  }
  h.Finish();
  ASSERT_EQ(h.Matches(), (Strings{"a:[3]"}));
  EXPECT_EQ(h.raw_matches()[0].time, EventTime(7));
}

TEST(NfaStepBound, StrictBoundedTrailingNegation) {
  // a [3] !b: the next event must come within 3 and not be a b.
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b");
  h.options().report_timeouts = true;
  h.Build({First(V(a)), Within(Next(NotV(nb)), 3)});
  h.Feed("a", 0, 0);
  h.Feed("x", 0, 2);
  EXPECT_EQ(h.Matches(), (Strings{"a:[1]"}));
  h.Feed("a", 0, 10);
  h.Feed("x", 0, 13);
  EXPECT_EQ(h.Timeouts(), (Strings{"a:[3]"}));
  EXPECT_EQ(h.raw_timeouts()[0].time, EventTime(13));
}

TEST(NfaStepBound, RejectedBeforeAGroupAndOnTheFirstStep) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  EXPECT_EQ(h.TryBuild({First(V(a)), Within(FollowedBy(Seq({First(V(b)), Next(V(c))})), 5)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.TryBuild({Within(First(V(a)), 5), FollowedBy(V(b))}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NfaNegation, NegationCannotStartAPattern) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b");
  absl::Status s = h.TryBuild({First(NotV(nb)), FollowedBy(V(a))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- skip strategies

class NfaSkip : public ::testing::TestWithParam<std::pair<SkipStrategy, Strings>> {};

TEST_P(NfaSkip, Strategies) {
  // a -> b over a1 a2 b3 b4: no skip finds {a1 b3} and {a2 b3}.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.pattern().skip = GetParam().first;
  h.pattern().skip_var = GetParam().first == SkipStrategy::kSkipToFirst ? a : b;
  h.Build({First(V(a)), FollowedBy(V(b))});
  h.FeedAll({"a", "a", "b", "b"});
  EXPECT_EQ(h.Matches(), GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(
    All, NfaSkip,
    ::testing::Values(
        std::make_pair(SkipStrategy::kNoSkip, Strings{"a:[1] b:[3]", "a:[2] b:[3]"}),
        std::make_pair(SkipStrategy::kSkipToNext, Strings{"a:[1] b:[3]", "a:[2] b:[3]"}),
        std::make_pair(SkipStrategy::kSkipPastLast, Strings{"a:[1] b:[3]"}),
        std::make_pair(SkipStrategy::kSkipToFirst, Strings{"a:[1] b:[3]", "a:[2] b:[3]"}),
        std::make_pair(SkipStrategy::kSkipToLast, Strings{"a:[1] b:[3]"})));

TEST(NfaSkipStrategy, SkipPastLastTimes) {
  // AfterMatchSkipITCase.testSkipPastLast: a{3} over six a's.
  NfaTestHarness h;
  int a = h.Var("a");
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(V(a, Times(3)))});
  h.FeedAll({"a", "a", "a", "a", "a", "a"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1,2,3]", "a:[4,5,6]"}));
}

TEST(NfaSkipStrategy, SkipToNextEndingInLoop) {
  // AfterMatchSkipITCase.testSkipToNextWithQuantifierAtTheEnd.
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.pattern().skip = SkipStrategy::kSkipToNext;
  h.Build({First(V(a)), Next(V(b, Plus()))});
  h.FeedAll({"a", "b", "b", "b"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2]"}));
}

TEST(NfaSkipStrategy, SkipToLastOfLoop) {
  // a b+ consecutive, skip to last b, over a1 b2 b3 a4 b5: the first match a1 b2 prunes
  // partial matches started before b2 (a1's longer branch).
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.pattern().skip = SkipStrategy::kSkipToLast;
  h.pattern().skip_var = b;
  h.Build({First(V(a)), Next(V(b, Plus().Consecutive()))});
  h.FeedAll({"a", "b", "b", "a", "b"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2]", "a:[4] b:[5]"}));
}

TEST(NfaSkipStrategy, CompletedMatchWaitsForEarlierPartialMatch) {
  // (p -> q -> r | s): s2 completes while p1 is still running; Flink holds s2 back until p1
  // completes (which, with skip past last, discards s2) or times out (which frees it).
  for (bool complete : {true, false}) {
    NfaTestHarness h;
    int p = h.Var("p"), q = h.Var("q"), r = h.Var("r"), s = h.Var("s");
    h.pattern().skip = SkipStrategy::kSkipPastLast;
    h.pattern().within = Duration(10);
    h.Build({First(Alt({Seq({First(V(p)), FollowedBy(V(q)), FollowedBy(V(r))}), V(s)}))});
    h.Feed("p", 0, 1);
    h.Feed("s", 0, 2);
    EXPECT_TRUE(h.Matches().empty());
    if (complete) {
      h.Feed("q", 0, 3);
      h.Feed("r", 0, 4);
      EXPECT_EQ(h.Matches(), (Strings{"p:[1] q:[3] r:[4]"}));
    } else {
      h.AdvanceTo(11);
      EXPECT_EQ(h.Matches(), (Strings{"s:[2]"}));
    }
    h.Finish();
    EXPECT_EQ(h.Stats().buffered_events, 0u);
  }
}

// ---------------------------------------------------------------- within and timeouts

TEST(NfaWithin, TimeoutsReportBoundEvents) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.pattern().within = Duration(10);
  h.options().report_timeouts = true;
  h.Build({First(V(a)), FollowedBy(V(b)), FollowedBy(V(c))});
  h.Feed("a", 0, 1);
  h.Feed("b", 0, 2);
  h.AdvanceTo(10);
  EXPECT_TRUE(h.Timeouts().empty());
  h.AdvanceTo(11);
  ASSERT_EQ(h.Timeouts(), (Strings{"a:[1] b:[2]"}));
  EXPECT_EQ(h.raw_timeouts()[0].time, EventTime(11));
  EXPECT_EQ(h.Stats().buffered_events, 0u);
}

TEST(NfaWithin, EventAtWindowEndIsOutside) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.pattern().within = Duration(10);
  h.options().report_timeouts = true;
  h.Build({First(V(a)), FollowedBy(V(b))});
  h.Feed("a", 0, 1);
  h.Feed("b", 0, 11);  // 11 >= 1 + 10: the partial match timed out first
  EXPECT_TRUE(h.Matches().empty());
  EXPECT_EQ(h.Timeouts(), (Strings{"a:[1]"}));
  h.Feed("a", 0, 20);
  h.Feed("b", 0, 29);
  EXPECT_EQ(h.Matches(), (Strings{"a:[3] b:[4]"}));
}

TEST(NfaWithin, TimeoutsDiscardedWithoutOnTimeout) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.pattern().within = Duration(5);
  h.Build({First(V(a)), FollowedByAny(V(b))});
  h.Feed("a", 0, 1);
  h.Feed("b", 0, 2);
  h.Finish();
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2]"}));
  EXPECT_TRUE(h.Timeouts().empty());
  EXPECT_TRUE(h.nfa().IsIdle(h.state()));
}

TEST(NfaWithin, FlinkTimeoutCase) {
  // NFAITCase.testSimplePatternWithTimeoutHandlingWithinFirstAndLast.
  NfaTestHarness h;
  int s = h.Var("start"), m = h.Var("middle"), e = h.Var("end");
  h.pattern().within = Duration(10);
  h.options().report_timeouts = true;
  h.Build({First(V(s)), FollowedByAny(V(m)), FollowedByAny(V(e))});
  h.Feed("start", 0, 1);
  h.Feed("start", 0, 2);
  h.Feed("middle", 0, 3);
  h.Feed("foobar", 0, 4);
  h.Feed("end", 0, 11);
  h.Feed("end", 0, 13);
  h.Finish();
  EXPECT_EQ(h.Matches(), (Strings{"start:[2] middle:[3] end:[5]"}));
  EXPECT_EQ(h.Timeouts(),
            (Strings{"start:[1]", "start:[1] middle:[3]", "start:[2]", "start:[2] middle:[3]"}));
}

// ---------------------------------------------------------------- iterative conditions

TEST(NfaIterative, CaptureOfEarlierVariable) {
  // b's condition compares with a.price (a capture).
  NfaTestHarness h;
  int a = h.Var("a");
  h.pattern().captures = {{a, kPriceSlot}};
  E e;
  ExprPtr bcond = e.Done(e.Bin(ExprOp::kAnd, e.Bin(ExprOp::kEq, e.Name(), e.Str("b")),
                               e.Bin(ExprOp::kGt, e.Price(), e.Capture(0, Type::kFloat))));
  int b = h.Var("b", bcond);
  int c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(V(b)), FollowedBy(V(c))});
  h.Feed("a", 5);
  h.Feed("b", 3);
  h.Feed("b", 7);
  h.Feed("c");
  ASSERT_EQ(h.Matches(), (Strings{"a:[1] b:[3] c:[4]"}));
  EXPECT_EQ(h.raw_matches()[0].captures[0], Value::Float(5));
}

TEST(NfaIterative, SumInDefineWithCombinations) {
  // IterativeConditionsITCase.testIterativeWithBranchingPatternCombinations, with the sum
  // over no events counted as 0: every branch keeps its own accumulator (copy on branch).
  NfaTestHarness h;
  int s = h.Var("start");
  E e;
  int32_t sum =
      e.Call(Function::kCoalesce, {e.Agg(0, AggFn::kSum, Type::kFloat), e.Num(0)}, Type::kFloat);
  ExprPtr mcond = e.Done(
      e.Bin(ExprOp::kAnd, e.Bin(ExprOp::kEq, e.Name(), e.Str("m")),
            e.Bin(ExprOp::kLt, e.Bin(ExprOp::kAdd, sum, e.Price(), Type::kFloat), e.Num(5))));
  int m = h.Var("m", mcond);
  int end = h.Var("end");
  h.pattern().aggs = {{AggFn::kSum, m, kPriceSlot}};
  h.Build({First(V(s)), FollowedBy(V(m, Plus().Combinations())), FollowedBy(V(end))});
  h.Feed("start");
  h.Feed("m", 1);
  h.Feed("m", 2);
  h.Feed("m", 3);
  h.Feed("end");
  EXPECT_EQ(h.Matches(), (Strings{"start:[1] m:[2,3] end:[5]", "start:[1] m:[2,4] end:[5]",
                                  "start:[1] m:[2] end:[5]"}));
  for (const MatchResult& r : h.raw_matches()) {
    double total = 0;
    for (const EventPtr& ev : r.events[m]) total += ev->values[kPriceSlot].as_float();
    EXPECT_DOUBLE_EQ(r.aggs[0].Result(AggFn::kSum, Type::kFloat).AsDouble(), total);
    EXPECT_EQ(r.aggs[0].count, static_cast<int64_t>(r.events[m].size()));
  }
}

TEST(NfaIterative, CountBoundsALoop) {
  NfaTestHarness h;
  E e;
  ExprPtr acond =
      e.Done(e.Bin(ExprOp::kAnd, e.Bin(ExprOp::kEq, e.Name(), e.Str("a")),
                   e.Bin(ExprOp::kLt, e.Agg(0, AggFn::kCount, Type::kInt), e.Int(2), Type::kBool)));
  int a = h.Var("a", acond);
  int b = h.Var("b");
  h.pattern().aggs = {{AggFn::kCount, a, -1}};
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(V(a, Plus().Consecutive().Greedy())), Next(V(b))});
  h.FeedAll({"a", "a", "a", "b"});
  // count(a) < 2 admits at most two a's; a1's loop cannot reach b (strict), a2 a3 b can.
  EXPECT_EQ(h.Matches(), (Strings{"a:[2,3] b:[4]"}));
}

// ---------------------------------------------------------------- shared buffer

TEST(NfaSharedBuffer, EventStoredOnceAcrossPartialMatches) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedByAny(V(b)), FollowedByAny(V(c))});
  h.FeedAll({"a", "a", "b"});
  NfaStateStats st = h.Stats();
  EXPECT_EQ(st.partial_matches, 4u);  // {a1} {a2} {a1 b3} {a2 b3}
  EXPECT_EQ(st.buffered_events, 3u);  // b3 once
}

TEST(NfaSharedBuffer, ReleasedWhenMatchesComplete) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), c = h.Var("c");
  h.pattern().skip = SkipStrategy::kSkipPastLast;
  h.Build({First(V(a)), FollowedBy(V(b, Plus())), Next(V(c))});
  h.FeedAll({"a", "b", "b", "c"});
  EXPECT_EQ(h.Matches(), (Strings{"a:[1] b:[2,3] c:[4]"}));
  EXPECT_EQ(h.Stats().buffered_events, 0u);
  EXPECT_EQ(h.Stats().partial_matches, 0u);
  EXPECT_TRUE(h.nfa().IsIdle(h.state()));
}

TEST(NfaSharedBuffer, StaysFlatWhenPartialMatchesExpire) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), z = h.Var("z");
  h.pattern().within = Duration(100);
  h.Build({First(V(a)), FollowedByAny(V(b, Plus())), FollowedBy(V(z))});
  size_t max_buffered = 0;
  for (int i = 0; i < 200000; ++i) {
    h.Feed(i % 10 == 0 ? "a" : (i % 10 == 5 ? "b" : "x"), 0, i);
    max_buffered = std::max(max_buffered, h.Stats().buffered_events);
  }
  EXPECT_LE(max_buffered, 25u);  // at most the a's and b's of one window
  h.Finish();
  EXPECT_EQ(h.Stats().buffered_events, 0u);
  EXPECT_EQ(h.Stats().partial_matches, 0u);
}

TEST(NfaSharedBuffer, StopStateReleasesEverything) {
  NfaTestHarness h;
  int a = h.Var("a"), nb = h.Var("b"), c = h.Var("c");
  h.Build({First(V(a)), FollowedBy(NotV(nb)), FollowedBy(V(c))});
  h.FeedAll({"a", "a", "b"});
  EXPECT_EQ(h.Stats().buffered_events, 0u);
  EXPECT_TRUE(h.nfa().IsIdle(h.state()));
}

// ---------------------------------------------------------------- limits and ordering

TEST(NfaLimits, MaxPartialMatchesDropsOldest) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.options().max_partial_matches = 2;
  h.Build({First(V(a)), FollowedBy(V(b))});
  h.FeedAll({"a", "a", "a"});
  EXPECT_EQ(h.Stats().partial_matches, 2u);
  EXPECT_EQ(h.Stats().dropped_partial_matches, 1u);
  EXPECT_EQ(h.Stats().buffered_events, 2u);
  h.Feed("b");
  EXPECT_EQ(h.Matches(), (Strings{"a:[2] b:[4]", "a:[3] b:[4]"}));
}

TEST(NfaOrdering, MatchesInStartOrder) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b");
  h.Build({First(V(a)), FollowedByAny(V(b))});
  h.FeedAll({"a", "a", "a", "b"});
  EXPECT_EQ(h.Matches(/*sorted=*/false), (Strings{"a:[1] b:[4]", "a:[2] b:[4]", "a:[3] b:[4]"}));
}

TEST(NfaOrdering, EventsPerVariableInMatchOrder) {
  NfaTestHarness h;
  int a = h.Var("a");
  h.Build({First(V(a, Times(3).Consecutive()))});
  h.FeedAll({"a", "a", "a"});
  ASSERT_EQ(h.raw_matches().size(), 1u);
  const auto& evs = h.raw_matches()[0].events[a];
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0]->values[kIdSlot].as_int(), 1);
  EXPECT_EQ(evs[2]->values[kIdSlot].as_int(), 3);
  EXPECT_EQ(h.raw_matches()[0].time, EventTime(3));
}

// ---------------------------------------------------------------- explain

TEST(NfaExplain, TextAndDot) {
  NfaTestHarness h;
  int a = h.Var("a"), b = h.Var("b"), nc = h.Var("c");
  h.pattern().within = Duration(1000);
  h.Build({First(V(a)), FollowedBy(V(b, Plus())), FollowedBy(NotV(nc))});
  std::string text = h.nfa().ToText();
  EXPECT_NE(text.find("[start]"), std::string::npos) << text;
  EXPECT_NE(text.find("[pending]"), std::string::npos) << text;
  EXPECT_NE(text.find("[stop]"), std::string::npos) << text;
  EXPECT_NE(text.find("take ->"), std::string::npos) << text;
  EXPECT_NE(text.find("proceed ->"), std::string::npos) << text;
  EXPECT_NE(text.find("ignore ->"), std::string::npos) << text;
  EXPECT_NE(text.find("'b'"), std::string::npos) << text;
  std::string dot = h.nfa().ToDot();
  EXPECT_EQ(dot.rfind("digraph nfa {", 0), 0u);
  EXPECT_NE(dot.find("->"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cep::testing
