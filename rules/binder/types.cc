#include "rules/binder/types.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace vigil::rules {

namespace {

std::string InvalidOperands(cep::ExprOp op, Type a, Type b) {
  std::string m = "invalid operands to '";
  m += cep::ExprOpText(op);
  m += "': ";
  m += TypeName(a);
  m += " and ";
  m += TypeName(b);
  return m;
}

bool IsNum(Type t) { return t == Type::kInt || t == Type::kFloat; }

}  // namespace

std::optional<Type> ArithmeticType(cep::ExprOp op, Type a, Type b, std::string* error) {
  using cep::ExprOp;
  // The null literal: the result is null at run time; type it as the other operand.
  if (a == Type::kNull && b == Type::kNull) {
    *error = InvalidOperands(op, a, b);
    return std::nullopt;
  }
  if (a == Type::kNull || b == Type::kNull) {
    Type other = a == Type::kNull ? b : a;
    bool ok =
        IsNum(other) || (other == Type::kTimestamp && (op == ExprOp::kAdd || op == ExprOp::kSub));
    if (!ok) {
      *error = InvalidOperands(op, a, b);
      return std::nullopt;
    }
    if (op == ExprOp::kDiv && IsNum(other)) return Type::kFloat;
    return other;
  }
  switch (op) {
    case ExprOp::kAdd:
      if (a == Type::kTimestamp && b == Type::kInt) return Type::kTimestamp;
      if (a == Type::kInt && b == Type::kTimestamp) return Type::kTimestamp;
      break;
    case ExprOp::kSub:
      if (a == Type::kTimestamp && b == Type::kTimestamp) return Type::kInt;
      if (a == Type::kTimestamp && b == Type::kInt) return Type::kTimestamp;
      break;
    default:
      break;
  }
  if (!IsNum(a) || !IsNum(b)) {
    *error = InvalidOperands(op, a, b);
    return std::nullopt;
  }
  if (op == ExprOp::kDiv) return Type::kFloat;
  return (a == Type::kInt && b == Type::kInt) ? Type::kInt : Type::kFloat;
}

std::optional<Type> NegateType(Type a, std::string* error) {
  if (IsNum(a) || a == Type::kNull) return a;
  *error = "invalid operand to unary '-': ";
  *error += TypeName(a);
  return std::nullopt;
}

bool EqualityComparable(Type a, Type b) {
  if (a == Type::kNull || b == Type::kNull) return true;
  if (IsNum(a) && IsNum(b)) return true;
  return a == b;
}

std::optional<Type> CompareType(cep::ExprOp op, Type a, Type b, std::string* error,
                                bool* null_compare) {
  using cep::ExprOp;
  *null_compare = false;
  if (a == Type::kNull || b == Type::kNull) {
    *null_compare = true;
    return Type::kBool;
  }
  bool ordering = op == ExprOp::kLt || op == ExprOp::kLe || op == ExprOp::kGt || op == ExprOp::kGe;
  if (!EqualityComparable(a, b)) {
    *error = "cannot compare ";
    *error += TypeName(a);
    *error += " with ";
    *error += TypeName(b);
    return std::nullopt;
  }
  if (ordering && a == Type::kBool) {
    *error = "operator '";
    *error += cep::ExprOpText(op);
    *error += "' cannot order bool values";
    return std::nullopt;
  }
  return Type::kBool;
}

std::optional<Type> CommonType(Type a, Type b) {
  if (a == Type::kNull) return b;
  if (b == Type::kNull) return a;
  if (a == b) return a;
  if (IsNum(a) && IsNum(b)) return Type::kFloat;
  return std::nullopt;
}

namespace {

constexpr std::array<FunctionInfo, 10> kFunctions = {{
    {"abs", cep::Function::kAbs, 1, 1},
    {"min", cep::Function::kMin, 2, 2},
    {"max", cep::Function::kMax, 2, 2},
    {"lower", cep::Function::kLower, 1, 1},
    {"upper", cep::Function::kUpper, 1, 1},
    {"len", cep::Function::kLen, 1, 1},
    {"contains", cep::Function::kContains, 2, 2},
    {"starts_with", cep::Function::kStartsWith, 2, 2},
    {"ends_with", cep::Function::kEndsWith, 2, 2},
    {"coalesce", cep::Function::kCoalesce, 1, -1},
}};

std::string ArgTypeError(const FunctionInfo& f, size_t i, std::string_view want, Type got) {
  std::string m = "argument ";
  m += std::to_string(i + 1);
  m += " of '";
  m += f.name;
  m += "' must be ";
  m += want;
  m += ", not ";
  m += TypeName(got);
  return m;
}

}  // namespace

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string> FunctionNames() {
  std::vector<std::string> out;
  for (const FunctionInfo& f : kFunctions) out.emplace_back(f.name);
  return out;
}

std::string ArityError(const FunctionInfo& f, int n) {
  if (n >= f.min_args && (f.max_args < 0 || n <= f.max_args)) return "";
  std::string m = "function '";
  m += f.name;
  m += "' takes ";
  if (f.max_args < 0) {
    m += "at least ";
    m += std::to_string(f.min_args);
    m += f.min_args == 1 ? " argument" : " arguments";
  } else {
    m += std::to_string(f.min_args);
    m += f.min_args == 1 ? " argument" : " arguments";
  }
  m += ", got ";
  m += std::to_string(n);
  return m;
}

std::optional<Type> CallType(const FunctionInfo& f, const std::vector<Type>& args,
                             std::string* error, int* bad_arg) {
  auto require = [&](size_t i, bool ok, std::string_view want) {
    if (ok) return true;
    *error = ArgTypeError(f, i, want, args[i]);
    *bad_arg = static_cast<int>(i);
    return false;
  };
  auto is_string = [&](size_t i) { return args[i] == Type::kString || args[i] == Type::kNull; };
  switch (f.fn) {
    case cep::Function::kAbs:
      if (!require(0, IsNum(args[0]) || args[0] == Type::kNull, "numeric")) return std::nullopt;
      return args[0] == Type::kNull ? Type::kInt : args[0];
    case cep::Function::kMin:
    case cep::Function::kMax: {
      for (size_t i = 0; i < 2; ++i) {
        bool ok = args[i] != Type::kBool;
        if (!require(i, ok, "a number, string or timestamp")) return std::nullopt;
      }
      std::optional<Type> t = CommonType(args[0], args[1]);
      if (!t) {
        *error = "arguments of '";
        *error += f.name;
        *error += "' have incompatible types ";
        *error += TypeName(args[0]);
        *error += " and ";
        *error += TypeName(args[1]);
        *bad_arg = 1;
        return std::nullopt;
      }
      return *t == Type::kNull ? Type::kInt : *t;
    }
    case cep::Function::kLower:
    case cep::Function::kUpper:
      if (!require(0, is_string(0), "string")) return std::nullopt;
      return Type::kString;
    case cep::Function::kLen:
      if (!require(0, is_string(0), "string")) return std::nullopt;
      return Type::kInt;
    case cep::Function::kContains:
    case cep::Function::kStartsWith:
    case cep::Function::kEndsWith:
      if (!require(0, is_string(0), "string")) return std::nullopt;
      if (!require(1, is_string(1), "string")) return std::nullopt;
      return Type::kBool;
    case cep::Function::kCoalesce: {
      Type t = Type::kNull;
      for (size_t i = 0; i < args.size(); ++i) {
        std::optional<Type> u = CommonType(t, args[i]);
        if (!u) {
          *error = "arguments of 'coalesce' have incompatible types ";
          *error += TypeName(t);
          *error += " and ";
          *error += TypeName(args[i]);
          *bad_arg = static_cast<int>(i);
          return std::nullopt;
        }
        t = *u;
      }
      return t;
    }
  }
  return std::nullopt;
}

std::optional<cep::AggFn> FindPatternAgg(std::string_view name) {
  if (name == "count") return cep::AggFn::kCount;
  if (name == "sum") return cep::AggFn::kSum;
  if (name == "avg") return cep::AggFn::kAvg;
  if (name == "min") return cep::AggFn::kMin;
  if (name == "max") return cep::AggFn::kMax;
  if (name == "first") return cep::AggFn::kFirst;
  if (name == "last") return cep::AggFn::kLast;
  return std::nullopt;
}

std::string_view AggName(cep::AggFn fn) {
  switch (fn) {
    case cep::AggFn::kCount:
      return "count";
    case cep::AggFn::kSum:
      return "sum";
    case cep::AggFn::kAvg:
      return "avg";
    case cep::AggFn::kMin:
      return "min";
    case cep::AggFn::kMax:
      return "max";
    case cep::AggFn::kFirst:
      return "first";
    case cep::AggFn::kLast:
      return "last";
  }
  return "?";
}

std::optional<Type> PatternAggType(cep::AggFn fn, Type t, std::string* error) {
  switch (fn) {
    case cep::AggFn::kCount:
      return Type::kInt;
    case cep::AggFn::kSum:
    case cep::AggFn::kAvg:
      if (!IsNum(t)) {
        *error = "'";
        *error += AggName(fn);
        *error += "' needs a numeric field, not ";
        *error += TypeName(t);
        return std::nullopt;
      }
      return fn == cep::AggFn::kAvg ? Type::kFloat : t;
    case cep::AggFn::kMin:
    case cep::AggFn::kMax:
    case cep::AggFn::kFirst:
    case cep::AggFn::kLast:
      return t;
  }
  return std::nullopt;
}

std::string Fingerprint64(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string CanonicalSource(std::string_view text) {
  std::string out;
  bool pending_space = false;
  size_t i = 0;
  auto emit = [&](std::string_view s) {
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += s;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      pending_space = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = true;
      ++i;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      // A quoted run, escapes included; raw strings r"..." have no escapes but no `\"` either
      // matters little for a fingerprint.
      size_t j = i + 1;
      while (j < text.size() && text[j] != c) {
        if (text[j] == '\\' && c != '`') ++j;
        ++j;
      }
      j = j < text.size() ? j + 1 : j;
      emit(text.substr(i, j - i));
      i = j;
      continue;
    }
    emit(text.substr(i, 1));
    ++i;
  }
  return out;
}

}  // namespace vigil::rules
