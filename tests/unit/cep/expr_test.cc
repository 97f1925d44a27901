// Unit tests of the compiled expression evaluator (cep/expr/expr.h). Expressions are built by
// hand with AddNode, as the binder would.
#include "cep/expr/expr.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::cep {
namespace {

// Builds expressions node by node and evaluates them against `fields`.
class Builder {
 public:
  int32_t C(Value v) {
    ExprNode n;
    n.op = ExprOp::kConst;
    n.type = v.type();
    n.index = e.AddConst(std::move(v));
    return e.AddNode(std::move(n));
  }
  int32_t I(int64_t i) { return C(Value::Int(i)); }
  int32_t F(double f) { return C(Value::Float(f)); }
  int32_t S(std::string s) { return C(Value::String(std::move(s))); }
  int32_t B(bool b) { return C(Value::Bool(b)); }
  int32_t Ts(int64_t ms) { return C(Value::Timestamp(EventTime(ms))); }
  int32_t Null() { return C(Value()); }
  int32_t Leaf(ExprOp op, int32_t index, Type t = Type::kNull, int32_t b = -1) {
    ExprNode n;
    n.op = op;
    n.index = index;
    n.type = t;
    n.b = b;
    return e.AddNode(std::move(n));
  }
  int32_t Field(int32_t slot, Type t = Type::kNull) { return Leaf(ExprOp::kField, slot, t); }
  int32_t Un(ExprOp op, int32_t a, Type t = Type::kNull) {
    ExprNode n;
    n.op = op;
    n.a = a;
    n.type = t;
    return e.AddNode(std::move(n));
  }
  int32_t Bin(ExprOp op, int32_t a, int32_t b, Type t = Type::kNull) {
    ExprNode n;
    n.op = op;
    n.a = a;
    n.b = b;
    n.type = t;
    return e.AddNode(std::move(n));
  }
  int32_t List(ExprOp op, int32_t a, std::vector<int32_t> args) {
    ExprNode n;
    n.op = op;
    n.a = a;
    n.type = Type::kBool;
    n.args = std::move(args);
    return e.AddNode(std::move(n));
  }
  int32_t Call(Function f, std::vector<int32_t> args, Type t = Type::kNull) {
    ExprNode n;
    n.op = ExprOp::kCall;
    n.index = static_cast<int32_t>(f);
    n.type = t;
    n.args = std::move(args);
    return e.AddNode(std::move(n));
  }
  int32_t Re(ExprOp op, int32_t a, const std::string& pattern) {
    std::string err;
    ExprNode n;
    n.op = op;
    n.a = a;
    n.type = Type::kBool;
    n.index = e.AddRegex(pattern, &err);
    EXPECT_GE(n.index, 0) << err;
    return e.AddNode(std::move(n));
  }

  Value Eval(int32_t root) {
    e.set_root(root);
    return e.Eval(Env());
  }
  bool Test(int32_t root) {
    e.set_root(root);
    return e.Test(Env());
  }
  EvalEnv Env() const {
    EvalEnv env;
    env.fields = fields.data();
    env.captures = captures.data();
    env.locals = locals.data();
    env.aggs = aggs.data();
    return env;
  }

  Expr e;
  std::vector<Value> fields;
  std::vector<Value> captures;
  std::vector<Value> locals;
  std::vector<AggAcc> aggs;
};

constexpr ExprOp kCmpOps[] = {ExprOp::kEq, ExprOp::kNe, ExprOp::kLt,
                              ExprOp::kLe, ExprOp::kGt, ExprOp::kGe};
constexpr ExprOp kArithOps[] = {ExprOp::kAdd, ExprOp::kSub, ExprOp::kMul, ExprOp::kDiv,
                                ExprOp::kMod};

void ExpectInt(const Value& v, int64_t want) {
  ASSERT_EQ(v.type(), Type::kInt) << v.ToString();
  EXPECT_EQ(v.as_int(), want);
}
void ExpectFloat(const Value& v, double want) {
  ASSERT_EQ(v.type(), Type::kFloat) << v.ToString();
  EXPECT_DOUBLE_EQ(v.as_float(), want);
}
void ExpectBool(const Value& v, bool want) {
  ASSERT_EQ(v.type(), Type::kBool) << v.ToString();
  EXPECT_EQ(v.as_bool(), want);
}
void ExpectTs(const Value& v, int64_t want) {
  ASSERT_EQ(v.type(), Type::kTimestamp) << v.ToString();
  EXPECT_EQ(v.as_int(), want);
}

// ---- null ----------------------------------------------------------------------------------

TEST(ExprNull, ArithmeticWithNullIsNull) {
  for (ExprOp op : kArithOps) {
    Builder b;
    EXPECT_TRUE(b.Eval(b.Bin(op, b.I(1), b.Null())).is_null());
    EXPECT_TRUE(b.Eval(b.Bin(op, b.Null(), b.F(2.5))).is_null());
    EXPECT_TRUE(b.Eval(b.Bin(op, b.Null(), b.Null())).is_null());
  }
  Builder b;
  EXPECT_TRUE(b.Eval(b.Un(ExprOp::kNeg, b.Null())).is_null());
}

TEST(ExprNull, EveryComparisonWithNullIsFalse) {
  for (ExprOp op : kCmpOps) {
    Builder b;
    b.fields = {Value(), Value::Int(3)};
    for (auto [l, r] : std::vector<std::pair<int32_t, int32_t>>{{b.Field(0), b.I(1)},
                                                                {b.I(1), b.Field(0)},
                                                                {b.Field(0), b.Null()},
                                                                {b.Field(0), b.Field(0)},
                                                                {b.Null(), b.S("x")}}) {
      int32_t cmp = b.Bin(op, l, r, Type::kBool);
      ExpectBool(b.Eval(cmp), false);
      EXPECT_FALSE(b.Test(cmp));
    }
  }
}

TEST(ExprNull, IsNullAndIsNotNull) {
  Builder b;
  b.fields = {Value(), Value::Int(0)};
  ExpectBool(b.Eval(b.Un(ExprOp::kIsNull, b.Field(0))), true);
  ExpectBool(b.Eval(b.Un(ExprOp::kIsNull, b.Field(1))), false);
  ExpectBool(b.Eval(b.Un(ExprOp::kIsNotNull, b.Field(0))), false);
  ExpectBool(b.Eval(b.Un(ExprOp::kIsNotNull, b.Field(1))), true);
  // On a computed operand too.
  ExpectBool(b.Eval(b.Un(ExprOp::kIsNull, b.Bin(ExprOp::kAdd, b.Field(0), b.I(1)))), true);
  EXPECT_TRUE(b.Test(b.Un(ExprOp::kIsNotNull, b.Field(1))));
}

// ---- three-valued logic ----------------------------------------------------------------------

// Truth values: 1 true, 0 false, -1 null.
int32_t Tv(Builder& b, int v) { return v < 0 ? b.Null() : b.B(v == 1); }
int Result(const Value& v) {
  if (v.is_null()) return -1;
  EXPECT_EQ(v.type(), Type::kBool);
  return v.as_bool() ? 1 : 0;
}

TEST(ExprLogic, AndTruthTable) {
  // SQL: false dominates, then null.
  const int want[3][3] = {/*a=null*/ {-1, 0, -1}, /*a=false*/ {0, 0, 0}, /*a=true*/ {-1, 0, 1}};
  for (int a = -1; a <= 1; ++a) {
    for (int c = -1; c <= 1; ++c) {
      Builder b;
      int32_t n = b.Bin(ExprOp::kAnd, Tv(b, a), Tv(b, c), Type::kBool);
      EXPECT_EQ(Result(b.Eval(n)), want[a + 1][c + 1]) << a << " and " << c;
      EXPECT_EQ(b.Test(n), want[a + 1][c + 1] == 1) << a << " and " << c;
    }
  }
}

TEST(ExprLogic, OrTruthTable) {
  // SQL: true dominates, then null.
  const int want[3][3] = {/*a=null*/ {-1, -1, 1}, /*a=false*/ {-1, 0, 1}, /*a=true*/ {1, 1, 1}};
  for (int a = -1; a <= 1; ++a) {
    for (int c = -1; c <= 1; ++c) {
      Builder b;
      int32_t n = b.Bin(ExprOp::kOr, Tv(b, a), Tv(b, c), Type::kBool);
      EXPECT_EQ(Result(b.Eval(n)), want[a + 1][c + 1]) << a << " or " << c;
      EXPECT_EQ(b.Test(n), want[a + 1][c + 1] == 1) << a << " or " << c;
    }
  }
}

TEST(ExprLogic, Not) {
  Builder b;
  EXPECT_EQ(Result(b.Eval(b.Un(ExprOp::kNot, b.B(true)))), 0);
  EXPECT_EQ(Result(b.Eval(b.Un(ExprOp::kNot, b.B(false)))), 1);
  EXPECT_EQ(Result(b.Eval(b.Un(ExprOp::kNot, b.Null()))), -1);
  EXPECT_FALSE(b.Test(b.Un(ExprOp::kNot, b.Null())));
  // not (null > 1): the comparison is false, so its negation is true.
  EXPECT_TRUE(b.Test(b.Un(ExprOp::kNot, b.Bin(ExprOp::kGt, b.Null(), b.I(1)))));
  // not (null and true) is null: false in a condition.
  EXPECT_FALSE(b.Test(b.Un(ExprOp::kNot, b.Bin(ExprOp::kAnd, b.Null(), b.B(true)))));
}

TEST(ExprLogic, ConditionHoldsOnlyForBoolTrue) {
  Builder b;
  EXPECT_FALSE(b.Test(b.I(1)));
  EXPECT_FALSE(b.Test(b.S("true")));
  EXPECT_FALSE(b.Test(b.Null()));
  EXPECT_TRUE(b.Test(b.B(true)));
  EXPECT_FALSE(b.Test(b.B(false)));
}

// ---- numbers -----------------------------------------------------------------------------------

TEST(ExprNumeric, IntArithmeticStaysInt) {
  Builder b;
  ExpectInt(b.Eval(b.Bin(ExprOp::kAdd, b.I(2), b.I(3))), 5);
  ExpectInt(b.Eval(b.Bin(ExprOp::kSub, b.I(2), b.I(3))), -1);
  ExpectInt(b.Eval(b.Bin(ExprOp::kMul, b.I(4), b.I(-3))), -12);
  ExpectInt(b.Eval(b.Bin(ExprOp::kMod, b.I(7), b.I(3))), 1);
  ExpectInt(b.Eval(b.Bin(ExprOp::kMod, b.I(-7), b.I(3))), -1);  // sign of the dividend (C)
  ExpectInt(b.Eval(b.Un(ExprOp::kNeg, b.I(5))), -5);
}

TEST(ExprNumeric, IntDivIntIsFloat) {
  Builder b;
  ExpectFloat(b.Eval(b.Bin(ExprOp::kDiv, b.I(7), b.I(2))), 3.5);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kDiv, b.I(6), b.I(3))), 2.0);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kDiv, b.I(1), b.I(4))), 0.25);
}

TEST(ExprNumeric, IntFloatMixAsFloat) {
  Builder b;
  ExpectFloat(b.Eval(b.Bin(ExprOp::kAdd, b.I(1), b.F(2.5))), 3.5);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kSub, b.F(2.5), b.I(1))), 1.5);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kMul, b.I(2), b.F(0.25))), 0.5);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kDiv, b.F(1.0), b.I(4))), 0.25);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kMod, b.F(7.5), b.I(2))), 1.5);
  ExpectFloat(b.Eval(b.Bin(ExprOp::kMod, b.I(7), b.F(2.0))), 1.0);
  ExpectFloat(b.Eval(b.Un(ExprOp::kNeg, b.F(0.5))), -0.5);
  ExpectBool(b.Eval(b.Bin(ExprOp::kEq, b.I(1), b.F(1.0))), true);
  ExpectBool(b.Eval(b.Bin(ExprOp::kLt, b.I(2), b.F(2.5))), true);
  ExpectBool(b.Eval(b.Bin(ExprOp::kGe, b.F(2.0), b.I(2))), true);
  ExpectBool(b.Eval(b.Bin(ExprOp::kNe, b.F(2.0), b.I(2))), false);
}

TEST(ExprNumeric, DivisionAndModuloByZeroAreNull) {
  Builder b;
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kDiv, b.I(1), b.I(0))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kDiv, b.F(1.0), b.F(0.0))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kDiv, b.I(1), b.F(-0.0))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kMod, b.I(5), b.I(0))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kMod, b.F(5.0), b.F(0.0))).is_null());
  // A comparison on the null result is false.
  EXPECT_FALSE(b.Test(b.Bin(ExprOp::kGt, b.Bin(ExprOp::kDiv, b.I(1), b.I(0)), b.I(0))));
}

TEST(ExprNumeric, IntOverflowIsNull) {
  Builder b;
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t min = std::numeric_limits<int64_t>::min();
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kAdd, b.I(max), b.I(1))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kSub, b.I(min), b.I(1))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kMul, b.I(max), b.I(2))).is_null());
  EXPECT_TRUE(b.Eval(b.Un(ExprOp::kNeg, b.I(min))).is_null());
  ExpectInt(b.Eval(b.Bin(ExprOp::kMod, b.I(min), b.I(-1))), 0);
}

TEST(ExprNumeric, NanComparesFalse) {
  Builder b;
  const double nan = std::nan("");
  for (ExprOp op : kCmpOps) ExpectBool(b.Eval(b.Bin(op, b.F(nan), b.F(1.0))), false);
}

// ---- timestamps and durations ------------------------------------------------------------------

TEST(ExprTime, TimestampArithmetic) {
  Builder b;
  b.fields = {Value::Timestamp(EventTime(1'700'000'005'000)),
              Value::Timestamp(EventTime(1'700'000'000'000))};
  ExpectInt(b.Eval(b.Bin(ExprOp::kSub, b.Field(0), b.Field(1))), 5000);
  ExpectInt(b.Eval(b.Bin(ExprOp::kSub, b.Field(1), b.Field(0))), -5000);
  ExpectTs(b.Eval(b.Bin(ExprOp::kAdd, b.Field(1), b.I(250))), 1'700'000'000'250);
  ExpectTs(b.Eval(b.Bin(ExprOp::kAdd, b.I(250), b.Field(1))), 1'700'000'000'250);
  ExpectTs(b.Eval(b.Bin(ExprOp::kSub, b.Field(1), b.I(1000))), 1'699'999'999'000);
  // Meaningless combinations are null (the binder rejects them).
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kAdd, b.Field(0), b.Field(1))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kSub, b.I(1), b.Field(1))).is_null());
  EXPECT_TRUE(b.Eval(b.Bin(ExprOp::kMul, b.Field(0), b.I(2))).is_null());
}

TEST(ExprTime, DurationsCompareWithTimestampDifferences) {
  // `b.at - a.at < 5s`: durations are int millisecond constants.
  Builder b;
  b.captures = {Value::Timestamp(EventTime(1000)), Value::Timestamp(EventTime(5999))};
  int32_t diff = b.Bin(ExprOp::kSub, b.Leaf(ExprOp::kCapture, 1, Type::kTimestamp),
                       b.Leaf(ExprOp::kCapture, 0, Type::kTimestamp), Type::kInt);
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kLt, diff, b.I(5000))));
  EXPECT_FALSE(b.Test(b.Bin(ExprOp::kGe, diff, b.I(5000))));
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kLe, diff, b.I(4999))));
}

TEST(ExprTime, TimestampComparesWithIntAndTimestamp) {
  Builder b;
  ExpectBool(b.Eval(b.Bin(ExprOp::kLt, b.Ts(10), b.Ts(11))), true);
  ExpectBool(b.Eval(b.Bin(ExprOp::kEq, b.Ts(10), b.I(10))), true);
  ExpectBool(b.Eval(b.Bin(ExprOp::kGt, b.I(11), b.Ts(10))), true);
  ExpectBool(b.Eval(b.Bin(ExprOp::kNe, b.Ts(10), b.Ts(10))), false);
}

// ---- strings, regexes, in ----------------------------------------------------------------------

TEST(ExprString, LexicographicComparison) {
  Builder b;
  b.fields = {Value::String("abc"), Value::String("abd"), Value::String("abc")};
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kLt, b.Field(0), b.Field(1))));
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kEq, b.Field(0), b.Field(2))));
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kNe, b.Field(0), b.Field(1))));
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kGt, b.S("b"), b.S("abc"))));
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kLt, b.S(""), b.S("a"))));
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kLe, b.Field(0), b.S("abc"))));
  EXPECT_FALSE(b.Test(b.Bin(ExprOp::kLt, b.S("a"), b.S("A"))));  // byte order
  ExpectBool(b.Eval(b.Bin(ExprOp::kGe, b.Field(1), b.Field(0))), true);
}

TEST(ExprString, ComparisonOfComputedOperands) {
  // The non-leaf path of Test(): lower(x) == 'abc'.
  Builder b;
  b.fields = {Value::String("ABC")};
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kEq, b.Call(Function::kLower, {b.Field(0)}), b.S("abc"))));
}

TEST(ExprString, IncomparableTypesAreFalse) {
  Builder b;
  for (ExprOp op : kCmpOps) {
    ExpectBool(b.Eval(b.Bin(op, b.S("1"), b.I(1))), false);
    EXPECT_FALSE(b.Test(b.Bin(op, b.B(true), b.I(1))));
  }
}

TEST(ExprString, Concatenation) {
  Builder b;
  Value v = b.Eval(b.Bin(ExprOp::kAdd, b.S("ab"), b.S("cd")));
  ASSERT_EQ(v.type(), Type::kString);
  EXPECT_EQ(v.as_string(), "abcd");
}

TEST(ExprRegex, UnanchoredSearchAndNegation) {
  Builder b;
  b.fields = {Value::String("GET /admin/login HTTP/1.1"), Value(), Value::String("é")};
  EXPECT_TRUE(b.Test(b.Re(ExprOp::kRegexMatch, b.Field(0), "admin")));
  EXPECT_TRUE(b.Test(b.Re(ExprOp::kRegexMatch, b.Field(0), R"(^GET /\w+/)")));
  EXPECT_FALSE(b.Test(b.Re(ExprOp::kRegexMatch, b.Field(0), "^admin")));
  EXPECT_FALSE(b.Test(b.Re(ExprOp::kRegexNotMatch, b.Field(0), "admin")));
  EXPECT_TRUE(b.Test(b.Re(ExprOp::kRegexNotMatch, b.Field(0), "^POST")));
  ExpectBool(b.Eval(b.Re(ExprOp::kRegexMatch, b.Field(0), "login")), true);
  // UTF-8: `.` is one code point.
  EXPECT_TRUE(b.Test(b.Re(ExprOp::kRegexMatch, b.Field(2), "^.$")));
  // Null operand: both are false.
  ExpectBool(b.Eval(b.Re(ExprOp::kRegexMatch, b.Field(1), "x*")), false);
  ExpectBool(b.Eval(b.Re(ExprOp::kRegexNotMatch, b.Field(1), "x")), false);
  EXPECT_FALSE(b.Test(b.Re(ExprOp::kRegexNotMatch, b.Field(1), "x")));
  // On a computed operand.
  EXPECT_TRUE(b.Test(b.Re(ExprOp::kRegexMatch, b.Call(Function::kUpper, {b.Field(0)}), "ADMIN")));
}

TEST(ExprRegex, BadPatternIsAnError) {
  Expr e;
  std::string err;
  EXPECT_EQ(e.AddRegex("(unclosed", &err), -1);
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(e.AddRegex("ok+", &err), 0);
  EXPECT_EQ(e.AddRegex("(?i)again", &err), 1);
}

TEST(ExprIn, InAndNotIn) {
  Builder b;
  b.fields = {Value::String("FR"), Value(), Value::Int(2)};
  EXPECT_TRUE(b.Test(b.List(ExprOp::kIn, b.Field(0), {b.S("GB"), b.S("FR")})));
  EXPECT_FALSE(b.Test(b.List(ExprOp::kIn, b.Field(0), {b.S("GB"), b.S("DE")})));
  EXPECT_TRUE(b.Test(b.List(ExprOp::kNotIn, b.Field(0), {b.S("GB"), b.S("DE")})));
  EXPECT_FALSE(b.Test(b.List(ExprOp::kNotIn, b.Field(0), {b.S("FR")})));
  EXPECT_FALSE(b.Test(b.List(ExprOp::kIn, b.Field(0), {})));
  EXPECT_TRUE(b.Test(b.List(ExprOp::kNotIn, b.Field(0), {})));
  // Numbers compare as numbers.
  EXPECT_TRUE(b.Test(b.List(ExprOp::kIn, b.Field(2), {b.I(1), b.F(2.0)})));
  // Null operand: both false.
  ExpectBool(b.Eval(b.List(ExprOp::kIn, b.Field(1), {b.S("FR"), b.Null()})), false);
  ExpectBool(b.Eval(b.List(ExprOp::kNotIn, b.Field(1), {b.S("FR")})), false);
  // Null items equal nothing.
  EXPECT_FALSE(b.Test(b.List(ExprOp::kIn, b.Field(0), {b.Null()})));
  EXPECT_TRUE(b.Test(b.List(ExprOp::kNotIn, b.Field(0), {b.Null()})));
  // Computed items.
  EXPECT_TRUE(b.Test(b.List(ExprOp::kIn, b.Field(2), {b.Bin(ExprOp::kAdd, b.I(1), b.I(1))})));
}

// ---- functions -----------------------------------------------------------------------------

TEST(ExprFunctions, Abs) {
  Builder b;
  ExpectInt(b.Eval(b.Call(Function::kAbs, {b.I(-3)})), 3);
  ExpectInt(b.Eval(b.Call(Function::kAbs, {b.I(3)})), 3);
  ExpectFloat(b.Eval(b.Call(Function::kAbs, {b.F(-0.5)})), 0.5);
  EXPECT_TRUE(b.Eval(b.Call(Function::kAbs, {b.Null()})).is_null());
  EXPECT_TRUE(b.Eval(b.Call(Function::kAbs, {b.I(std::numeric_limits<int64_t>::min())})).is_null());
}

TEST(ExprFunctions, MinMax) {
  Builder b;
  ExpectInt(b.Eval(b.Call(Function::kMin, {b.I(3), b.I(2)}, Type::kInt)), 2);
  ExpectInt(b.Eval(b.Call(Function::kMax, {b.I(3), b.I(2)}, Type::kInt)), 3);
  ExpectFloat(b.Eval(b.Call(Function::kMin, {b.I(1), b.F(2.5)}, Type::kFloat)), 1.0);
  ExpectFloat(b.Eval(b.Call(Function::kMax, {b.I(1), b.F(2.5)}, Type::kFloat)), 2.5);
  // Mixed int/float is float even without a static type.
  ExpectFloat(b.Eval(b.Call(Function::kMin, {b.I(1), b.F(2.5)})), 1.0);
  Value s = b.Eval(b.Call(Function::kMax, {b.S("abc"), b.S("abd")}, Type::kString));
  ASSERT_EQ(s.type(), Type::kString);
  EXPECT_EQ(s.as_string(), "abd");
  ExpectTs(b.Eval(b.Call(Function::kMin, {b.Ts(5), b.Ts(3)}, Type::kTimestamp)), 3);
  EXPECT_TRUE(b.Eval(b.Call(Function::kMin, {b.I(1), b.Null()})).is_null());
  EXPECT_TRUE(b.Eval(b.Call(Function::kMax, {b.Null(), b.I(1)})).is_null());
}

TEST(ExprFunctions, LowerUpperAscii) {
  Builder b;
  Value l = b.Eval(b.Call(Function::kLower, {b.S("HeLLo É1")}, Type::kString));
  ASSERT_EQ(l.type(), Type::kString);
  EXPECT_EQ(l.as_string(), "hello É1");  // ASCII only: É unchanged
  Value u = b.Eval(b.Call(Function::kUpper, {b.S("hello é1")}, Type::kString));
  EXPECT_EQ(u.as_string(), "HELLO é1");
  EXPECT_TRUE(b.Eval(b.Call(Function::kLower, {b.Null()})).is_null());
  EXPECT_TRUE(b.Eval(b.Call(Function::kUpper, {b.Null()})).is_null());
}

TEST(ExprFunctions, LenCountsCodePoints) {
  Builder b;
  ExpectInt(b.Eval(b.Call(Function::kLen, {b.S("")})), 0);
  ExpectInt(b.Eval(b.Call(Function::kLen, {b.S("abc")})), 3);
  ExpectInt(b.Eval(b.Call(Function::kLen, {b.S("héllo")})), 5);
  ExpectInt(b.Eval(b.Call(Function::kLen, {b.S("日本")})), 2);
  ExpectInt(b.Eval(b.Call(Function::kLen, {b.S("\xF0\x9F\x98\x80")})), 1);  // U+1F600
  EXPECT_TRUE(b.Eval(b.Call(Function::kLen, {b.Null()})).is_null());
}

TEST(ExprFunctions, ContainsStartsWithEndsWith) {
  Builder b;
  b.fields = {Value::String("card_testing")};
  ExpectBool(b.Eval(b.Call(Function::kContains, {b.Field(0), b.S("test")})), true);
  ExpectBool(b.Eval(b.Call(Function::kContains, {b.Field(0), b.S("TEST")})), false);
  ExpectBool(b.Eval(b.Call(Function::kContains, {b.Field(0), b.S("")})), true);
  ExpectBool(b.Eval(b.Call(Function::kStartsWith, {b.Field(0), b.S("card")})), true);
  ExpectBool(b.Eval(b.Call(Function::kStartsWith, {b.Field(0), b.S("testing")})), false);
  ExpectBool(b.Eval(b.Call(Function::kEndsWith, {b.Field(0), b.S("testing")})), true);
  ExpectBool(b.Eval(b.Call(Function::kEndsWith, {b.Field(0), b.S("card")})), false);
  ExpectBool(b.Eval(b.Call(Function::kEndsWith, {b.S("a"), b.S("longer a")})), false);
  EXPECT_TRUE(b.Eval(b.Call(Function::kContains, {b.Null(), b.S("x")})).is_null());
  EXPECT_TRUE(b.Eval(b.Call(Function::kStartsWith, {b.S("x"), b.Null()})).is_null());
  EXPECT_TRUE(b.Eval(b.Call(Function::kEndsWith, {b.Null(), b.Null()})).is_null());
  EXPECT_FALSE(b.Test(b.Call(Function::kContains, {b.Null(), b.S("x")})));
}

TEST(ExprFunctions, Coalesce) {
  Builder b;
  b.fields = {Value(), Value::Int(7)};
  ExpectInt(b.Eval(b.Call(Function::kCoalesce, {b.Field(0), b.Field(1), b.I(9)})), 7);
  ExpectInt(b.Eval(b.Call(Function::kCoalesce, {b.Field(0), b.Null(), b.I(9)})), 9);
  EXPECT_TRUE(b.Eval(b.Call(Function::kCoalesce, {b.Field(0), b.Null()})).is_null());
  // Statically float: an int argument is widened.
  ExpectFloat(b.Eval(b.Call(Function::kCoalesce, {b.Field(0), b.Field(1), b.F(0.5)}, Type::kFloat)),
              7.0);
  Value s = b.Eval(b.Call(Function::kCoalesce, {b.Null(), b.S("x")}, Type::kString));
  EXPECT_EQ(s.as_string(), "x");
}

// ---- inputs: captures, locals, aggregates ----------------------------------------------------

TEST(ExprInputs, CapturesLocalsAndAggs) {
  Builder b;
  b.fields = {Value::Float(600.0), Value::String("m2")};
  b.captures = {Value::String("m1")};
  b.locals = {Value::String("4111")};
  b.aggs.resize(1);
  b.aggs[0].Add(AggFn::kSum, Value::Float(0.5));
  b.aggs[0].Add(AggFn::kSum, Value::Float(0.25));
  // amount >= 500 and merchant != small.merchant
  int32_t cond =
      b.Bin(ExprOp::kAnd, b.Bin(ExprOp::kGe, b.Field(0, Type::kFloat), b.I(500), Type::kBool),
            b.Bin(ExprOp::kNe, b.Field(1), b.Leaf(ExprOp::kCapture, 0, Type::kString), Type::kBool),
            Type::kBool);
  EXPECT_TRUE(b.Test(cond));
  b.fields[1] = Value::String("m1");
  EXPECT_FALSE(b.Test(cond));
  Value loc = b.Eval(b.Leaf(ExprOp::kLocal, 0, Type::kString));
  EXPECT_EQ(loc.as_string(), "4111");
  int32_t sum = b.Leaf(ExprOp::kAgg, 0, Type::kFloat, static_cast<int32_t>(AggFn::kSum));
  ExpectFloat(b.Eval(sum), 0.75);
  int32_t cnt = b.Leaf(ExprOp::kAgg, 0, Type::kInt, static_cast<int32_t>(AggFn::kCount));
  ExpectInt(b.Eval(cnt), 2);
  EXPECT_TRUE(b.Test(b.Bin(ExprOp::kLt, cnt, b.I(3))));
}

TEST(ExprBasics, TypeRootAndMove) {
  Builder b;
  int32_t r = b.Bin(ExprOp::kAdd, b.I(1), b.I(2), Type::kInt);
  b.Re(ExprOp::kRegexMatch, b.S("abc"), "b");
  b.e.set_root(r);
  EXPECT_EQ(b.e.root(), r);
  EXPECT_EQ(b.e.type(), Type::kInt);
  EXPECT_EQ(b.e.consts().size(), 3u);
  Expr moved = std::move(b.e);
  ExpectInt(moved.Eval(EvalEnv{}), 3);
  Expr assigned;
  assigned = std::move(moved);
  ExpectInt(assigned.Eval(EvalEnv{}), 3);
}

// ---- ToString --------------------------------------------------------------------------------

TEST(ExprToString, RendersByIndexOrName) {
  Builder b;
  int32_t f = b.Field(3, Type::kString);
  int32_t eq = b.Bin(ExprOp::kEq, f, b.S("a'b"), Type::kBool);
  b.e.set_root(eq);
  EXPECT_EQ(b.e.ToString(), R"(($3 == 'a\'b'))");
  b.e.set_name(f, "country");
  EXPECT_EQ(b.e.ToString(), R"((country == 'a\'b'))");

  Builder c;
  int32_t root = c.Bin(
      ExprOp::kOr,
      c.Bin(ExprOp::kAnd, c.Re(ExprOp::kRegexMatch, c.Field(0), "^x.*"),
            c.List(ExprOp::kNotIn, c.Leaf(ExprOp::kCapture, 1), {c.I(1), c.F(2.0)})),
      c.Un(ExprOp::kNot,
           c.Bin(ExprOp::kLt, c.Call(Function::kStartsWith, {c.Leaf(ExprOp::kLocal, 0), c.S("p")}),
                 c.Leaf(ExprOp::kAgg, 2, Type::kFloat, static_cast<int32_t>(AggFn::kAvg)))));
  c.e.set_root(root);
  EXPECT_EQ(c.e.ToString(),
            "((($0 =~ '^x.*') and (capture[1] not in (1, 2.0))) or "
            "(not (starts_with(local[0], 'p') < avg(agg[2]))))");
  Builder d;
  d.e.set_root(d.Un(ExprOp::kIsNotNull, d.Un(ExprOp::kNeg, d.Null())));
  EXPECT_EQ(d.e.ToString(), "((-null) is not null)");
}

// ---- AggAcc ----------------------------------------------------------------------------------

TEST(AggAcc, Count) {
  AggAcc a;
  EXPECT_EQ(a.Result(AggFn::kCount, Type::kFloat), Value::Int(0));
  a.Add(AggFn::kCount, Value());
  a.Add(AggFn::kCount, Value::Int(5));
  EXPECT_EQ(a.Result(AggFn::kCount, Type::kFloat), Value::Int(2));
}

TEST(AggAcc, SumOfIntsIsIntOfFloatsFloat) {
  AggAcc ints;
  EXPECT_EQ(ints.Result(AggFn::kSum, Type::kInt), Value::Int(0));
  EXPECT_EQ(ints.Result(AggFn::kSum, Type::kFloat), Value::Float(0));
  ints.Add(AggFn::kSum, Value::Int(2));
  ints.Add(AggFn::kSum, Value());
  ints.Add(AggFn::kSum, Value::Int(5));
  EXPECT_EQ(ints.Result(AggFn::kSum, Type::kInt), Value::Int(7));
  AggAcc floats;
  floats.Add(AggFn::kSum, Value::Float(0.5));
  floats.Add(AggFn::kSum, Value::Float(900.0));
  EXPECT_EQ(floats.Result(AggFn::kSum, Type::kFloat), Value::Float(900.5));
  AggAcc nulls;
  nulls.Add(AggFn::kSum, Value());
  EXPECT_EQ(nulls.Result(AggFn::kSum, Type::kFloat), Value::Float(0));  // no non-null value
  AggAcc big;
  big.Add(AggFn::kSum, Value::Int(std::numeric_limits<int64_t>::max()));
  big.Add(AggFn::kSum, Value::Int(1));
  EXPECT_EQ(big.Result(AggFn::kSum, Type::kFloat).type(), Type::kFloat);
}

TEST(AggAcc, AvgIsFloat) {
  AggAcc a;
  EXPECT_TRUE(a.Result(AggFn::kAvg, Type::kFloat).is_null());
  a.Add(AggFn::kAvg, Value::Int(1));
  a.Add(AggFn::kAvg, Value());
  a.Add(AggFn::kAvg, Value::Int(2));
  EXPECT_EQ(a.Result(AggFn::kAvg, Type::kFloat), Value::Float(1.5));
}

TEST(AggAcc, MinMaxByValueOrder) {
  AggAcc mn, mx;
  EXPECT_TRUE(mn.Result(AggFn::kMin, Type::kFloat).is_null());
  for (Value v : {Value::Float(3.5), Value(), Value::Float(-1.0), Value::Float(7.0)}) {
    mn.Add(AggFn::kMin, v);
    mx.Add(AggFn::kMax, v);
  }
  EXPECT_EQ(mn.Result(AggFn::kMin, Type::kFloat), Value::Float(-1.0));
  EXPECT_EQ(mx.Result(AggFn::kMax, Type::kFloat), Value::Float(7.0));
  AggAcc smin, smax;
  for (const char* s : {"m", "b", "z"}) {
    smin.Add(AggFn::kMin, Value::String(s));
    smax.Add(AggFn::kMax, Value::String(s));
  }
  EXPECT_EQ(smin.Result(AggFn::kMin, Type::kFloat), Value::String("b"));
  EXPECT_EQ(smax.Result(AggFn::kMax, Type::kFloat), Value::String("z"));
}

TEST(AggAcc, FirstAndLastKeepNulls) {
  AggAcc f, l;
  EXPECT_TRUE(f.Result(AggFn::kFirst, Type::kFloat).is_null());
  for (Value v : {Value(), Value::Int(1), Value::Int(2)}) f.Add(AggFn::kFirst, v);
  EXPECT_TRUE(f.Result(AggFn::kFirst, Type::kFloat).is_null());
  for (Value v : {Value::Int(1), Value::Int(2), Value()}) l.Add(AggFn::kLast, v);
  EXPECT_TRUE(l.Result(AggFn::kLast, Type::kFloat).is_null());
  AggAcc f2, l2;
  for (Value v : {Value::String("a"), Value::String("b")}) {
    f2.Add(AggFn::kFirst, v);
    l2.Add(AggFn::kLast, v);
  }
  EXPECT_EQ(f2.Result(AggFn::kFirst, Type::kFloat), Value::String("a"));
  EXPECT_EQ(l2.Result(AggFn::kLast, Type::kFloat), Value::String("b"));
  EXPECT_EQ(l2.count, 2);
}

}  // namespace
}  // namespace vigil::cep
