#include "cep/expr/expr.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "re2/re2.h"

// Evaluation is a recursive switch over the flat node array. It is called for every event in
// the NFA's hot loop, so leaf operands of comparisons, regex matches, `in` and string functions
// are read by reference (Operand()) instead of being copied into temporaries, and numeric/bool
// results never allocate.
//
// Choices where language.md §6 is silent (also listed in cep/expr/expr.h's header comment):
// - Integer overflow in + - * and unary minus / abs yields null (like division by zero).
// - Comparisons between values of incomparable types (the binder rejects them) and comparisons
//   involving NaN are false, `!=` included.
// - `x not in (...)` is true iff x is not null and equals no item; null items equal nothing.
// - `=~` / `!~` on null (or a non-string) is false.
// - contains/starts_with/ends_with/lower/upper/len of null are null; lower/upper map ASCII only.
// - `+` on two strings concatenates (if the binder allows it).
// - count(v) over no events is 0; sum/avg/min/max with no non-null value are null.

namespace vigil::cep {

Expr::Expr() = default;
Expr::~Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;

int32_t Expr::AddNode(ExprNode n) {
  nodes_.push_back(std::move(n));
  return static_cast<int32_t>(nodes_.size() - 1);
}

int32_t Expr::AddConst(Value v) {
  consts_.push_back(std::move(v));
  return static_cast<int32_t>(consts_.size() - 1);
}

int32_t Expr::AddRegex(const std::string& pattern, std::string* error) {
  RE2::Options opts;
  opts.set_encoding(RE2::Options::EncodingUTF8);
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, opts);
  if (!re->ok()) {
    if (error != nullptr) *error = re->error();
    return -1;
  }
  regexes_.push_back(std::move(re));
  return static_cast<int32_t>(regexes_.size() - 1);
}

void Expr::set_name(int32_t node, std::string name) {
  if (node < 0) return;
  if (names_.size() <= static_cast<size_t>(node)) names_.resize(node + 1);
  names_[node] = std::move(name);
}

namespace {

constexpr int kIncomparable = 2;

bool IsIntLike(Type t) { return t == Type::kInt || t == Type::kTimestamp; }
bool IsNumLike(Type t) { return t == Type::kInt || t == Type::kFloat || t == Type::kTimestamp; }

template <typename T>
int Cmp3(T a, T b) {
  if (a < b) return -1;
  if (b < a) return 1;
  if (a == b) return 0;
  return kIncomparable;  // NaN
}

// Language ordering of two non-null values: -1/0/1, or kIncomparable.
int LangCompare(const Value& a, const Value& b) {
  Type ta = a.type(), tb = b.type();
  if (IsIntLike(ta) && IsIntLike(tb)) return Cmp3(a.as_int(), b.as_int());
  if (IsNumLike(ta) && IsNumLike(tb)) return Cmp3(a.AsDouble(), b.AsDouble());
  if (ta == Type::kString && tb == Type::kString) {
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (ta == Type::kBool && tb == Type::kBool) return Cmp3<int>(a.as_bool(), b.as_bool());
  return kIncomparable;
}

// `a op b` for a comparison operator; false whenever either side is null.
bool CompareHolds(ExprOp op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return false;
  // Equality of strings is the common case in conditions: no three-way compare needed.
  if (a.type() == Type::kString && b.type() == Type::kString) {
    if (op == ExprOp::kEq) return a.as_string() == b.as_string();
    if (op == ExprOp::kNe) return a.as_string() != b.as_string();
  }
  int c = LangCompare(a, b);
  if (c == kIncomparable) return false;
  switch (op) {
    case ExprOp::kEq:
      return c == 0;
    case ExprOp::kNe:
      return c != 0;
    case ExprOp::kLt:
      return c < 0;
    case ExprOp::kLe:
      return c <= 0;
    case ExprOp::kGt:
      return c > 0;
    case ExprOp::kGe:
      return c >= 0;
    default:
      return false;
  }
}

Value Arith(ExprOp op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value();
  Type ta = a.type(), tb = b.type();
  switch (op) {
    case ExprOp::kAdd: {
      if (IsIntLike(ta) && IsIntLike(tb)) {
        if (ta == Type::kTimestamp && tb == Type::kTimestamp) return Value();
        int64_t r;
        if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Value();
        if (ta == Type::kTimestamp || tb == Type::kTimestamp) return Value::Timestamp(EventTime(r));
        return Value::Int(r);
      }
      if (IsNumeric(ta) && IsNumeric(tb)) return Value::Float(a.AsDouble() + b.AsDouble());
      if (ta == Type::kString && tb == Type::kString) {
        std::string s;
        s.reserve(a.as_string().size() + b.as_string().size());
        s.append(a.as_string()).append(b.as_string());
        return Value::String(std::move(s));
      }
      return Value();
    }
    case ExprOp::kSub: {
      if (IsIntLike(ta) && IsIntLike(tb)) {
        if (ta == Type::kInt && tb == Type::kTimestamp) return Value();
        int64_t r;
        if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return Value();
        if (ta == Type::kTimestamp && tb == Type::kInt) return Value::Timestamp(EventTime(r));
        return Value::Int(r);  // int - int, timestamp - timestamp (ms)
      }
      if (IsNumeric(ta) && IsNumeric(tb)) return Value::Float(a.AsDouble() - b.AsDouble());
      return Value();
    }
    case ExprOp::kMul: {
      if (ta == Type::kInt && tb == Type::kInt) {
        int64_t r;
        if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return Value();
        return Value::Int(r);
      }
      if (IsNumeric(ta) && IsNumeric(tb)) return Value::Float(a.AsDouble() * b.AsDouble());
      return Value();
    }
    case ExprOp::kDiv: {
      if (!IsNumeric(ta) || !IsNumeric(tb)) return Value();
      double d = b.AsDouble();
      if (d == 0) return Value();
      return Value::Float(a.AsDouble() / d);
    }
    case ExprOp::kMod: {
      if (ta == Type::kInt && tb == Type::kInt) {
        int64_t d = b.as_int();
        if (d == 0) return Value();
        if (d == -1) return Value::Int(0);  // INT64_MIN % -1 is UB
        return Value::Int(a.as_int() % d);
      }
      if (IsNumeric(ta) && IsNumeric(tb)) {
        double d = b.AsDouble();
        if (d == 0) return Value();
        return Value::Float(std::fmod(a.AsDouble(), d));
      }
      return Value();
    }
    default:
      return Value();
  }
}

// 1 = true, 0 = false, -1 = unknown (null or not a bool).
int Truth(const Value& v) {
  if (v.type() != Type::kBool) return -1;
  return v.as_bool() ? 1 : 0;
}

bool RegexHolds(const Value& a, const RE2& re, bool negate) {
  if (a.type() != Type::kString) return false;
  bool m = RE2::PartialMatch(a.as_string(), re);
  return negate ? !m : m;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Coerces an int result to the node's static type when that is float (mixed-type min/max/
// coalesce are typed float by the binder).
Value Coerce(Value v, Type want) {
  if (want == Type::kFloat && v.type() == Type::kInt) {
    return Value::Float(static_cast<double>(v.as_int()));
  }
  return v;
}

}  // namespace

const Value& Expr::Operand(int32_t i, const EvalEnv& env, Value* tmp) const {
  const ExprNode& n = nodes_[i];
  switch (n.op) {
    case ExprOp::kConst:
      return consts_[n.index];
    case ExprOp::kField:
      return env.fields[n.index];
    case ExprOp::kCapture:
      return env.captures[n.index];
    case ExprOp::kLocal:
      return env.locals[n.index];
    default:
      *tmp = EvalNode(i, env);
      return *tmp;
  }
}

bool Expr::Test(const EvalEnv& env) const { return TestNode(root_, env); }

bool Expr::TestNode(int32_t i, const EvalEnv& env) const {
  const ExprNode& n = nodes_[i];
  switch (n.op) {
    // `a and b` is true iff both are true; `a or b` iff either is (three-valued logic agrees).
    case ExprOp::kAnd:
      return TestNode(n.a, env) && TestNode(n.b, env);
    case ExprOp::kOr:
      return TestNode(n.a, env) || TestNode(n.b, env);
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe: {
      Value ta, tb;
      return CompareHolds(n.op, Operand(n.a, env, &ta), Operand(n.b, env, &tb));
    }
    case ExprOp::kRegexMatch:
    case ExprOp::kRegexNotMatch: {
      Value ta;
      return RegexHolds(Operand(n.a, env, &ta), *regexes_[n.index], n.op == ExprOp::kRegexNotMatch);
    }
    default: {
      Value v = EvalNode(i, env);
      return v.type() == Type::kBool && v.as_bool();
    }
  }
}

Value Expr::EvalNode(int32_t i, const EvalEnv& env) const {
  const ExprNode& n = nodes_[i];
  switch (n.op) {
    case ExprOp::kConst:
      return consts_[n.index];
    case ExprOp::kField:
      return env.fields[n.index];
    case ExprOp::kCapture:
      return env.captures[n.index];
    case ExprOp::kLocal:
      return env.locals[n.index];
    case ExprOp::kAgg:
      return env.aggs[n.index].Result(static_cast<AggFn>(n.b), n.type);
    case ExprOp::kNeg: {
      Value tmp;
      const Value& a = Operand(n.a, env, &tmp);
      if (a.type() == Type::kInt) {
        if (a.as_int() == std::numeric_limits<int64_t>::min()) return Value();
        return Value::Int(-a.as_int());
      }
      if (a.type() == Type::kFloat) return Value::Float(-a.as_float());
      return Value();
    }
    case ExprOp::kNot: {
      int t = Truth(EvalNode(n.a, env));
      if (t < 0) return Value();
      return Value::Bool(t == 0);
    }
    case ExprOp::kAdd:
    case ExprOp::kSub:
    case ExprOp::kMul:
    case ExprOp::kDiv:
    case ExprOp::kMod: {
      Value ta, tb;
      return Arith(n.op, Operand(n.a, env, &ta), Operand(n.b, env, &tb));
    }
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe: {
      Value ta, tb;
      return Value::Bool(CompareHolds(n.op, Operand(n.a, env, &ta), Operand(n.b, env, &tb)));
    }
    case ExprOp::kAnd: {
      int a = Truth(EvalNode(n.a, env));
      if (a == 0) return Value::Bool(false);
      int b = Truth(EvalNode(n.b, env));
      if (b == 0) return Value::Bool(false);
      if (a == 1 && b == 1) return Value::Bool(true);
      return Value();
    }
    case ExprOp::kOr: {
      int a = Truth(EvalNode(n.a, env));
      if (a == 1) return Value::Bool(true);
      int b = Truth(EvalNode(n.b, env));
      if (b == 1) return Value::Bool(true);
      if (a == 0 && b == 0) return Value::Bool(false);
      return Value();
    }
    case ExprOp::kRegexMatch:
    case ExprOp::kRegexNotMatch: {
      Value ta;
      return Value::Bool(
          RegexHolds(Operand(n.a, env, &ta), *regexes_[n.index], n.op == ExprOp::kRegexNotMatch));
    }
    case ExprOp::kIn:
    case ExprOp::kNotIn: {
      Value ta;
      const Value& a = Operand(n.a, env, &ta);
      if (a.is_null()) return Value::Bool(false);
      bool found = false;
      for (int32_t arg : n.args) {
        Value tb;
        if (CompareHolds(ExprOp::kEq, a, Operand(arg, env, &tb))) {
          found = true;
          break;
        }
      }
      return Value::Bool(n.op == ExprOp::kIn ? found : !found);
    }
    case ExprOp::kIsNull:
    case ExprOp::kIsNotNull: {
      Value ta;
      bool null = Operand(n.a, env, &ta).is_null();
      return Value::Bool(n.op == ExprOp::kIsNull ? null : !null);
    }
    case ExprOp::kCall:
      return Call(n, env);
  }
  return Value();
}

Value Expr::Call(const ExprNode& n, const EvalEnv& env) const {
  const auto fn = static_cast<Function>(n.index);
  if (fn == Function::kCoalesce) {
    for (int32_t arg : n.args) {
      Value v = EvalNode(arg, env);
      if (!v.is_null()) return Coerce(std::move(v), n.type);
    }
    return Value();
  }
  if (n.args.empty()) return Value();
  Value t0;
  const Value& a = Operand(n.args[0], env, &t0);
  if (a.is_null()) return Value();
  switch (fn) {
    case Function::kAbs:
      if (a.type() == Type::kInt) {
        if (a.as_int() == std::numeric_limits<int64_t>::min()) return Value();
        return Value::Int(a.as_int() < 0 ? -a.as_int() : a.as_int());
      }
      if (a.type() == Type::kFloat) return Value::Float(std::fabs(a.as_float()));
      return Value();
    case Function::kLower:
    case Function::kUpper: {
      if (a.type() != Type::kString) return Value();
      std::string s = a.as_string();
      const bool lower = fn == Function::kLower;
      for (char& c : s) {
        if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return Value::String(std::move(s));
    }
    case Function::kLen:
      if (a.type() != Type::kString) return Value();
      return Value::Int(static_cast<int64_t>(CodePoints(a.as_string())));
    default:
      break;
  }
  // Two-argument functions.
  if (n.args.size() < 2) return Value();
  Value t1;
  const Value& b = Operand(n.args[1], env, &t1);
  if (b.is_null()) return Value();
  switch (fn) {
    case Function::kMin:
    case Function::kMax: {
      int c = LangCompare(a, b);
      if (c == kIncomparable) return Value();
      bool take_a = fn == Function::kMin ? c <= 0 : c >= 0;
      Type want = n.type;
      if (want != Type::kFloat && IsNumeric(a.type()) && IsNumeric(b.type()) &&
          a.type() != b.type()) {
        want = Type::kFloat;  // int and float mix as float
      }
      return Coerce(take_a ? a : b, want);
    }
    case Function::kContains:
    case Function::kStartsWith:
    case Function::kEndsWith: {
      if (a.type() != Type::kString || b.type() != Type::kString) return Value();
      std::string_view s = a.as_string(), t = b.as_string();
      if (fn == Function::kContains) return Value::Bool(s.find(t) != std::string_view::npos);
      if (fn == Function::kStartsWith) return Value::Bool(s.starts_with(t));
      return Value::Bool(s.ends_with(t));
    }
    default:
      return Value();
  }
}

// ---- ToString --------------------------------------------------------------------------------

std::string_view ExprOpText(ExprOp op) {
  switch (op) {
    case ExprOp::kNeg:
      return "-";
    case ExprOp::kNot:
      return "not";
    case ExprOp::kAdd:
      return "+";
    case ExprOp::kSub:
      return "-";
    case ExprOp::kMul:
      return "*";
    case ExprOp::kDiv:
      return "/";
    case ExprOp::kMod:
      return "%";
    case ExprOp::kEq:
      return "==";
    case ExprOp::kNe:
      return "!=";
    case ExprOp::kLt:
      return "<";
    case ExprOp::kLe:
      return "<=";
    case ExprOp::kGt:
      return ">";
    case ExprOp::kGe:
      return ">=";
    case ExprOp::kAnd:
      return "and";
    case ExprOp::kOr:
      return "or";
    case ExprOp::kRegexMatch:
      return "=~";
    case ExprOp::kRegexNotMatch:
      return "!~";
    case ExprOp::kIn:
      return "in";
    case ExprOp::kNotIn:
      return "not in";
    case ExprOp::kIsNull:
      return "is null";
    case ExprOp::kIsNotNull:
      return "is not null";
    default:
      return "?";
  }
}

namespace {

std::string_view FunctionName(Function f) {
  switch (f) {
    case Function::kAbs:
      return "abs";
    case Function::kMin:
      return "min";
    case Function::kMax:
      return "max";
    case Function::kLower:
      return "lower";
    case Function::kUpper:
      return "upper";
    case Function::kLen:
      return "len";
    case Function::kContains:
      return "contains";
    case Function::kStartsWith:
      return "starts_with";
    case Function::kEndsWith:
      return "ends_with";
    case Function::kCoalesce:
      return "coalesce";
  }
  return "?";
}

std::string_view AggName(AggFn f) {
  switch (f) {
    case AggFn::kCount:
      return "count";
    case AggFn::kSum:
      return "sum";
    case AggFn::kAvg:
      return "avg";
    case AggFn::kMin:
      return "min";
    case AggFn::kMax:
      return "max";
    case AggFn::kFirst:
      return "first";
    case AggFn::kLast:
      return "last";
  }
  return "?";
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('\'');
  for (char c : s) {
    switch (c) {
      case '\'':
        out->append("\\'");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('\'');
}

void AppendLiteral(const Value& v, std::string* out) {
  if (v.type() == Type::kString) {
    AppendQuoted(v.as_string(), out);
  } else if (v.type() == Type::kFloat) {
    std::string s = v.ToString();
    out->append(s);
    // Keep floats recognisable: 900.0 rather than 900.
    if (s.find_first_of(".eEIN") == std::string::npos) out->append(".0");
  } else {
    out->append(v.ToString());
  }
}

}  // namespace

void Expr::Render(int32_t i, std::string* out) const {
  if (i < 0 || static_cast<size_t>(i) >= nodes_.size()) {
    out->append("<?>");
    return;
  }
  const ExprNode& n = nodes_[i];
  const std::string* name =
      static_cast<size_t>(i) < names_.size() && !names_[i].empty() ? &names_[i] : nullptr;
  switch (n.op) {
    case ExprOp::kConst:
      if (n.index >= 0 && static_cast<size_t>(n.index) < consts_.size()) {
        AppendLiteral(consts_[n.index], out);
      } else {
        out->append("<const?>");
      }
      return;
    case ExprOp::kField:
    case ExprOp::kCapture:
    case ExprOp::kLocal:
    case ExprOp::kAgg:
      if (name != nullptr) {
        out->append(*name);
        return;
      }
      if (n.op == ExprOp::kField) {
        out->append("$").append(std::to_string(n.index));
      } else if (n.op == ExprOp::kCapture) {
        out->append("capture[").append(std::to_string(n.index)).append("]");
      } else if (n.op == ExprOp::kLocal) {
        out->append("local[").append(std::to_string(n.index)).append("]");
      } else {
        out->append(AggName(static_cast<AggFn>(n.b)))
            .append("(agg[")
            .append(std::to_string(n.index))
            .append("])");
      }
      return;
    case ExprOp::kNeg:
      out->append("(-");
      Render(n.a, out);
      out->append(")");
      return;
    case ExprOp::kNot:
      out->append("(not ");
      Render(n.a, out);
      out->append(")");
      return;
    case ExprOp::kRegexMatch:
    case ExprOp::kRegexNotMatch:
      out->append("(");
      Render(n.a, out);
      out->append(n.op == ExprOp::kRegexMatch ? " =~ " : " !~ ");
      if (n.index >= 0 && static_cast<size_t>(n.index) < regexes_.size()) {
        AppendQuoted(regexes_[n.index]->pattern(), out);
      } else {
        out->append("<regex?>");
      }
      out->append(")");
      return;
    case ExprOp::kIn:
    case ExprOp::kNotIn:
      out->append("(");
      Render(n.a, out);
      out->append(" ").append(ExprOpText(n.op)).append(" (");
      for (size_t k = 0; k < n.args.size(); ++k) {
        if (k > 0) out->append(", ");
        Render(n.args[k], out);
      }
      out->append("))");
      return;
    case ExprOp::kIsNull:
    case ExprOp::kIsNotNull:
      out->append("(");
      Render(n.a, out);
      out->append(n.op == ExprOp::kIsNull ? " is null)" : " is not null)");
      return;
    case ExprOp::kCall:
      out->append(FunctionName(static_cast<Function>(n.index))).append("(");
      for (size_t k = 0; k < n.args.size(); ++k) {
        if (k > 0) out->append(", ");
        Render(n.args[k], out);
      }
      out->append(")");
      return;
    default:
      out->append("(");
      Render(n.a, out);
      out->append(" ").append(ExprOpText(n.op)).append(" ");
      Render(n.b, out);
      out->append(")");
      return;
  }
}

std::string Expr::ToString() const {
  std::string out;
  Render(root_, &out);
  return out;
}

// ---- AggAcc ----------------------------------------------------------------------------------

void AggAcc::Add(AggFn fn, const Value& v) {
  ++count;
  switch (fn) {
    case AggFn::kCount:
      return;
    case AggFn::kFirst:
      if (count == 1) value = v;
      return;
    case AggFn::kLast:
      value = v;
      return;
    default:
      break;
  }
  if (v.is_null()) return;
  ++n;
  switch (fn) {
    case AggFn::kSum:
      if (n == 1) {
        value = v;
      } else if (value.type() == Type::kInt && v.type() == Type::kInt) {
        int64_t r;
        if (__builtin_add_overflow(value.as_int(), v.as_int(), &r)) {
          value = Value::Float(value.AsDouble() + v.AsDouble());  // overflow: degrade to float
        } else {
          value = Value::Int(r);
        }
      } else if (IsNumeric(value.type()) && IsNumeric(v.type())) {
        value = Value::Float(value.AsDouble() + v.AsDouble());
      }
      return;
    case AggFn::kAvg:
      if (IsNumeric(v.type())) fsum += v.AsDouble();
      return;
    case AggFn::kMin:
      if (n == 1 || Compare(v, value) < 0) value = v;
      return;
    case AggFn::kMax:
      if (n == 1 || Compare(v, value) > 0) value = v;
      return;
    default:
      return;
  }
}

Value AggAcc::Result(AggFn fn, Type type) const {
  switch (fn) {
    case AggFn::kCount:
      return Value::Int(count);
    case AggFn::kAvg:
      if (n == 0) return Value();
      return Value::Float(fsum / static_cast<double>(n));
    case AggFn::kSum:
      if (n == 0) return type == Type::kInt ? Value::Int(0) : Value::Float(0);
      return value;
    case AggFn::kMin:
    case AggFn::kMax:
    case AggFn::kFirst:
    case AggFn::kLast:
      return value;
  }
  return Value();
}

}  // namespace vigil::cep
