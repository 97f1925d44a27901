#pragma once
// The syntax tree of a .vgl file (spec/language.md), as produced by rules::Parse
// (rules/parser/parser.h) and consumed by the binder (rules/binder/).
//
// Shape:
//   File
//    ├─ streams: StreamDecl { name, fields (FieldDecl: Path + Type), event_time, out_of_order,
//    │                        idle_after, late_to, source (SourceDecl: kind + Options) }
//    ├─ sinks:   SinkDecl   { name, kind, options }
//    └─ rules:   RuleDecl   { name, from, where, partition_by, window (+ compute), pattern,
//                             define, within, after_match, when, emit, labels, annotations,
//                             to, on_timeout }   -- clauses in language.md order
//   Expr         one node type for every expression: kind + children in `args`.
//   PatternNode  mirrors cep::PatternNode: kVar / kSeq / kAlt, with quantifier and modifiers.
//   Template     literal parts and `{EXPR}` holes (`{{`/`}}` already unescaped).
//
// Every node carries a Span (file index + byte offsets, [begin, end)) so that the binder can
// report file:line:col. Spans of names/identifiers cover exactly the written token(s).
//
// The tree is plain data: structs, std::vector, std::optional; no Spirit types. Recursive
// nodes (Expr, PatternNode) hold their children by value in std::vector.
//
// What the parser guarantees (and so the binder need not re-check):
//  - the grammar of language.md; keywords are lower case;
//  - integer literals fit in int64 (negative numeric literals are folded: `-7` is an kInt
//    literal -7, not kNeg of 7); durations are >= 0 and fit in int64 milliseconds;
//  - quantifier bounds are 0 <= min, min <= max (unless max is unbounded), both <= INT32_MAX;
//  - stream field types are one of bool/int/float/string/timestamp;
//  - each stream clause (event time, out of order, idle after, late to, from) at most once.
// What the parser does NOT check (binder's job): names resolve, types, duplicate names,
//  a rule has a `pattern` or a `when`, negation placement (start of pattern, quantified),
//  `{0}`, aggregate/function names and arity, sink/source kinds and options, an AGG in
//  `compute` being a call, regex validity, etc.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/value.h"
#include "rules/diagnostics.h"

namespace vigil::rules::ast {

// An identifier as written (a backquoted name is stored without its backquotes).
struct Ident {
  std::string name;
  Span span;
  bool quoted = false;  // written in backquotes: `http-status`
};

// A possibly dotted name: `amount`, `geo.country`, `small.amount`, `` `http-status` ``.
// Each component is one Ident; span covers the whole path.
struct Path {
  std::vector<Ident> parts;
  Span span;
  // Components joined with '.': "geo.country" (used as a field's display name).
  std::string ToString() const {
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) s += '.';
      s += parts[i].name;
    }
    return s;
  }
};

// A duration in a clause position (`within 10m`, `for 5m`, ...): milliseconds.
struct DurationLit {
  int64_t ms = 0;
  Span span;
};

enum class LiteralKind : uint8_t { kNull, kBool, kInt, kFloat, kString, kDuration };

struct Literal {
  LiteralKind kind = LiteralKind::kNull;
  bool b = false;    // kBool
  int64_t i = 0;     // kInt; kDuration: milliseconds
  double f = 0;      // kFloat
  std::string s;     // kString: unescaped value
  bool raw = false;  // kString written as r"..."
  Span span;
};

// An option of a sink or a source: `path "alerts.jsonl"`, `timeout 2s`, `retries 5`.
struct Option {
  Ident key;
  Literal value;
  Span span;
};

enum class ExprKind : uint8_t {
  kLiteral,    // literal
  kName,       // name: a (possibly dotted) field / variable / local reference
  kCall,       // func(args...): functions and aggregates alike (`count()` has no args)
  kUnary,      // unary_op args[0]
  kBinary,     // args[0] binary_op args[1]
  kIn,         // args[0] in (args[1..])
  kNotIn,      // args[0] not in (args[1..])
  kIsNull,     // args[0] is null
  kIsNotNull,  // args[0] is not null
};

enum class UnaryOp : uint8_t { kNeg, kNot };

enum class BinaryOp : uint8_t {
  kOr,
  kAnd,  // or ||, and &&
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,  // == != < <= > >=
  kMatch,
  kNotMatch,  // =~ !~
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,  // + - * / %
};

// "or", "==", "=~", ... for messages.
inline const char* BinaryOpText(BinaryOp op) {
  static const char* const kText[] = {
      "or", "and", "==", "!=", "<", "<=", ">", ">=", "=~", "!~", "+", "-", "*", "/", "%"};
  return kText[static_cast<int>(op)];
}

// One expression node. Which members are meaningful depends on `kind` (see ExprKind).
// Precedence (low to high): or; and; not; comparisons/=~/in/is null (non-associative);
// + -; * / %; unary -. Binary chains of the same level are left-associative.
struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  Span span;                           // the whole expression
  Literal literal;                     // kLiteral
  Path name;                           // kName
  Ident func;                          // kCall: the function name
  UnaryOp unary_op = UnaryOp::kNeg;    // kUnary
  BinaryOp binary_op = BinaryOp::kOr;  // kBinary
  Span op_span;                        // kUnary / kBinary / kIn / kIsNull...: the operator token(s)
  std::vector<Expr> args;              // operands / call arguments / in-list (see ExprKind)
  uint32_t height = 1;  // 1 + the tallest child's height; the parser bounds it (kMaxExprHeight)
};

// A label or annotation value: "card {card}: {small.amount}".
struct TemplatePart {
  bool is_hole = false;
  std::string literal;  // !is_hole: text with `{{` `}}` already turned into `{` `}`
  Expr expr;            // is_hole: the expression inside `{...}` (spans point into the source)
  Span span;            // in the source; for a hole, the `{...}` including braces
};

struct Template {
  std::vector<TemplatePart> parts;  // adjacent literal text is merged into one part
  std::string text;                 // the string's unescaped value, as written
  Span span;                        // the string literal
};

// ---- Patterns (language.md §5) ----

enum class Connector : uint8_t {
  kStrict,            // `a b`
  kRelaxed,           // `a -> b`
  kNonDeterministic,  // `a ->> b`
};

enum class QuantKind : uint8_t {
  kNone,         // no quantifier: min = max = 1
  kOptional,     // ?       min 0 max 1 (written form; cep: optional single)
  kOneOrMore,    // +       min 1 max unbounded
  kZeroOrMore,   // *       min 1 max unbounded, optional (Flink oneOrMore().optional())
  kTimes,        // {n}     min = max = n
  kTimesOrMore,  // {n,}    min n, max unbounded
  kRange,        // {n,m}   min n, max m
};

struct Quantifier {
  static constexpr int64_t kUnbounded = -1;
  QuantKind kind = QuantKind::kNone;
  int64_t min = 1;
  int64_t max = 1;  // kUnbounded for + * {n,}
  Span span;        // the quantifier token(s); empty (begin == end) for kNone
};

enum class ModifierKind : uint8_t { kGreedy, kConsecutive, kCombinations, kOptional, kUntil };

struct PatternModifier {
  ModifierKind kind = ModifierKind::kGreedy;
  Expr until;  // kUntil: the condition
  Span span;
};

// A pattern node; the same layout as cep::PatternNode.
//  - kVar: a variable `var` (possibly negated `!x`, quantified, modified).
//  - kSeq: terms `children` joined by `connectors`: connectors[i] joins children[i-1] and
//          children[i]; connectors[0] is unused (kStrict). connectors.size()==children.size().
//          bounds[i] is the time bound written in connectors[i] (`a ->[5m] b`, `a [5m] b`),
//          if any; bounds.size()==children.size() and bounds[0] is empty.
//  - kAlt: alternatives `children` (each a kSeq) of `a b | c`.
// The root of a rule's pattern is a kSeq (one alternative) or a kAlt. Every parenthesised
// group becomes its own kSeq/kAlt node (so `(a)` is a kSeq with one child), which carries the
// group's negation/quantifier/modifiers.
struct PatternNode {
  enum class Kind : uint8_t { kVar, kSeq, kAlt };
  Kind kind = Kind::kVar;
  Ident var;                                       // kVar
  bool negated = false;                            // `!` written before the term
  Quantifier quant;                                // kind kNone if absent
  std::vector<PatternModifier> modifiers;          // in written order
  std::vector<PatternNode> children;               // kSeq / kAlt
  std::vector<Connector> connectors;               // kSeq
  std::vector<std::optional<DurationLit>> bounds;  // kSeq: per connector, `[D]` if written
  Span span;  // the whole term (including `!`, quantifier, mods)
};

// ---- Declarations ----

struct FieldDecl {
  Path name;  // `geo.country` is a nested JSON path; a backquoted part is one JSON key
  Type type = Type::kNull;
  Span type_span;
  Span span;
};

// `from file(path "txn.jsonl")`, `from kafka(brokers "...", topic "...")`, `from stdin`.
struct SourceDecl {
  Ident kind;                   // as written: "file", "kafka", "stdin", ... (binder checks)
  std::vector<Option> options;  // empty without parentheses
  Span span;
};

struct StreamDecl {
  Ident name;
  std::vector<FieldDecl> fields;
  std::optional<Path> event_time;           // `event time FIELD`
  std::optional<DurationLit> out_of_order;  // `out of order D`
  std::optional<DurationLit> idle_after;    // `idle after D`
  std::vector<Ident> late_to;               // `late to SINK, ...`
  std::optional<SourceDecl> source;         // `from ...`
  Span span;                                // `stream` .. end of the declaration
};

// `sink NAME KIND (opt literal, ...)` or `sink NAME KIND` (e.g. `sink console stdout`).
struct SinkDecl {
  Ident name;
  Ident kind;
  std::vector<Option> options;
  Span span;
};

// `compute AGG as NAME`
struct ComputeItem {
  Expr agg;  // normally a kCall: count(), avg(value), quantile(0.99, latency)
  Ident name;
  Span span;
};

// `window SIZE [slide S] compute AGG as NAME, ...`
struct WindowClause {
  DurationLit size;
  std::optional<DurationLit> slide;
  std::vector<ComputeItem> compute;
  Span span;
};

// `define VAR as EXPR`
struct DefineItem {
  Ident var;
  Expr cond;
  Span span;
};

enum class SkipKind : uint8_t { kNoSkip, kSkipToNext, kSkipPastLast, kSkipToFirst, kSkipToLast };

// `after match no skip | skip to next | skip past last | skip to first V | skip to last V`
struct AfterMatch {
  SkipKind kind = SkipKind::kSkipPastLast;
  Ident var;  // kSkipToFirst / kSkipToLast
  Span span;
};

// `when COND [for D] [keep firing for D] [clear when EXPR] [no data after D]`
struct WhenClause {
  Expr cond;
  std::optional<DurationLit> for_duration;
  std::optional<DurationLit> keep_firing_for;
  std::optional<Expr> clear_when;
  std::optional<DurationLit> no_data_after;
  Span span;
};

// `emit NAME = EXPR`
struct EmitItem {
  Ident name;
  Expr expr;
  Span span;
};

// `labels { key: "template" }` / `annotations { ... }` entries. A key may be written as an
// identifier or as a string literal (then `key.quoted` is true).
struct KeyTemplate {
  Ident key;
  Template value;
  Span span;
};

// `on timeout [to SINK, ...]`; empty `to`: the rule's own destinations.
struct OnTimeout {
  std::vector<Ident> to;
  Span span;
};

struct RuleDecl {
  Ident name;
  Ident from;  // the stream
  std::optional<Expr> where;
  std::vector<Path> partition_by;  // empty: no partitioning
  std::optional<WindowClause> window;
  std::optional<PatternNode> pattern;  // root: kSeq or kAlt
  Span pattern_span;                   // the `pattern` clause (keyword..end)
  std::vector<DefineItem> define;
  std::optional<DurationLit> within;
  std::optional<AfterMatch> after_match;  // absent: the default (skip past last)
  std::optional<WhenClause> when;
  std::vector<EmitItem> emit;
  std::vector<KeyTemplate> labels;
  std::vector<KeyTemplate> annotations;
  std::vector<Ident> to;  // empty: the default output
  std::optional<OnTimeout> on_timeout;
  Span span;  // `rule` .. end of the declaration
};

// One parsed file. Declarations are kept per kind, each vector in source order; spans give
// the interleaving if needed. A declaration with a syntax error is omitted entirely.
struct File {
  uint32_t file_index = 0;
  std::vector<StreamDecl> streams;
  std::vector<SinkDecl> sinks;
  std::vector<RuleDecl> rules;
};

}  // namespace vigil::rules::ast
