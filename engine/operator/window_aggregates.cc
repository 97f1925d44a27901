#include "engine/operator/window_aggregates.h"

#include <algorithm>
#include <cmath>

namespace vigil::engine {

namespace {

// sum's running value: int + int stays int unless it overflows (then float), as cep::AggAcc.
Value AddNumbers(const Value& a, const Value& b) {
  if (a.type() == Type::kInt && b.type() == Type::kInt) {
    int64_t r;
    if (!__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Value::Int(r);
  }
  return Value::Float(a.AsDouble() + b.AsDouble());
}

}  // namespace

void WindowAggAdd(cep::WindowAggFn fn, const Value& arg, WindowAggState* s) {
  using F = cep::WindowAggFn;
  switch (fn) {
    case F::kCount:
      ++s->n;
      return;
    case F::kFirst:
      if (s->n++ == 0) s->v = arg;
      return;
    case F::kLast:
      ++s->n;
      s->v = arg;
      return;
    default:
      break;
  }
  if (arg.is_null()) return;
  switch (fn) {
    case F::kCountOf:
      ++s->n;
      return;
    case F::kSum:
      if (!IsNumeric(arg.type())) return;
      s->v = s->n == 0 ? arg : AddNumbers(s->v, arg);
      ++s->n;
      return;
    case F::kAvg:
      if (!IsNumeric(arg.type())) return;
      s->fsum += arg.AsDouble();
      ++s->n;
      return;
    case F::kMin:
      if (s->n == 0 || Compare(arg, s->v) < 0) s->v = arg;
      ++s->n;
      return;
    case F::kMax:
      if (s->n == 0 || Compare(arg, s->v) > 0) s->v = arg;
      ++s->n;
      return;
    case F::kDistinct:
      s->set.insert(arg);
      return;
    case F::kQuantile: {
      if (!IsNumeric(arg.type())) return;
      double d = arg.AsDouble();
      if (std::isnan(d)) return;
      s->nums.push_back(d);
      return;
    }
    default:
      return;
  }
}

void WindowAggMerge(cep::WindowAggFn fn, const WindowAggState& src, WindowAggState* dst) {
  using F = cep::WindowAggFn;
  switch (fn) {
    case F::kCount:
    case F::kCountOf:
      dst->n += src.n;
      return;
    case F::kFirst:
      if (dst->n == 0 && src.n > 0) dst->v = src.v;
      dst->n += src.n;
      return;
    case F::kLast:
      if (src.n > 0) dst->v = src.v;
      dst->n += src.n;
      return;
    case F::kSum:
      if (src.n == 0) return;
      dst->v = dst->n == 0 ? src.v : AddNumbers(dst->v, src.v);
      dst->n += src.n;
      return;
    case F::kAvg:
      dst->fsum += src.fsum;
      dst->n += src.n;
      return;
    case F::kMin:
      if (src.n == 0) return;
      if (dst->n == 0 || Compare(src.v, dst->v) < 0) dst->v = src.v;
      dst->n += src.n;
      return;
    case F::kMax:
      if (src.n == 0) return;
      if (dst->n == 0 || Compare(src.v, dst->v) > 0) dst->v = src.v;
      dst->n += src.n;
      return;
    case F::kDistinct:
      dst->set.insert(src.set.begin(), src.set.end());
      return;
    case F::kQuantile:
      dst->nums.insert(dst->nums.end(), src.nums.begin(), src.nums.end());
      return;
  }
}

Value WindowAggResult(const cep::WindowAgg& agg, WindowAggState* s) {
  using F = cep::WindowAggFn;
  switch (agg.fn) {
    case F::kCount:
    case F::kCountOf:
      return Value::Int(s->n);
    case F::kAvg:
      if (s->n == 0) return Value();
      return Value::Float(s->fsum / static_cast<double>(s->n));
    case F::kSum:
    case F::kMin:
    case F::kMax:
    case F::kFirst:
    case F::kLast:
      return s->n == 0 ? Value() : s->v;
    case F::kDistinct:
      return Value::Int(static_cast<int64_t>(s->set.size()));
    case F::kQuantile:
      if (s->nums.empty()) return Value();
      return Value::Float(ExactQuantile(&s->nums, agg.q));
  }
  return Value();
}

double ExactQuantile(std::vector<double>* values, double q) {
  std::vector<double>& x = *values;
  const size_t n = x.size();
  q = std::clamp(q, 0.0, 1.0);
  const double h = q * static_cast<double>(n - 1);
  size_t lo = static_cast<size_t>(std::floor(h));
  if (lo >= n) lo = n - 1;
  std::nth_element(x.begin(), x.begin() + static_cast<ptrdiff_t>(lo), x.end());
  const double a = x[lo];
  const double frac = h - static_cast<double>(lo);
  if (frac == 0 || lo + 1 >= n) return a;
  // The next order statistic is the smallest value after position lo.
  const double b = *std::min_element(x.begin() + static_cast<ptrdiff_t>(lo) + 1, x.end());
  if (a == b) return a;  // also keeps equal infinities finite-safe
  // numpy's _lerp: exact at both ends, monotonic.
  return frac < 0.5 ? a + (b - a) * frac : b - (b - a) * (1 - frac);
}

}  // namespace vigil::engine
