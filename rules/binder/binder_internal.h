#pragma once
// Internals of the binder (rules/binder/binder.h): shared by binder.cc (declarations),
// binder_expr.cc (expressions, templates) and binder_pattern.cc (patterns). Not a public API.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "cep/rule_set.h"
#include "rules/ast/ast.h"
#include "rules/binder/binder.h"
#include "rules/diagnostics.h"

namespace vigil::rules::internal {

// A typed node of the expression being built.
struct Bound {
  int32_t node = -1;
  Type type = Type::kNull;
};

// A bare name usable in `emit`/labels/annotations of a pattern rule: partition fields, then
// earlier emit names (cep::ExprOp::kLocal indices in this order).
struct Local {
  std::string name;
  Type type = Type::kNull;
  bool poisoned = false;  // its definition had an error: uses are skipped silently
};

// The pattern variables of a rule, and the capture / aggregate tables being filled.
struct PatternScope {
  const Schema* input = nullptr;  // the schema events (or window records) have
  std::string input_desc;         // "stream 'txn'" / "the window record of rule 'r'"
  // Window record fields whose compute item failed (already reported).
  const absl::flat_hash_set<std::string>* poisoned = nullptr;
  std::vector<std::string> names;  // by var index
  std::vector<bool> quantified;
  std::vector<bool> negated;
  std::vector<Span> spans;  // where each variable appears in the pattern
  std::vector<cep::CaptureSpec> captures;
  std::vector<cep::AggSpec> aggs;
  int Find(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<int>(i);
    return -1;
  }
};

// What names mean where an expression is bound.
struct Scope {
  // The current event or record: bare names (and `v.f` of the variable being defined) are
  // kField slots of this schema. Null in the emit/labels/annotations of pattern rules.
  const Schema* fields = nullptr;
  std::string fields_desc;  // for messages: "stream 'txn'"
  // Names of `fields` whose definition failed (e.g. a bad compute item): skipped silently.
  const absl::flat_hash_set<std::string>* poisoned_fields = nullptr;
  PatternScope* pattern = nullptr;       // pattern rules: variables, captures and aggregates
  int define_var = -1;                   // inside `define v` / `until` of v: v.f is the candidate
  std::vector<Local>* locals = nullptr;  // pattern rule outputs: partition fields, emits
  const Schema* stream = nullptr;        // for hints in outputs ("not a partition field")
  std::string clause;                    // "where", "define", "emit", ... for messages
};

class Binder {
 public:
  Binder(const std::vector<ast::File>& files, const SourceManager& sources)
      : files_(files), sources_(sources) {}
  BindResult Run();

  // ---- diagnostics ----
  void Error(Span span, std::string message);
  void Warning(Span span, std::string message);
  void Note(Span span, std::string message);
  int error_count() const { return errors_; }

  // ---- expressions (binder_expr.cc) ----
  // Binds a whole expression into a new cep::Expr. Returns null after reporting an error.
  // `want_bool`: the result must be bool (conditions), reported as "'CLAUSE' condition must
  // be bool, not T".
  cep::ExprPtr BindExpr(const ast::Expr& e, const Scope& scope, bool want_bool);
  // Type of the last expression bound by BindExpr (valid when it returned non-null).
  Type last_type() const { return last_type_; }
  // Binds a template's holes (each its own cep::Expr). Returns false after an error.
  bool BindTemplate(const ast::Template& t, const Scope& scope, cep::Template* out);

  // ---- patterns (binder_pattern.cc) ----
  // Binds pattern, define, within and after match of `rule` over events of `input`.
  // Returns nullopt after errors.
  std::optional<cep::Pattern> BindPattern(const ast::RuleDecl& rule, const Schema& input,
                                          const std::string& input_desc, PatternScope* ps);

  // Unknown-name message helper: "unknown KIND 'name' (did you mean 'x'?)".
  static std::string Unknown(std::string_view kind, std::string_view name,
                             const std::vector<std::string>& candidates,
                             std::string_view suffix = "");

 private:
  struct Ctx;  // per-expression building state (binder_expr.cc)
  std::optional<Bound> BindNode(const ast::Expr& e, Ctx& c);
  std::optional<Bound> BindName(const ast::Expr& e, Ctx& c);
  std::optional<Bound> BindCall(const ast::Expr& e, Ctx& c);
  std::optional<Bound> BindPatternAgg(const ast::Expr& e, cep::AggFn fn, Ctx& c);
  std::optional<Bound> BindBinary(const ast::Expr& e, Ctx& c);
  std::optional<Bound> BindVarField(const ast::Expr& e, int var, Ctx& c);

  // ---- declarations (binder.cc) ----
  void CollectNames();
  void BindSinks();
  void BindStreams();
  void BindRules();
  void BindRule(const ast::RuleDecl& r);
  std::optional<cep::WindowSpec> BindWindow(const ast::RuleDecl& r, const cep::StreamDef& s,
                                            const cep::RuleDef& def,
                                            absl::flat_hash_set<std::string>* poisoned);
  std::vector<int> ResolveSinks(const std::vector<ast::Ident>& names);
  std::string Fingerprint(const ast::RuleDecl& r, const cep::StreamDef& s) const;

  const std::vector<ast::File>& files_;
  const SourceManager& sources_;
  std::vector<Diagnostic> diags_;
  int errors_ = 0;
  Type last_type_ = Type::kNull;

  cep::RuleSet set_;
  // One namespace for streams, sinks and rules: name -> (kind, first declaration span).
  struct Decl {
    std::string kind;  // "stream", "sink", "rule"
    Span span;
    bool primary = true;
  };
  absl::flat_hash_map<std::string, Decl> names_;
  // Declarations that lost a duplicate-name clash (not bound, to avoid cascades).
  absl::flat_hash_set<const void*> duplicates_;
  std::vector<std::string> stream_names_, sink_names_;
};

}  // namespace vigil::rules::internal
