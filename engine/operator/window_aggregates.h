#pragma once
// Partial states of the window aggregates of language.md §4 (`compute AGG as NAME`), used by
// the WindowOperator per pane (a slide-aligned slice of event time) and per window (the merge
// of its panes). Pure functions over plain structs: no I/O, no allocation beyond the values a
// state must keep (quantile keeps its numbers, distinct its distinct values).
//
// Semantics (where language.md is silent, the choice is written here):
// - count(): events of the window. count(f): events whose f is not null.
// - sum(f): null values skipped; int arguments sum as int and degrade to float on overflow
//   (as cep::AggAcc); null when no value is non-null. avg(f): float; null without values.
// - min(f) / max(f): over non-null values (Value's total order); null without values.
// - first(f) / last(f): f of the window's first / last event in event-time order (ties in
//   arrival order), null included (as cep::AggAcc and SQL FIRST_VALUE/LAST_VALUE).
// - distinct(f): the number of distinct non-null values (SQL COUNT(DISTINCT f)); values are
//   compared with Value's structural equality.
// - quantile(q, f): exact, over the non-null, non-NaN values, by linear interpolation between
//   the closest ranks (numpy.quantile's default `linear` method, R type 7, Prometheus'
//   quantile_over_time): with the n values sorted x[0..n-1], h = q * (n - 1),
//   result = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]). Float; null when
//   there is no value. quantile(0.5, f) is the median; q = 0 the min, q = 1 the max.
//
// Thread-compatible.
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "cep/rule_set.h"
#include "core/value.h"

namespace vigil::engine {

struct ValueHash {
  size_t operator()(const Value& v) const { return v.Hash(); }
};
struct ValueEq {
  bool operator()(const Value& a, const Value& b) const { return a == b; }
};
using ValueSet = absl::flat_hash_set<Value, ValueHash, ValueEq>;

// The partial state of one aggregate over a set of events. Which members are used depends on
// the aggregate function; the others stay empty.
struct WindowAggState {
  int64_t n = 0;             // count(): events; first/last: events; others: non-null values
  Value v;                   // sum (int until it overflows), min, max, first, last
  double fsum = 0;           // avg
  std::vector<double> nums;  // quantile: the values, unordered
  ValueSet set;              // distinct: the distinct values

  void Clear() { *this = WindowAggState(); }
};

// Adds one event's argument value (`arg` is ignored by count()).
void WindowAggAdd(cep::WindowAggFn fn, const Value& arg, WindowAggState* s);

// Merges `src`, whose events all come after those of *dst in event time, into *dst.
void WindowAggMerge(cep::WindowAggFn fn, const WindowAggState& src, WindowAggState* dst);

// The aggregate's result over the events added/merged into *s. May reorder s->nums.
Value WindowAggResult(const cep::WindowAgg& agg, WindowAggState* s);

// The exact q-quantile (0 <= q <= 1) of *values by linear interpolation between closest ranks
// (see above); reorders *values. Requires !values->empty(), no NaN.
double ExactQuantile(std::vector<double>* values, double q);

}  // namespace vigil::engine
