// Expressions and templates: name resolution (language.md §6), typing (rules/binder/types.h)
// and lowering to flat cep::Expr nodes.
#include <string>
#include <utility>

#include "rules/binder/binder_internal.h"
#include "rules/binder/types.h"

namespace vigil::rules::internal {

struct Binder::Ctx {
  const Scope& scope;
  cep::Expr* out;
  int32_t Add(cep::ExprOp op, Type type, int32_t a = -1, int32_t b = -1, int32_t index = -1) {
    cep::ExprNode n;
    n.op = op;
    n.type = type;
    n.a = a;
    n.b = b;
    n.index = index;
    return out->AddNode(std::move(n));
  }
  // A leaf with its source name, so `vigil explain` prints `amount`, not `$1`.
  int32_t AddNamed(cep::ExprOp op, Type type, int32_t b, int32_t index, std::string name) {
    int32_t node = Add(op, type, -1, b, index);
    out->set_name(node, std::move(name));
    return node;
  }
};

namespace {

Span OpSpan(const ast::Expr& e) { return e.op_span.end > e.op_span.begin ? e.op_span : e.span; }

// The components after the first, joined: `small.geo.country` -> "geo.country".
std::string Rest(const ast::Path& p) {
  std::string s;
  for (size_t i = 1; i < p.parts.size(); ++i) {
    if (i > 1) s += '.';
    s += p.parts[i].name;
  }
  return s;
}

Span RestSpan(const ast::Path& p) {
  Span s = p.span;
  if (p.parts.size() >= 2) s.begin = p.parts[1].span.begin;
  return s;
}

std::vector<std::string> FieldNames(const Schema& s) {
  std::vector<std::string> out;
  for (const FieldDef& f : s.fields()) out.push_back(f.name);
  return out;
}

bool HasFieldPrefix(const Schema* s, const std::string& prefix) {
  if (s == nullptr) return false;
  for (const FieldDef& f : s->fields()) {
    if (f.name.size() > prefix.size() && f.name.compare(0, prefix.size(), prefix) == 0 &&
        f.name[prefix.size()] == '.') {
      return true;
    }
  }
  return false;
}

bool IsWindowOnlyAgg(std::string_view name) { return name == "distinct" || name == "quantile"; }

cep::ExprOp MapBinary(ast::BinaryOp op) {
  switch (op) {
    case ast::BinaryOp::kOr:
      return cep::ExprOp::kOr;
    case ast::BinaryOp::kAnd:
      return cep::ExprOp::kAnd;
    case ast::BinaryOp::kEq:
      return cep::ExprOp::kEq;
    case ast::BinaryOp::kNe:
      return cep::ExprOp::kNe;
    case ast::BinaryOp::kLt:
      return cep::ExprOp::kLt;
    case ast::BinaryOp::kLe:
      return cep::ExprOp::kLe;
    case ast::BinaryOp::kGt:
      return cep::ExprOp::kGt;
    case ast::BinaryOp::kGe:
      return cep::ExprOp::kGe;
    case ast::BinaryOp::kMatch:
      return cep::ExprOp::kRegexMatch;
    case ast::BinaryOp::kNotMatch:
      return cep::ExprOp::kRegexNotMatch;
    case ast::BinaryOp::kAdd:
      return cep::ExprOp::kAdd;
    case ast::BinaryOp::kSub:
      return cep::ExprOp::kSub;
    case ast::BinaryOp::kMul:
      return cep::ExprOp::kMul;
    case ast::BinaryOp::kDiv:
      return cep::ExprOp::kDiv;
    case ast::BinaryOp::kMod:
      return cep::ExprOp::kMod;
  }
  return cep::ExprOp::kConst;
}

Value LiteralValue(const ast::Literal& l, Type* type) {
  switch (l.kind) {
    case ast::LiteralKind::kNull:
      *type = Type::kNull;
      return Value::Null();
    case ast::LiteralKind::kBool:
      *type = Type::kBool;
      return Value::Bool(l.b);
    case ast::LiteralKind::kInt:
    case ast::LiteralKind::kDuration:
      *type = Type::kInt;
      return Value::Int(l.i);
    case ast::LiteralKind::kFloat:
      *type = Type::kFloat;
      return Value::Float(l.f);
    case ast::LiteralKind::kString:
      *type = Type::kString;
      return Value::String(l.s);
  }
  *type = Type::kNull;
  return Value::Null();
}

}  // namespace

std::string Binder::Unknown(std::string_view kind, std::string_view name,
                            const std::vector<std::string>& candidates, std::string_view suffix) {
  std::string m = "unknown ";
  m += kind;
  m += " '";
  m += name;
  m += "'";
  if (!suffix.empty()) {
    m += ' ';
    m += suffix;
  }
  std::string guess = ClosestMatch(name, candidates);
  if (!guess.empty()) m += " (did you mean '" + guess + "'?)";
  return m;
}

cep::ExprPtr Binder::BindExpr(const ast::Expr& e, const Scope& scope, bool want_bool) {
  auto expr = std::make_shared<cep::Expr>();
  Ctx c{scope, expr.get()};
  std::optional<Bound> b = BindNode(e, c);
  if (!b) return nullptr;
  if (want_bool && b->type != Type::kBool) {
    std::string m = "'" + scope.clause + "' condition must be bool, not ";
    m += TypeName(b->type);
    Error(e.span, std::move(m));
    return nullptr;
  }
  expr->set_root(b->node);
  last_type_ = b->type;
  return expr;
}

bool Binder::BindTemplate(const ast::Template& t, const Scope& scope, cep::Template* out) {
  bool ok = true;
  for (const ast::TemplatePart& p : t.parts) {
    cep::Template::Part part;
    if (!p.is_hole) {
      part.literal = p.literal;
    } else {
      part.expr = BindExpr(p.expr, scope, false);
      if (!part.expr) {
        ok = false;
        continue;
      }
    }
    out->parts.push_back(std::move(part));
  }
  return ok;
}

std::optional<Bound> Binder::BindNode(const ast::Expr& e, Ctx& c) {
  switch (e.kind) {
    case ast::ExprKind::kLiteral: {
      Type t;
      Value v = LiteralValue(e.literal, &t);
      int32_t k = c.out->AddConst(std::move(v));
      return Bound{c.Add(cep::ExprOp::kConst, t, -1, -1, k), t};
    }
    case ast::ExprKind::kName:
      return BindName(e, c);
    case ast::ExprKind::kCall:
      return BindCall(e, c);
    case ast::ExprKind::kUnary: {
      if (e.args.empty()) return std::nullopt;
      std::optional<Bound> a = BindNode(e.args[0], c);
      if (!a) return std::nullopt;
      if (e.unary_op == ast::UnaryOp::kNeg) {
        std::string err;
        std::optional<Type> t = NegateType(a->type, &err);
        if (!t) {
          Error(OpSpan(e), std::move(err));
          return std::nullopt;
        }
        return Bound{c.Add(cep::ExprOp::kNeg, *t, a->node), *t};
      }
      if (a->type != Type::kBool && a->type != Type::kNull) {
        Error(e.args[0].span,
              std::string("operand of 'not' must be bool, not ") + std::string(TypeName(a->type)));
        return std::nullopt;
      }
      return Bound{c.Add(cep::ExprOp::kNot, Type::kBool, a->node), Type::kBool};
    }
    case ast::ExprKind::kBinary:
      return BindBinary(e, c);
    case ast::ExprKind::kIn:
    case ast::ExprKind::kNotIn: {
      if (e.args.empty()) return std::nullopt;
      std::optional<Bound> a = BindNode(e.args[0], c);
      std::vector<int32_t> items;
      bool ok = a.has_value();
      for (size_t i = 1; i < e.args.size(); ++i) {
        std::optional<Bound> it = BindNode(e.args[i], c);
        if (!it) {
          ok = false;
          continue;
        }
        if (a && !EqualityComparable(a->type, it->type)) {
          Error(e.args[i].span, "cannot compare " + std::string(TypeName(a->type)) + " with " +
                                    std::string(TypeName(it->type)) + " in '" +
                                    (e.kind == ast::ExprKind::kIn ? "in" : "not in") + "' list");
          ok = false;
          continue;
        }
        items.push_back(it->node);
      }
      if (!ok) return std::nullopt;
      cep::ExprNode n;
      n.op = e.kind == ast::ExprKind::kIn ? cep::ExprOp::kIn : cep::ExprOp::kNotIn;
      n.type = Type::kBool;
      n.a = a->node;
      n.args = std::move(items);
      return Bound{c.out->AddNode(std::move(n)), Type::kBool};
    }
    case ast::ExprKind::kIsNull:
    case ast::ExprKind::kIsNotNull: {
      if (e.args.empty()) return std::nullopt;
      std::optional<Bound> a = BindNode(e.args[0], c);
      if (!a) return std::nullopt;
      auto op = e.kind == ast::ExprKind::kIsNull ? cep::ExprOp::kIsNull : cep::ExprOp::kIsNotNull;
      return Bound{c.Add(op, Type::kBool, a->node), Type::kBool};
    }
  }
  return std::nullopt;
}

std::optional<Bound> Binder::BindBinary(const ast::Expr& e, Ctx& c) {
  if (e.args.size() != 2) return std::nullopt;
  cep::ExprOp op = MapBinary(e.binary_op);
  if (op == cep::ExprOp::kRegexMatch || op == cep::ExprOp::kRegexNotMatch) {
    std::optional<Bound> a = BindNode(e.args[0], c);
    bool ok = a.has_value();
    if (a && a->type != Type::kString && a->type != Type::kNull) {
      Error(e.args[0].span, "left side of '" + std::string(cep::ExprOpText(op)) +
                                "' must be a string, not " + std::string(TypeName(a->type)));
      ok = false;
    }
    const ast::Expr& r = e.args[1];
    if (r.kind != ast::ExprKind::kLiteral || r.literal.kind != ast::LiteralKind::kString) {
      Error(r.span, "right side of '" + std::string(cep::ExprOpText(op)) +
                        "' must be a string literal (a regular expression)");
      return std::nullopt;
    }
    std::string err;
    int32_t rx = c.out->AddRegex(r.literal.s, &err);
    if (rx < 0) {
      Error(r.span, "invalid regular expression: " + err);
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return Bound{c.Add(op, Type::kBool, a->node, -1, rx), Type::kBool};
  }
  std::optional<Bound> a = BindNode(e.args[0], c);
  std::optional<Bound> b = BindNode(e.args[1], c);
  if (!a || !b) return std::nullopt;
  switch (op) {
    case cep::ExprOp::kAnd:
    case cep::ExprOp::kOr: {
      bool ok = true;
      for (int i = 0; i < 2; ++i) {
        Type t = i == 0 ? a->type : b->type;
        if (t != Type::kBool && t != Type::kNull) {
          Error(e.args[i].span, "operand of '" + std::string(cep::ExprOpText(op)) +
                                    "' must be bool, not " + std::string(TypeName(t)));
          ok = false;
        }
      }
      if (!ok) return std::nullopt;
      return Bound{c.Add(op, Type::kBool, a->node, b->node), Type::kBool};
    }
    case cep::ExprOp::kEq:
    case cep::ExprOp::kNe:
    case cep::ExprOp::kLt:
    case cep::ExprOp::kLe:
    case cep::ExprOp::kGt:
    case cep::ExprOp::kGe: {
      std::string err;
      bool null_compare = false;
      std::optional<Type> t = CompareType(op, a->type, b->type, &err, &null_compare);
      if (!t) {
        Error(OpSpan(e), std::move(err));
        return std::nullopt;
      }
      if (null_compare) {
        Warning(OpSpan(e),
                "a comparison with null is always false; use 'is null' or "
                "'is not null'");
      }
      return Bound{c.Add(op, Type::kBool, a->node, b->node), Type::kBool};
    }
    default: {
      std::string err;
      std::optional<Type> t = ArithmeticType(op, a->type, b->type, &err);
      if (!t) {
        Error(OpSpan(e), std::move(err));
        return std::nullopt;
      }
      return Bound{c.Add(op, *t, a->node, b->node), *t};
    }
  }
}

std::optional<Bound> Binder::BindVarField(const ast::Expr& e, int v, Ctx& c) {
  const Scope& s = c.scope;
  PatternScope* ps = s.pattern;
  const ast::Path& p = e.name;
  std::string fname = Rest(p);
  int slot = ps->input->Find(fname);
  if (slot < 0) {
    Error(RestSpan(p), Unknown("field", fname, FieldNames(*ps->input), "in " + ps->input_desc));
    return std::nullopt;
  }
  if (s.poisoned_fields != nullptr && s.poisoned_fields->contains(fname)) return std::nullopt;
  Type t = ps->input->field(slot).type;
  if (v == s.define_var) {
    // In `define v` (and v's `until`), v.f is the candidate event's field.
    return Bound{c.AddNamed(cep::ExprOp::kField, t, -1, slot, p.ToString()), t};
  }
  if (ps->negated[v]) {
    Error(p.parts[0].span,
          "pattern variable '" + ps->names[v] + "' is a negation and binds no event");
    return std::nullopt;
  }
  if (ps->quantified[v]) {
    Error(p.span, "field '" + fname + "' of quantified variable '" + ps->names[v] +
                      "' must be used inside an aggregate (e.g. last(" + p.ToString() + "))");
    return std::nullopt;
  }
  int index = -1;
  for (size_t i = 0; i < ps->captures.size(); ++i) {
    if (ps->captures[i].var == v && ps->captures[i].slot == slot) index = static_cast<int>(i);
  }
  if (index < 0) {
    index = static_cast<int>(ps->captures.size());
    ps->captures.push_back(cep::CaptureSpec{v, slot});
  }
  return Bound{c.AddNamed(cep::ExprOp::kCapture, t, -1, index, p.ToString()), t};
}

std::optional<Bound> Binder::BindName(const ast::Expr& e, Ctx& c) {
  const Scope& s = c.scope;
  PatternScope* ps = s.pattern;
  const ast::Path& p = e.name;
  if (p.parts.empty()) return std::nullopt;
  const std::string full = p.ToString();
  // A name that starts with a pattern variable refers to that variable.
  if (ps != nullptr && p.parts.size() >= 2 && !p.parts[0].quoted) {
    int v = ps->Find(p.parts[0].name);
    if (v >= 0) return BindVarField(e, v, c);
  }
  if (s.fields != nullptr) {
    int slot = s.fields->Find(full);
    if (slot >= 0) {
      if (s.poisoned_fields != nullptr && s.poisoned_fields->contains(full)) return std::nullopt;
      Type t = s.fields->field(slot).type;
      return Bound{c.AddNamed(cep::ExprOp::kField, t, -1, slot, full), t};
    }
  }
  if (s.locals != nullptr) {
    for (size_t i = 0; i < s.locals->size(); ++i) {
      const Local& l = (*s.locals)[i];
      if (l.name != full) continue;
      if (l.poisoned) return std::nullopt;
      return Bound{c.AddNamed(cep::ExprOp::kLocal, l.type, -1, static_cast<int32_t>(i), full),
                   l.type};
    }
  }
  if (ps != nullptr && p.parts.size() == 1 && ps->Find(full) >= 0) {
    Error(p.span, "pattern variable '" + full + "' is not a value; use one of its fields (" + full +
                      ".FIELD) or an aggregate such as count(" + full + ")");
    return std::nullopt;
  }
  // A misspelled pattern variable: `smal.amount`.
  if (ps != nullptr && p.parts.size() >= 2 && !p.parts[0].quoted) {
    const Schema* base = s.fields != nullptr ? s.fields : ps->input;
    std::string guess = ClosestMatch(p.parts[0].name, ps->names);
    if (!guess.empty() && !HasFieldPrefix(base, p.parts[0].name)) {
      Error(p.parts[0].span, Unknown("pattern variable", p.parts[0].name, ps->names));
      return std::nullopt;
    }
  }
  if (s.locals != nullptr) {
    // The outputs of a pattern rule: partition fields and earlier emit names only.
    if (s.stream != nullptr && s.stream->Find(full) >= 0) {
      Error(p.span, "'" + full +
                        "' is not a partition field or an earlier emit name; "
                        "refer to event fields through a pattern variable (VAR." +
                        full + ")");
      return std::nullopt;
    }
    std::vector<std::string> cands;
    for (const Local& l : *s.locals) cands.push_back(l.name);
    std::string m = Unknown("name", full, cands, "in '" + s.clause + "'");
    if (ClosestMatch(full, cands).empty()) {
      m += " (expected a partition field or an earlier emit name)";
    }
    Error(p.span, std::move(m));
    return std::nullopt;
  }
  if (s.poisoned_fields != nullptr && s.poisoned_fields->contains(full)) {
    return std::nullopt;  // its definition was already reported
  }
  if (s.fields == nullptr) {
    Error(p.span, "unknown name '" + full + "'");
    return std::nullopt;
  }
  Error(p.span, Unknown("field", full, FieldNames(*s.fields), "in " + s.fields_desc));
  return std::nullopt;
}

std::optional<Bound> Binder::BindCall(const ast::Expr& e, Ctx& c) {
  const Scope& s = c.scope;
  const std::string& name = e.func.name;
  const int n = static_cast<int>(e.args.size());
  const FunctionInfo* f = FindFunction(name);
  std::optional<cep::AggFn> agg = FindPatternAgg(name);
  bool agg_form = agg.has_value() && (f == nullptr || n == 1);
  if (agg_form && s.pattern != nullptr) return BindPatternAgg(e, *agg, c);
  if (f != nullptr) {
    std::string arity = ArityError(*f, n);
    if (!arity.empty()) {
      Error(e.span, std::move(arity));
      return std::nullopt;
    }
    std::vector<int32_t> nodes;
    std::vector<Type> types;
    bool ok = true;
    for (const ast::Expr& a : e.args) {
      std::optional<Bound> b = BindNode(a, c);
      if (!b) {
        ok = false;
        continue;
      }
      nodes.push_back(b->node);
      types.push_back(b->type);
    }
    if (!ok) return std::nullopt;
    std::string err;
    int bad = 0;
    std::optional<Type> t = CallType(*f, types, &err, &bad);
    if (!t) {
      Error(e.args[bad].span, std::move(err));
      return std::nullopt;
    }
    cep::ExprNode node;
    node.op = cep::ExprOp::kCall;
    node.type = *t;
    node.index = static_cast<int32_t>(f->fn);
    node.args = std::move(nodes);
    return Bound{c.out->AddNode(std::move(node)), *t};
  }
  if (agg.has_value() || IsWindowOnlyAgg(name)) {
    Error(e.func.span,
          "aggregate '" + name + "' is only allowed in 'compute' or over a pattern variable");
    return std::nullopt;
  }
  std::vector<std::string> cands = FunctionNames();
  if (s.pattern != nullptr) {
    for (const char* a : {"count", "sum", "avg", "first", "last"}) cands.emplace_back(a);
  }
  Error(e.func.span, Unknown("function", name, cands));
  return std::nullopt;
}

std::optional<Bound> Binder::BindPatternAgg(const ast::Expr& e, cep::AggFn fn, Ctx& c) {
  PatternScope* ps = c.scope.pattern;
  const std::string& name = e.func.name;
  if (e.args.size() != 1) {
    if (fn == cep::AggFn::kCount && e.args.empty()) {
      Error(e.span,
            "'count()' is a window aggregate (only in 'compute'); in a pattern use "
            "count(VAR)");
    } else {
      Error(e.span,
            "aggregate '" + name + "' takes 1 argument, got " + std::to_string(e.args.size()));
    }
    return std::nullopt;
  }
  const ast::Expr& a = e.args[0];
  auto not_var = [&](const std::string& var_name, Span span) {
    Error(span, Unknown("pattern variable", var_name, ps->names));
  };
  int v = -1;
  int slot = -1;
  Type ft = Type::kNull;
  if (fn == cep::AggFn::kCount) {
    if (a.kind != ast::ExprKind::kName || a.name.parts.size() != 1) {
      Error(a.span, "argument of 'count' must be a pattern variable, like count(v)");
      return std::nullopt;
    }
    v = ps->Find(a.name.parts[0].name);
    if (v < 0) {
      not_var(a.name.parts[0].name, a.span);
      return std::nullopt;
    }
  } else {
    if (a.kind != ast::ExprKind::kName || a.name.parts.size() < 2 || a.name.parts[0].quoted) {
      Error(a.span, "argument of '" + name + "' must be a field of a pattern variable, like " +
                        name + "(v.amount)");
      return std::nullopt;
    }
    v = ps->Find(a.name.parts[0].name);
    if (v < 0) {
      not_var(a.name.parts[0].name, a.name.parts[0].span);
      return std::nullopt;
    }
    std::string fname = Rest(a.name);
    slot = ps->input->Find(fname);
    if (slot < 0) {
      Error(RestSpan(a.name),
            Unknown("field", fname, FieldNames(*ps->input), "in " + ps->input_desc));
      return std::nullopt;
    }
    if (c.scope.poisoned_fields != nullptr && c.scope.poisoned_fields->contains(fname)) {
      return std::nullopt;
    }
    ft = ps->input->field(slot).type;
  }
  if (ps->negated[v]) {
    Error(a.span, "pattern variable '" + ps->names[v] + "' is a negation and binds no event");
    return std::nullopt;
  }
  std::string err;
  std::optional<Type> t = PatternAggType(fn, ft, &err);
  if (!t) {
    Error(a.span, std::move(err));
    return std::nullopt;
  }
  int index = -1;
  for (size_t i = 0; i < ps->aggs.size(); ++i) {
    const cep::AggSpec& s = ps->aggs[i];
    if (s.fn == fn && s.var == v && s.slot == slot) index = static_cast<int>(i);
  }
  if (index < 0) {
    index = static_cast<int>(ps->aggs.size());
    ps->aggs.push_back(cep::AggSpec{fn, v, slot});
  }
  return Bound{c.AddNamed(cep::ExprOp::kAgg, *t, static_cast<int32_t>(fn), index,
                          name + "(" + a.name.ToString() + ")"),
               *t};
}

}  // namespace vigil::rules::internal
