#include "rules/ast/dump.h"

#include <cstdio>

namespace vigil::rules::ast {

std::string DumpLiteral(const Literal& l) {
  switch (l.kind) {
    case LiteralKind::kNull:
      return "null";
    case LiteralKind::kBool:
      return l.b ? "true" : "false";
    case LiteralKind::kInt:
      return std::to_string(l.i);
    case LiteralKind::kFloat: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%gf", l.f);
      return buf;
    }
    case LiteralKind::kString:
      return (l.raw ? "r\"" : "\"") + l.s + "\"";
    case LiteralKind::kDuration:
      return std::to_string(l.i) + "ms";
  }
  return "?";
}

std::string DumpExpr(const Expr& e) {
  std::string out;
  auto args = [&](size_t from) {
    for (size_t i = from; i < e.args.size(); ++i) out += " " + DumpExpr(e.args[i]);
  };
  switch (e.kind) {
    case ExprKind::kLiteral:
      return DumpLiteral(e.literal);
    case ExprKind::kName:
      return e.name.ToString();
    case ExprKind::kCall:
      out = "(call " + e.func.name;
      args(0);
      return out + ")";
    case ExprKind::kUnary:
      out = e.unary_op == UnaryOp::kNeg ? "(neg" : "(not";
      args(0);
      return out + ")";
    case ExprKind::kBinary:
      out = std::string("(") + BinaryOpText(e.binary_op);
      args(0);
      return out + ")";
    case ExprKind::kIn:
      out = "(in";
      args(0);
      return out + ")";
    case ExprKind::kNotIn:
      out = "(notin";
      args(0);
      return out + ")";
    case ExprKind::kIsNull:
      out = "(isnull";
      args(0);
      return out + ")";
    case ExprKind::kIsNotNull:
      out = "(isnotnull";
      args(0);
      return out + ")";
  }
  return "?";
}

static std::string DumpQuant(const Quantifier& q) {
  switch (q.kind) {
    case QuantKind::kNone:
      return "";
    case QuantKind::kOptional:
      return "?";
    case QuantKind::kOneOrMore:
      return "+";
    case QuantKind::kZeroOrMore:
      return "*";
    case QuantKind::kTimes:
      return "{" + std::to_string(q.min) + "}";
    case QuantKind::kTimesOrMore:
      return "{" + std::to_string(q.min) + ",}";
    case QuantKind::kRange:
      return "{" + std::to_string(q.min) + "," + std::to_string(q.max) + "}";
  }
  return "";
}

std::string DumpPattern(const PatternNode& p) {
  std::string out = p.negated ? "!" : "";
  switch (p.kind) {
    case PatternNode::Kind::kVar:
      out += p.var.name;
      break;
    case PatternNode::Kind::kSeq:
      out += "(seq";
      for (size_t i = 0; i < p.children.size(); ++i) {
        if (i > 0 && p.connectors[i] == Connector::kRelaxed) out += " ->";
        if (i > 0 && p.connectors[i] == Connector::kNonDeterministic) out += " ->>";
        if (i > 0 && i < p.bounds.size() && p.bounds[i]) {
          out += (p.connectors[i] == Connector::kStrict ? " [" : "[") +
                 std::to_string(p.bounds[i]->ms) + "ms]";
        }
        out += " " + DumpPattern(p.children[i]);
      }
      out += ")";
      break;
    case PatternNode::Kind::kAlt:
      out += "(alt";
      for (const auto& c : p.children) out += " " + DumpPattern(c);
      out += ")";
      break;
  }
  out += DumpQuant(p.quant);
  for (const auto& m : p.modifiers) {
    switch (m.kind) {
      case ModifierKind::kGreedy:
        out += " greedy";
        break;
      case ModifierKind::kConsecutive:
        out += " consecutive";
        break;
      case ModifierKind::kCombinations:
        out += " combinations";
        break;
      case ModifierKind::kOptional:
        out += " optional";
        break;
      case ModifierKind::kUntil:
        out += " until(" + DumpExpr(m.until) + ")";
        break;
    }
  }
  return out;
}

std::string DumpTemplate(const Template& t) {
  std::string out;
  for (const auto& p : t.parts)
    out += p.is_hole ? "{" + DumpExpr(p.expr) + "}" : "<" + p.literal + ">";
  return out;
}

}  // namespace vigil::rules::ast
