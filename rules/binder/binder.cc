// Declarations: the shared namespace, sinks, streams and rules (language.md §2-§4).
#include "rules/binder/binder.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_join.h"
#include "cep/connectors/connector_options.h"
#include "rules/binder/binder_internal.h"
#include "rules/binder/types.h"

namespace vigil::rules {

BindResult Bind(const std::vector<ast::File>& files, const SourceManager& sources) {
  internal::Binder b(files, sources);
  return b.Run();
}

namespace internal {

namespace {

using cep::ConnectorSpec;
using cep::OptionSpec;
using cep::OptKind;

std::string_view OptKindName(OptKind k) {
  switch (k) {
    case OptKind::kString:
      return "a string";
    case OptKind::kInt:
      return "an integer";
    case OptKind::kDuration:
      return "a duration";
    case OptKind::kBool:
      return "a bool";
  }
  return "?";
}

std::string_view LiteralKindName(ast::LiteralKind k) {
  switch (k) {
    case ast::LiteralKind::kNull:
      return "null";
    case ast::LiteralKind::kBool:
      return "a bool";
    case ast::LiteralKind::kInt:
      return "an integer";
    case ast::LiteralKind::kFloat:
      return "a float";
    case ast::LiteralKind::kString:
      return "a string";
    case ast::LiteralKind::kDuration:
      return "a duration";
  }
  return "?";
}

std::vector<std::string> FieldNames(const Schema& s) {
  std::vector<std::string> out;
  for (const FieldDef& f : s.fields()) out.push_back(f.name);
  return out;
}

std::vector<std::string> FieldPath(const ast::Path& p) {
  std::vector<std::string> out;
  for (const ast::Ident& i : p.parts) out.push_back(i.name);
  return out;
}

const std::vector<std::string_view> kWindowAggs = {"count", "sum",  "avg",      "min",     "max",
                                                   "first", "last", "distinct", "quantile"};

}  // namespace

void Binder::Error(Span span, std::string message) {
  diags_.push_back(Diagnostic{Severity::kError, span, std::move(message)});
  ++errors_;
}
void Binder::Warning(Span span, std::string message) {
  diags_.push_back(Diagnostic{Severity::kWarning, span, std::move(message)});
}
void Binder::Note(Span span, std::string message) {
  diags_.push_back(Diagnostic{Severity::kNote, span, std::move(message)});
}

BindResult Binder::Run() {
  CollectNames();
  BindSinks();
  BindStreams();
  BindRules();
  BindResult r;
  if (errors_ == 0) r.rule_set = std::make_shared<const cep::RuleSet>(std::move(set_));
  r.diagnostics = std::move(diags_);
  return r;
}

void Binder::CollectNames() {
  struct Item {
    const ast::Ident* name;
    const char* kind;
    const void* decl;
  };
  for (const ast::File& f : files_) {
    std::vector<Item> items;
    for (const ast::StreamDecl& d : f.streams) items.push_back({&d.name, "stream", &d});
    for (const ast::SinkDecl& d : f.sinks) items.push_back({&d.name, "sink", &d});
    for (const ast::RuleDecl& d : f.rules) items.push_back({&d.name, "rule", &d});
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      return a.name->span.begin < b.name->span.begin;
    });
    for (const Item& it : items) {
      auto [pos, inserted] = names_.try_emplace(it.name->name, Decl{it.kind, it.name->span});
      if (!inserted) {
        Error(it.name->span, "duplicate name '" + it.name->name + "' (already declared as a " +
                                 pos->second.kind + ")");
        Note(pos->second.span, "'" + it.name->name + "' first declared here");
        duplicates_.insert(it.decl);
      }
    }
  }
}

namespace {

// Validates `options` against `spec`; appends the literal values to *out.
void BindOptions(Binder* b, std::string_view what, const ast::Ident& kind,
                 const std::vector<ast::Option>& options, const ConnectorSpec& spec, cep::Options* out,
                 Span decl_span) {
  std::vector<std::string> allowed;
  for (const OptionSpec& o : spec.options) allowed.emplace_back(o.name);
  std::vector<std::string> seen;
  for (const ast::Option& o : options) {
    const OptionSpec* os = spec.Find(o.key.name);
    if (os == nullptr) {
      if (allowed.empty()) {
        b->Error(o.key.span, std::string(what) + " kind '" + kind.name + "' takes no options");
      } else {
        b->Error(o.key.span,
                 Binder::Unknown("option", o.key.name, allowed,
                                 "for " + std::string(what) + " kind '" + kind.name + "'"));
      }
      continue;
    }
    if (std::find(seen.begin(), seen.end(), o.key.name) != seen.end()) {
      b->Error(o.key.span, "option '" + o.key.name + "' is given twice");
      continue;
    }
    seen.push_back(o.key.name);
    const ast::Literal& l = o.value;
    bool type_ok = false;
    Value v;
    switch (os->kind) {
      case OptKind::kString:
        type_ok = l.kind == ast::LiteralKind::kString;
        v = Value::String(l.s);
        if (type_ok && !os->choices.empty() &&
            std::find(os->choices.begin(), os->choices.end(), l.s) == os->choices.end()) {
          std::vector<std::string> choices(os->choices.begin(), os->choices.end());
          b->Error(l.span, Binder::Unknown("value", l.s, choices,
                                           "for option '" + o.key.name + "'") +
                               " (one of: " + absl::StrJoin(choices, ", ") + ")");
          continue;
        }
        break;
      case OptKind::kInt:
        type_ok = l.kind == ast::LiteralKind::kInt;
        v = Value::Int(l.i);
        if (type_ok && l.i < 0) {
          b->Error(l.span, "option '" + o.key.name + "' cannot be negative");
          continue;
        }
        break;
      case OptKind::kDuration:
        type_ok = l.kind == ast::LiteralKind::kDuration;
        v = Value::Int(l.i);
        if (type_ok && l.i <= 0) {
          b->Error(l.span, "option '" + o.key.name + "' must be a positive duration");
          continue;
        }
        break;
      case OptKind::kBool:
        type_ok = l.kind == ast::LiteralKind::kBool;
        v = Value::Bool(l.b);
        break;
    }
    if (!type_ok) {
      b->Error(l.span, "option '" + o.key.name + "' must be " + std::string(OptKindName(os->kind)) +
                           ", not " + std::string(LiteralKindName(l.kind)));
      continue;
    }
    out->emplace_back(o.key.name, std::move(v));
  }
  for (const OptionSpec& s : spec.options) {
    if (s.required && std::find(seen.begin(), seen.end(), s.name) == seen.end()) {
      b->Error(kind.span, std::string(what) + " kind '" + kind.name + "' needs option '" +
                              std::string(s.name) + "'");
    }
  }
}

const ConnectorSpec* FindKind(const std::vector<ConnectorSpec>& kinds, std::string_view name) {
  for (const ConnectorSpec& k : kinds) {
    if (k.kind == name) return &k;
  }
  return nullptr;
}

std::vector<std::string> KindNames(const std::vector<ConnectorSpec>& kinds) {
  std::vector<std::string> out;
  for (const ConnectorSpec& k : kinds) out.emplace_back(k.kind);
  return out;
}

}  // namespace

void Binder::BindSinks() {
  for (const ast::File& f : files_) {
    for (const ast::SinkDecl& d : f.sinks) {
      if (duplicates_.contains(&d)) continue;
      cep::SinkDef def;
      def.name = d.name.name;
      def.kind = d.kind.name;
      const ConnectorSpec* spec = FindKind(cep::SinkKinds(), d.kind.name);
      if (spec == nullptr) {
        Error(d.kind.span, Unknown("sink kind", d.kind.name, KindNames(cep::SinkKinds())));
      } else {
        BindOptions(this, "sink", d.kind, d.options, *spec, &def.options, d.span);
      }
      // Registered even when invalid so that references to it do not cascade.
      sink_names_.push_back(def.name);
      set_.sinks.push_back(std::move(def));
    }
  }
}

std::vector<int> Binder::ResolveSinks(const std::vector<ast::Ident>& names) {
  std::vector<int> out;
  for (const ast::Ident& n : names) {
    int i = set_.FindSink(n.name);
    if (i < 0) {
      auto it = names_.find(n.name);
      if (it != names_.end() && it->second.kind != "sink") {
        Error(n.span, "'" + n.name + "' is a " + it->second.kind + ", not a sink");
      } else {
        Error(n.span, Unknown("sink", n.name, sink_names_));
      }
      continue;
    }
    if (std::find(out.begin(), out.end(), i) != out.end()) {
      Error(n.span, "sink '" + n.name + "' is listed twice");
      continue;
    }
    out.push_back(i);
  }
  return out;
}

void Binder::BindStreams() {
  for (const ast::File& f : files_) {
    for (const ast::StreamDecl& d : f.streams) {
      if (duplicates_.contains(&d)) continue;
      cep::StreamDef def;
      def.name = d.name.name;
      def.file = sources_.name(d.name.span.file);
      def.schema = Schema(def.name);
      const std::string desc = "stream '" + def.name + "'";
      std::vector<Span> field_spans;
      for (const ast::FieldDecl& fd : d.fields) {
        FieldDef field;
        field.name = fd.name.ToString();
        field.path = FieldPath(fd.name);
        field.type = fd.type;
        // A JSON key cannot hold both a value and an object: `geo` and `geo.country`.
        bool conflict = false;
        for (const FieldDef& other : def.schema.fields()) {
          const auto& a = other.path;
          const auto& b = field.path;
          size_t n = std::min(a.size(), b.size());
          if (a.size() != b.size() && std::equal(a.begin(), a.begin() + n, b.begin())) {
            Error(fd.name.span, "field '" + field.name + "' conflicts with field '" + other.name +
                                    "' in " + desc +
                                    " (a JSON key cannot be both a value and an object)");
            conflict = true;
            break;
          }
        }
        if (conflict) continue;
        if (def.schema.AddField(std::move(field)) < 0) {
          Error(fd.name.span, "duplicate field '" + fd.name.ToString() + "' in " + desc);
        }
      }
      if (d.event_time) {
        std::string name = d.event_time->ToString();
        int slot = def.schema.Find(name);
        if (slot < 0) {
          Error(d.event_time->span, Unknown("field", name, FieldNames(def.schema), "in " + desc));
        } else if (def.schema.field(slot).type != Type::kTimestamp) {
          Error(d.event_time->span, "event time field '" + name + "' must be a timestamp, not " +
                                        std::string(TypeName(def.schema.field(slot).type)));
        } else {
          def.event_time_slot = slot;
        }
      }
      if (d.out_of_order) {
        def.out_of_order = Duration(d.out_of_order->ms);
        if (!d.event_time && d.out_of_order->ms > 0) {
          Warning(d.out_of_order->span,
                  "'out of order' has no effect without 'event time' (processing time)");
        }
      }
      if (d.idle_after) {
        if (d.idle_after->ms <= 0) {
          Error(d.idle_after->span, "'idle after' must be a positive duration");
        } else {
          def.idle_after = Duration(d.idle_after->ms);
        }
      }
      if (!d.late_to.empty()) {
        def.late_to = ResolveSinks(d.late_to);
        if (!d.event_time) {
          Warning(d.late_to.front().span,
                  "'late to' has no effect without 'event time': a processing-time stream "
                  "has no late events");
        }
      }
      if (d.source) {
        const ast::SourceDecl& src = *d.source;
        def.source.kind = src.kind.name;
        const ConnectorSpec* spec = FindKind(cep::SourceKinds(), src.kind.name);
        if (spec == nullptr) {
          Error(src.kind.span, Unknown("source kind", src.kind.name, KindNames(cep::SourceKinds())));
        } else {
          BindOptions(this, "source", src.kind, src.options, *spec, &def.source.options, src.span);
        }
      }
      stream_names_.push_back(def.name);
      set_.streams.push_back(std::move(def));
    }
  }
}

void Binder::BindRules() {
  for (const ast::File& f : files_) {
    for (const ast::RuleDecl& r : f.rules) {
      if (duplicates_.contains(&r)) continue;
      BindRule(r);
    }
  }
}

std::optional<cep::WindowSpec> Binder::BindWindow(const ast::RuleDecl& r, const cep::StreamDef& s,
                                                  const cep::RuleDef& def,
                                                  absl::flat_hash_set<std::string>* poisoned) {
  const ast::WindowClause& w = *r.window;
  cep::WindowSpec spec;
  const int errors_before = errors_;
  if (w.size.ms <= 0) Error(w.size.span, "the window size must be a positive duration");
  spec.size = Duration(w.size.ms);
  spec.slide = spec.size;
  if (w.slide) {
    if (w.slide->ms <= 0) {
      Error(w.slide->span, "the window slide must be a positive duration");
    } else if (w.slide->ms > w.size.ms) {
      Error(w.slide->span, "the window slide must not exceed the window size");
    } else {
      spec.slide = Duration(w.slide->ms);
    }
  }
  if (w.compute.empty()) {
    Error(w.span, "'window' needs 'compute' (e.g. compute count() as n)");
    return std::nullopt;
  }
  spec.record_schema = Schema(def.name);
  for (size_t i = 0; i < def.partition_slots.size(); ++i) {
    FieldDef f = s.schema.field(def.partition_slots[i]);
    f.name = def.partition_names[i];
    spec.record_schema.AddField(std::move(f));
  }
  const std::string desc = "stream '" + s.name + "'";
  for (const ast::ComputeItem& item : w.compute) {
    const std::string& name = item.name.name;
    bool name_ok = true;
    if (name == "window_start" || name == "window_end") {
      Error(item.name.span, "'" + name + "' is a reserved field of the window record");
      name_ok = false;
    } else if (std::find(def.partition_names.begin(), def.partition_names.end(), name) !=
               def.partition_names.end()) {
      Error(item.name.span, "compute name '" + name + "' clashes with a partition field");
      name_ok = false;
    } else if (spec.record_schema.Find(name) >= 0) {
      Error(item.name.span, "duplicate compute name '" + name + "'");
      name_ok = false;
    }
    cep::WindowAgg agg;
    agg.name = name;
    bool ok = true;
    const ast::Expr& e = item.agg;
    if (e.kind != ast::ExprKind::kCall) {
      Error(e.span, "'compute' needs an aggregate such as avg(value) or count()");
      ok = false;
    } else {
      const std::string& fn = e.func.name;
      const size_t n = e.args.size();
      auto arity = [&](size_t want) {
        if (n == want) return true;
        Error(e.span, "aggregate '" + fn + "' takes " + std::to_string(want) +
                          (want == 1 ? " argument" : " arguments") + ", got " + std::to_string(n));
        return false;
      };
      Scope scope;
      scope.fields = &s.schema;
      scope.fields_desc = desc;
      scope.clause = "compute";
      auto bind_arg = [&](const ast::Expr& a) -> bool {
        agg.arg = BindExpr(a, scope, false);
        return agg.arg != nullptr;
      };
      auto numeric_arg = [&](const ast::Expr& a) {
        if (!IsNumeric(last_type())) {
          Error(a.span,
                "'" + fn + "' needs a numeric argument, not " + std::string(TypeName(last_type())));
          return false;
        }
        return true;
      };
      if (fn == "count") {
        if (n == 0) {
          agg.fn = cep::WindowAggFn::kCount;
          agg.type = Type::kInt;
        } else if (arity(1) && bind_arg(e.args[0])) {
          agg.fn = cep::WindowAggFn::kCountOf;
          agg.type = Type::kInt;
        } else {
          ok = false;
        }
      } else if (fn == "sum" || fn == "avg" || fn == "min" || fn == "max" || fn == "first" ||
                 fn == "last" || fn == "distinct") {
        ok = arity(1) && bind_arg(e.args[0]);
        if (ok) {
          Type t = last_type();
          if (fn == "sum") {
            agg.fn = cep::WindowAggFn::kSum;
            ok = numeric_arg(e.args[0]);
            agg.type = t;
          } else if (fn == "avg") {
            agg.fn = cep::WindowAggFn::kAvg;
            ok = numeric_arg(e.args[0]);
            agg.type = Type::kFloat;
          } else if (fn == "distinct") {
            agg.fn = cep::WindowAggFn::kDistinct;
            agg.type = Type::kInt;
          } else {
            agg.fn = fn == "min"     ? cep::WindowAggFn::kMin
                     : fn == "max"   ? cep::WindowAggFn::kMax
                     : fn == "first" ? cep::WindowAggFn::kFirst
                                     : cep::WindowAggFn::kLast;
            agg.type = t;
            if (t == Type::kNull) {
              Error(e.args[0].span, "'" + fn + "' of the null literal");
              ok = false;
            }
          }
        }
      } else if (fn == "quantile") {
        ok = arity(2);
        if (ok) {
          const ast::Expr& q = e.args[0];
          bool lit =
              q.kind == ast::ExprKind::kLiteral && (q.literal.kind == ast::LiteralKind::kFloat ||
                                                    q.literal.kind == ast::LiteralKind::kInt);
          if (!lit) {
            Error(q.span, "the first argument of 'quantile' must be a number literal in [0, 1]");
            ok = false;
          } else {
            double v = q.literal.kind == ast::LiteralKind::kFloat
                           ? q.literal.f
                           : static_cast<double>(q.literal.i);
            if (!(v >= 0 && v <= 1)) {
              Error(q.span, "quantile must be between 0 and 1");
              ok = false;
            }
            agg.q = v;
          }
          if (bind_arg(e.args[1])) {
            if (!numeric_arg(e.args[1])) ok = false;
          } else {
            ok = false;
          }
          agg.fn = cep::WindowAggFn::kQuantile;
          agg.type = Type::kFloat;
        }
      } else {
        std::vector<std::string> cands(kWindowAggs.begin(), kWindowAggs.end());
        Error(e.func.span, Unknown("aggregate", fn, cands));
        ok = false;
      }
    }
    if (!name_ok) continue;
    FieldDef f;
    f.name = name;
    f.path = {name};
    f.type = ok ? agg.type : Type::kInt;
    if (!ok) poisoned->insert(name);
    spec.record_schema.AddField(std::move(f));
    if (ok) spec.aggs.push_back(std::move(agg));
  }
  for (const char* n : {"window_start", "window_end"}) {
    FieldDef f;
    f.name = n;
    f.path = {n};
    f.type = Type::kTimestamp;
    spec.record_schema.AddField(std::move(f));
  }
  if (errors_ != errors_before) {
    // Keep the record schema usable for the rest of the rule (no cascades).
    return spec;
  }
  return spec;
}

std::string Binder::Fingerprint(const ast::RuleDecl& r, const cep::StreamDef& s) const {
  std::string canon;
  if (r.span.file < sources_.size()) {
    const std::string& text = sources_.text(r.span.file);
    uint32_t b = std::min<uint32_t>(r.span.begin, static_cast<uint32_t>(text.size()));
    uint32_t e = std::min<uint32_t>(std::max(r.span.end, b), static_cast<uint32_t>(text.size()));
    canon = CanonicalSource(std::string_view(text).substr(b, e - b));
  }
  canon += "\nstream ";
  canon += s.name;
  for (const FieldDef& f : s.schema.fields()) {
    canon += ' ';
    canon += f.name;
    canon += ':';
    canon += TypeName(f.type);
  }
  canon += " time:" + std::to_string(s.event_time_slot);
  return Fingerprint64(canon);
}

void Binder::BindRule(const ast::RuleDecl& r) {
  const int errors_before = errors_;
  cep::RuleDef def;
  def.name = r.name.name;
  def.stream = set_.FindStream(r.from.name);
  if (!r.to.empty()) def.to = ResolveSinks(r.to);
  if (def.stream < 0) {
    auto it = names_.find(r.from.name);
    if (it != names_.end() && it->second.kind != "stream") {
      Error(r.from.span, "'" + r.from.name + "' is a " + it->second.kind + ", not a stream");
    } else if (it == names_.end()) {
      Error(r.from.span, Unknown("stream", r.from.name, stream_names_));
    }
    // (A duplicate stream was reported where it is declared.)
    return;
  }
  const cep::StreamDef& s = set_.streams[def.stream];
  const std::string desc = "stream '" + s.name + "'";

  if (r.where) {
    Scope scope;
    scope.fields = &s.schema;
    scope.fields_desc = desc;
    scope.clause = "where";
    def.where = BindExpr(*r.where, scope, true);
  }

  std::vector<Local> locals;
  for (const ast::Path& p : r.partition_by) {
    std::string name = p.ToString();
    int slot = s.schema.Find(name);
    if (slot < 0) {
      Error(p.span, Unknown("field", name, FieldNames(s.schema), "in " + desc));
      locals.push_back(Local{name, Type::kNull, true});
      continue;
    }
    if (std::find(def.partition_names.begin(), def.partition_names.end(), name) !=
        def.partition_names.end()) {
      Error(p.span, "partition field '" + name + "' is listed twice");
      continue;
    }
    def.partition_slots.push_back(slot);
    def.partition_names.push_back(name);
    locals.push_back(Local{name, s.schema.field(slot).type, false});
  }

  const bool has_pattern = r.pattern.has_value();
  const bool has_when = r.when.has_value();
  if (!has_pattern && !has_when) {
    Error(r.name.span, "rule '" + def.name + "' needs a 'pattern' or a 'when' clause");
  }
  if (has_pattern && has_when) {
    Error(r.when->span, "a rule cannot have both 'pattern' and 'when'");
  }
  if (!has_pattern) {
    if (!r.define.empty()) Error(r.define.front().span, "'define' needs a 'pattern'");
    if (r.within) Error(r.within->span, "'within' needs a 'pattern'");
    if (r.after_match) Error(r.after_match->span, "'after match' needs a 'pattern'");
    if (r.on_timeout) Error(r.on_timeout->span, "'on timeout' is only allowed in pattern rules");
  }

  // The input of `pattern` / `when`: the stream's events, or the window records.
  absl::flat_hash_set<std::string> poisoned;
  const Schema* input = &s.schema;
  std::string input_desc = desc;
  if (r.window) {
    // An unknown partition field was reported: the record has no such field, say nothing more.
    for (const Local& l : locals) {
      if (l.poisoned) poisoned.insert(l.name);
    }
    def.window = BindWindow(r, s, def, &poisoned);
    if (!def.window) return;
    input = &def.window->record_schema;
    input_desc = "the window record of rule '" + def.name + "'";
  }

  // Outputs: pattern rules see partition fields, earlier emits and variables; when rules see
  // the record's fields.
  PatternScope ps;
  ps.input = input;
  ps.input_desc = input_desc;
  ps.poisoned = &poisoned;
  Scope out_scope;
  if (has_pattern) {
    def.pattern = BindPattern(r, *input, input_desc, &ps);
    out_scope.pattern = &ps;
    out_scope.locals = &locals;
    out_scope.stream = input;
    out_scope.poisoned_fields = &poisoned;
  } else {
    out_scope.fields = input;
    out_scope.fields_desc = input_desc;
    out_scope.poisoned_fields = &poisoned;
  }

  if (has_when && !has_pattern) {
    const ast::WhenClause& w = *r.when;
    cep::WhenSpec spec;
    Scope scope;
    scope.fields = input;
    scope.fields_desc = input_desc;
    scope.poisoned_fields = &poisoned;
    scope.clause = "when";
    spec.cond = BindExpr(w.cond, scope, true);
    auto positive = [&](const std::optional<ast::DurationLit>& d,
                        const char* what) -> std::optional<Duration> {
      if (!d) return std::nullopt;
      if (d->ms <= 0) {
        Error(d->span, std::string("'") + what + "' must be a positive duration");
        return std::nullopt;
      }
      return Duration(d->ms);
    };
    spec.for_duration = positive(w.for_duration, "for");
    spec.keep_firing_for = positive(w.keep_firing_for, "keep firing for");
    spec.no_data_after = positive(w.no_data_after, "no data after");
    if (w.clear_when) {
      scope.clause = "clear when";
      spec.clear_when = BindExpr(*w.clear_when, scope, true);
    }
    def.when = std::move(spec);
  }

  std::vector<std::string> emit_names;
  for (const ast::EmitItem& e : r.emit) {
    const std::string& name = e.name.name;
    bool name_ok = true;
    if (std::find(emit_names.begin(), emit_names.end(), name) != emit_names.end()) {
      Error(e.name.span, "duplicate emit name '" + name + "'");
      name_ok = false;
    } else if (has_pattern && std::find(def.partition_names.begin(), def.partition_names.end(),
                                        name) != def.partition_names.end()) {
      Error(e.name.span, "emit name '" + name + "' clashes with a partition field");
      name_ok = false;
    }
    out_scope.clause = "emit";
    cep::ExprPtr expr = BindExpr(e.expr, out_scope, false);
    Type t = expr ? last_type() : Type::kNull;
    if (!name_ok) continue;
    emit_names.push_back(name);
    if (has_pattern) locals.push_back(Local{name, t, expr == nullptr});
    if (expr) def.emit.push_back(cep::EmitField{name, std::move(expr)});
  }

  auto bind_templates = [&](const std::vector<ast::KeyTemplate>& items, const char* clause,
                            std::vector<std::pair<std::string, cep::Template>>* out) {
    std::vector<std::string> keys;
    for (const ast::KeyTemplate& kt : items) {
      if (std::find(keys.begin(), keys.end(), kt.key.name) != keys.end()) {
        Error(kt.key.span, std::string("duplicate ") + clause + " key '" + kt.key.name + "'");
        continue;
      }
      keys.push_back(kt.key.name);
      if (std::string_view(clause) == "label" && kt.key.name == "alertname") {
        Error(kt.key.span, "label 'alertname' is reserved: it is the rule's name");
        continue;
      }
      out_scope.clause = std::string(clause) + "s";
      cep::Template t;
      if (BindTemplate(kt.value, out_scope, &t)) out->emplace_back(kt.key.name, std::move(t));
    }
  };
  bind_templates(r.labels, "label", &def.labels);
  bind_templates(r.annotations, "annotation", &def.annotations);

  if (r.on_timeout && has_pattern) {
    def.on_timeout = true;
    def.timeout_to = ResolveSinks(r.on_timeout->to);
    if (!r.within && !(def.pattern && cep::HasStepBounds(def.pattern->root))) {
      Warning(r.on_timeout->span,
              "'on timeout' has no effect without 'within' or a time bound between steps: "
              "partial matches never expire");
    }
  }
  if (def.pattern) {
    def.pattern->captures = ps.captures;
    def.pattern->aggs = ps.aggs;
  }
  def.fingerprint = Fingerprint(r, s);
  if (errors_ == errors_before) set_.rules.push_back(std::move(def));
}

}  // namespace internal
}  // namespace vigil::rules
