// Patterns (language.md §5): variables, structure and quantifiers lowered to cep::PatternNode,
// `define`, `within` and `after match`.
#include <algorithm>
#include <string>
#include <utility>

#include "rules/binder/binder_internal.h"

namespace vigil::rules::internal {

namespace {

// Largest repetition count accepted: `{n}` is unrolled into n NFA states.
constexpr int64_t kMaxRepetitions = 10000;

// Whether a written quantifier can bind more than one event.
bool CanRepeat(const ast::Quantifier& q) {
  switch (q.kind) {
    case ast::QuantKind::kNone:
    case ast::QuantKind::kOptional:
      return false;
    case ast::QuantKind::kOneOrMore:
    case ast::QuantKind::kZeroOrMore:
    case ast::QuantKind::kTimesOrMore:
      return true;
    case ast::QuantKind::kTimes:
      return q.min > 1;
    case ast::QuantKind::kRange:
      return q.max > 1 || q.max == ast::Quantifier::kUnbounded;
  }
  return false;
}

cep::Contiguity MapConn(ast::Connector c) {
  switch (c) {
    case ast::Connector::kStrict:
      return cep::Contiguity::kStrict;
    case ast::Connector::kRelaxed:
      return cep::Contiguity::kRelaxed;
    case ast::Connector::kNonDeterministic:
      return cep::Contiguity::kNonDeterministic;
  }
  return cep::Contiguity::kRelaxed;
}

std::string_view ModifierName(ast::ModifierKind k) {
  switch (k) {
    case ast::ModifierKind::kGreedy:
      return "greedy";
    case ast::ModifierKind::kConsecutive:
      return "consecutive";
    case ast::ModifierKind::kCombinations:
      return "combinations";
    case ast::ModifierKind::kOptional:
      return "optional";
    case ast::ModifierKind::kUntil:
      return "until";
  }
  return "?";
}

// Calls `f(node, connector, bound)` for every negation a pattern ends with: the last term of
// the pattern, through trailing groups and every alternative of a trailing alternation.
template <typename F>
void ForEachTrailingNegation(const ast::PatternNode& n, F&& f) {
  switch (n.kind) {
    case ast::PatternNode::Kind::kVar:
      return;
    case ast::PatternNode::Kind::kSeq: {
      if (n.children.empty()) return;
      const ast::PatternNode& last = n.children.back();
      if (last.kind != ast::PatternNode::Kind::kVar) return ForEachTrailingNegation(last, f);
      if (!last.negated) return;
      const size_t i = n.children.size() - 1;
      const ast::Connector conn =
          i < n.connectors.size() ? n.connectors[i] : ast::Connector::kStrict;
      const bool bounded = i < n.bounds.size() && n.bounds[i].has_value();
      f(last, conn, bounded);
      return;
    }
    case ast::PatternNode::Kind::kAlt:
      for (const ast::PatternNode& c : n.children) ForEachTrailingNegation(c, f);
      return;
  }
}

class PatternLowering {
 public:
  PatternLowering(Binder* b, PatternScope* ps, const Schema& input, const std::string& desc,
                  const ast::RuleDecl& rule)
      : b_(b), ps_(ps), input_(input), desc_(desc), rule_(rule) {
    ForEachTrailingNegation(*rule.pattern, [this](const ast::PatternNode& neg, ast::Connector,
                                                  bool) { trailing_negations_.push_back(&neg); });
  }

  // Registers every variable (in order of appearance) with its quantified/negated flags.
  void Collect(const ast::PatternNode& n, bool enclosing_repeats) {
    bool repeats = enclosing_repeats || CanRepeat(n.quant);
    if (n.kind == ast::PatternNode::Kind::kVar) {
      if (ps_->Find(n.var.name) >= 0) {
        b_->Error(n.var.span,
                  "pattern variable '" + n.var.name + "' appears more than once in the pattern");
        return;
      }
      ps_->names.push_back(n.var.name);
      ps_->quantified.push_back(repeats);
      ps_->negated.push_back(n.negated);
      ps_->spans.push_back(n.var.span);
      return;
    }
    for (const ast::PatternNode& c : n.children) Collect(c, repeats);
  }

  cep::PatternNode Lower(const ast::PatternNode& n) {
    cep::PatternNode out;
    switch (n.kind) {
      case ast::PatternNode::Kind::kVar:
        out.kind = cep::PatternNode::Kind::kVar;
        out.var = ps_->Find(n.var.name);
        out.negated = n.negated;
        break;
      case ast::PatternNode::Kind::kSeq:
        out.kind = cep::PatternNode::Kind::kSeq;
        break;
      case ast::PatternNode::Kind::kAlt:
        out.kind = cep::PatternNode::Kind::kAlt;
        break;
    }
    if (n.negated && n.kind != ast::PatternNode::Kind::kVar) {
      b_->Error(n.span, "only a single pattern variable can be negated, not a group");
    }
    LowerQuantifier(n, &out.quant);
    for (size_t i = 0; i < n.children.size(); ++i) {
      const ast::PatternNode& c = n.children[i];
      if (n.kind == ast::PatternNode::Kind::kSeq && i == 0 && c.negated) {
        b_->Error(c.span, "a pattern cannot start with a negation");
      }
      out.children.push_back(Lower(c));
      if (n.kind == ast::PatternNode::Kind::kSeq) {
        ast::Connector conn =
            i < n.connectors.size() && i > 0 ? n.connectors[i] : ast::Connector::kStrict;
        out.conn.push_back(MapConn(conn));
        const std::optional<ast::DurationLit>& bound =
            i < n.bounds.size() && i > 0 ? n.bounds[i] : std::nullopt;
        if (bound) {
          out.bound.resize(n.children.size(), Duration(0));
          out.bound[i] = LowerBound(*bound, c);
        }
      }
    }
    return out;
  }

 private:
  // A time bound between steps (`a ->[5m] b`): positive, before a single variable, before a
  // negation only at the end of the pattern, not longer than `within`. 0 after an error.
  Duration LowerBound(const ast::DurationLit& bound, const ast::PatternNode& step) {
    if (bound.ms <= 0) {
      b_->Error(bound.span, "a time bound between steps must be a positive duration");
      return Duration(0);
    }
    if (step.kind != ast::PatternNode::Kind::kVar) {
      b_->Error(bound.span,
                "a time bound between steps must be followed by a single pattern variable, not "
                "a group");
      return Duration(0);
    }
    if (step.negated && std::find(trailing_negations_.begin(), trailing_negations_.end(), &step) ==
                            trailing_negations_.end()) {
      b_->Error(bound.span,
                "a time bound before a negation applies only at the end of the pattern "
                "('a ->[5m] !x')");
      return Duration(0);
    }
    if (rule_.within && rule_.within->ms > 0 && bound.ms > rule_.within->ms) {
      b_->Error(bound.span, "the time bound " + FormatDuration(Duration(bound.ms)) +
                                " is longer than 'within " +
                                FormatDuration(Duration(rule_.within->ms)) + "'");
      return Duration(0);
    }
    return Duration(bound.ms);
  }

  void LowerQuantifier(const ast::PatternNode& n, cep::Quantifier* q) {
    const ast::Quantifier& aq = n.quant;
    const Span qspan = aq.span.end > aq.span.begin ? aq.span : n.span;
    bool ok = true;
    auto check_count = [&](int64_t v) {
      if (v < 0) {
        b_->Error(qspan, "a repetition count cannot be negative");
        ok = false;
      } else if (v > kMaxRepetitions) {
        b_->Error(qspan, "repetition count " + std::to_string(v) + " is too large (at most " +
                             std::to_string(kMaxRepetitions) + ")");
        ok = false;
      }
    };
    switch (aq.kind) {
      case ast::QuantKind::kNone:
        break;
      case ast::QuantKind::kOptional:
        q->optional = true;
        break;
      case ast::QuantKind::kOneOrMore:
        q->max = cep::Quantifier::kUnbounded;
        break;
      case ast::QuantKind::kZeroOrMore:
        q->max = cep::Quantifier::kUnbounded;
        q->optional = true;
        break;
      case ast::QuantKind::kTimes:
        check_count(aq.min);
        if (ok && aq.min == 0) {
          b_->Error(qspan, "a repetition count must be at least 1");
          ok = false;
        }
        if (ok) q->min = q->max = static_cast<int>(aq.min);
        break;
      case ast::QuantKind::kTimesOrMore:
        check_count(aq.min);
        if (!ok) break;
        // {0,} is Flink's timesOrMore(0): oneOrMore().optional().
        q->min = aq.min == 0 ? 1 : static_cast<int>(aq.min);
        q->optional = aq.min == 0;
        q->max = cep::Quantifier::kUnbounded;
        break;
      case ast::QuantKind::kRange:
        check_count(aq.min);
        if (ok && aq.max != ast::Quantifier::kUnbounded) check_count(aq.max);
        if (!ok) break;
        if (aq.max == ast::Quantifier::kUnbounded) {
          q->min = aq.min == 0 ? 1 : static_cast<int>(aq.min);
          q->optional = aq.min == 0;
          q->max = cep::Quantifier::kUnbounded;
        } else if (aq.max < 1) {
          b_->Error(qspan, "the upper bound of a repetition range must be at least 1");
        } else if (aq.min > aq.max) {
          b_->Error(qspan, "the lower bound of a repetition range exceeds its upper bound");
        } else {
          // {0,m} is Flink's times(0, m): times(1, m).optional().
          q->min = aq.min == 0 ? 1 : static_cast<int>(aq.min);
          q->optional = aq.min == 0;
          q->max = static_cast<int>(aq.max);
        }
        break;
    }
    if (n.negated && aq.kind != ast::QuantKind::kNone) {
      b_->Error(qspan, aq.kind == ast::QuantKind::kOptional ? "a negation cannot be optional"
                                                            : "a negation cannot be quantified");
    }
    bool seen[5] = {false, false, false, false, false};
    for (const ast::PatternModifier& m : n.modifiers) {
      std::string name(ModifierName(m.kind));
      int k = static_cast<int>(m.kind);
      if (seen[k]) {
        b_->Error(m.span, "modifier '" + name + "' is given twice");
        continue;
      }
      seen[k] = true;
      if (n.negated) {
        b_->Error(m.span, m.kind == ast::ModifierKind::kOptional
                              ? std::string("a negation cannot be optional")
                              : "modifier '" + name + "' cannot apply to a negation");
        continue;
      }
      switch (m.kind) {
        case ast::ModifierKind::kOptional:
          q->optional = true;
          break;
        case ast::ModifierKind::kGreedy:
        case ast::ModifierKind::kConsecutive:
        case ast::ModifierKind::kCombinations:
          if (!q->IsLooping()) {
            b_->Error(m.span, "modifier '" + name +
                                  "' needs a quantifier that can repeat (+, *, {n}, {n,}, "
                                  "{n,m})");
            break;
          }
          if (m.kind == ast::ModifierKind::kGreedy) {
            q->greedy = true;
          } else if ((m.kind == ast::ModifierKind::kConsecutive &&
                      seen[static_cast<int>(ast::ModifierKind::kCombinations)]) ||
                     (m.kind == ast::ModifierKind::kCombinations &&
                      seen[static_cast<int>(ast::ModifierKind::kConsecutive)])) {
            b_->Error(m.span, "'consecutive' and 'combinations' cannot be combined");
          } else {
            q->inner = m.kind == ast::ModifierKind::kConsecutive
                           ? cep::Contiguity::kStrict
                           : cep::Contiguity::kNonDeterministic;
          }
          break;
        case ast::ModifierKind::kUntil: {
          if (q->max != cep::Quantifier::kUnbounded) {
            b_->Error(m.span, "'until' applies only to a looping quantifier (+, * or {n,})");
            break;
          }
          Scope scope;
          scope.fields = &input_;
          scope.fields_desc = desc_;
          scope.pattern = ps_;
          scope.poisoned_fields = ps_->poisoned;
          scope.define_var = n.kind == ast::PatternNode::Kind::kVar ? ps_->Find(n.var.name) : -1;
          scope.clause = "until";
          q->until = b_->BindExpr(m.until, scope, true);
          break;
        }
      }
    }
  }

  Binder* b_;
  PatternScope* ps_;
  const Schema& input_;
  const std::string& desc_;
  const ast::RuleDecl& rule_;
  std::vector<const ast::PatternNode*> trailing_negations_;
};

}  // namespace

std::optional<cep::Pattern> Binder::BindPattern(const ast::RuleDecl& rule, const Schema& input,
                                                const std::string& input_desc, PatternScope* ps) {
  const int errors_before = errors_;
  ps->input = &input;
  ps->input_desc = input_desc;
  PatternLowering lowering(this, ps, input, input_desc, rule);
  const ast::PatternNode& root = *rule.pattern;
  lowering.Collect(root, false);

  cep::Pattern pattern;
  pattern.vars.resize(ps->names.size());
  for (size_t i = 0; i < ps->names.size(); ++i) {
    pattern.vars[i].name = ps->names[i];
    pattern.vars[i].quantified = ps->quantified[i];
  }

  // define: each a pattern variable, at most once.
  std::vector<bool> defined(ps->names.size(), false);
  for (const ast::DefineItem& d : rule.define) {
    int v = ps->Find(d.var.name);
    if (v < 0) {
      Error(d.var.span, Unknown("pattern variable", d.var.name, ps->names, "in 'define'"));
      continue;
    }
    if (defined[v]) {
      Error(d.var.span, "pattern variable '" + d.var.name + "' is defined more than once");
      continue;
    }
    defined[v] = true;
    Scope scope;
    scope.fields = &input;
    scope.fields_desc = input_desc;
    scope.pattern = ps;
    scope.poisoned_fields = ps->poisoned;
    scope.define_var = v;
    scope.clause = "define";
    pattern.vars[v].condition = BindExpr(d.cond, scope, true);
  }

  cep::PatternNode lowered = lowering.Lower(root);
  if (lowered.kind == cep::PatternNode::Kind::kSeq) {
    pattern.root = std::move(lowered);
  } else {
    // The root is always a sequence: wrap a lone alternation (or variable).
    pattern.root.kind = cep::PatternNode::Kind::kSeq;
    pattern.root.children.push_back(std::move(lowered));
    pattern.root.conn.push_back(cep::Contiguity::kStrict);
  }

  if (rule.within) {
    if (rule.within->ms <= 0) {
      Error(rule.within->span, "'within' must be a positive duration");
    } else {
      pattern.within = Duration(rule.within->ms);
    }
  }
  // A trailing notFollowedBy (`a -> !x`) matches when its window closes, so it needs one
  // (`within` or a time bound on it); a trailing notNext (`a !x`) is decided by the next event
  // of the partition (Flink).
  if (!rule.within) {
    ForEachTrailingNegation(
        root, [this](const ast::PatternNode& neg, ast::Connector conn, bool bounded) {
          if (conn != ast::Connector::kStrict && !bounded) {
            Error(neg.span, "a pattern that ends with '-> !" + neg.var.name +
                                "' needs 'within' or a time bound ('->[5m] !" + neg.var.name +
                                "'): it matches when the window closes");
          }
        });
  }

  if (rule.after_match) {
    const ast::AfterMatch& am = *rule.after_match;
    switch (am.kind) {
      case ast::SkipKind::kNoSkip:
        pattern.skip = cep::SkipStrategy::kNoSkip;
        break;
      case ast::SkipKind::kSkipToNext:
        pattern.skip = cep::SkipStrategy::kSkipToNext;
        break;
      case ast::SkipKind::kSkipPastLast:
        pattern.skip = cep::SkipStrategy::kSkipPastLast;
        break;
      case ast::SkipKind::kSkipToFirst:
      case ast::SkipKind::kSkipToLast: {
        pattern.skip = am.kind == ast::SkipKind::kSkipToFirst ? cep::SkipStrategy::kSkipToFirst
                                                              : cep::SkipStrategy::kSkipToLast;
        int v = ps->Find(am.var.name);
        if (v < 0) {
          Error(am.var.span,
                Unknown("pattern variable", am.var.name, ps->names, "in 'after match'"));
        } else if (ps->negated[v]) {
          Error(am.var.span,
                "cannot skip to '" + am.var.name + "': it is a negation and binds no event");
        } else {
          pattern.skip_var = v;
        }
        break;
      }
    }
  }
  if (errors_ != errors_before) return std::nullopt;
  // Captures and aggregates may still grow while emit/labels/annotations are bound: the
  // caller copies ps->captures / ps->aggs into the pattern at the end.
  return pattern;
}

}  // namespace vigil::rules::internal
