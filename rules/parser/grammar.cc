// The one translation unit that instantiates Spirit X3 (see grammar_def.h).
#include "rules/parser/grammar.h"

#include <exception>
#include <string>
#include <utility>

#include "rules/parser/decl_parser.h"
#include "rules/parser/grammar_def.h"

namespace vigil::rules::parser {
namespace {

// Every entry point parses with the same context type, so each rule is instantiated once.
template <typename Rule, typename Attr>
bool Run(Rule const& rule, State& st, const char*& it, const char* end, Attr& attr) {
  return x3::phrase_parse(it, end, x3::with<state_tag>(st)[rule], skipper, attr);
}

bool StartsWithWord(const char* p, const char* end, std::string_view w) {
  if (static_cast<size_t>(end - p) < w.size() || std::string_view(p, w.size()) != w) return false;
  return p + w.size() == end || !IsIdentChar(p[w.size()]);
}

}  // namespace

ast::Template ParseTemplate(State& outer, StrTok&& s) {
  ast::Template t;
  t.span = s.span;
  const std::string& v = s.value;
  const std::vector<uint32_t>& offs = s.offsets;
  const char* src = outer.base;
  State st{outer.file, v.data(), outer.depth};
  std::string lit;
  size_t lit_begin = 0;
  auto flush = [&](size_t end_index) {
    if (lit.empty()) return;
    ast::TemplatePart part;
    part.literal = std::move(lit);
    part.span = Span{outer.file, offs[lit_begin], offs[end_index]};
    t.parts.push_back(std::move(part));
    lit.clear();
  };
  size_t i = 0;
  while (i < v.size()) {
    char c = v[i];
    if ((c == '{' || c == '}') && i + 1 < v.size() && v[i + 1] == c) {
      if (lit.empty()) lit_begin = i;
      lit.push_back(c);
      i += 2;
      continue;
    }
    if (c == '}') {
      Fail(src + offs[i], "unmatched '}' in template (write '}}' for a literal brace)", false,
           src + offs[i + 1]);
    }
    if (c != '{') {
      if (lit.empty()) lit_begin = i;
      lit.push_back(c);
      ++i;
      continue;
    }
    flush(i);
    const char* dbegin = v.data();
    const char* dend = dbegin + v.size();
    const char* it = dbegin + i + 1;
    auto map = [&](const char* d) { return src + offs[static_cast<size_t>(d - dbegin)]; };
    ast::Expr e;
    bool ok = false;
    try {
      ok = Run(expr, st, it, dend, e);
    } catch (ParseError& pe) {
      throw ParseError{map(pe.where), pe.end ? map(pe.end) : nullptr, std::move(pe.message),
                       pe.add_found};
    }
    if (!ok) {
      const char* w = dbegin + i + 1;
      SkipWsRaw(w, dend);
      Fail(map(w),
           "expected an expression in '{...}' of the template (write '{{' for a literal brace)");
    }
    if (it == dend || *it != '}') Fail(map(it), "expected '}' to close '{' in the template");
    RemapExpr(e, offs);
    ast::TemplatePart part;
    part.is_hole = true;
    part.expr = std::move(e);
    part.span = Span{outer.file, offs[i], offs[static_cast<size_t>(it - dbegin)] + 1};
    t.parts.push_back(std::move(part));
    i = static_cast<size_t>(it - dbegin) + 1;
  }
  flush(v.size());
  t.text = std::move(s.value);
  return t;
}

bool ParseDeclaration(uint32_t file, std::string_view text, uint32_t* pos, ast::File* out,
                      DeclError* err) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  const char* it = begin + *pos;
  State st{file, begin, 0};
  auto set_error = [&](const char* where, const char* e_end, std::string msg, bool add_found) {
    err->offset = static_cast<uint32_t>(where - begin);
    err->end = e_end && e_end > where ? static_cast<uint32_t>(e_end - begin) : 0;
    err->message = std::move(msg);
    err->add_found = add_found;
  };
  try {
    const char* p = it;
    SkipWsRaw(p, end);
    bool ok = false;
    if (StartsWithWord(p, end, "stream")) {
      ast::StreamDecl d;
      ok = Run(stream_decl, st, it, end, d);
      if (ok) out->streams.push_back(std::move(d));
    } else if (StartsWithWord(p, end, "sink")) {
      ast::SinkDecl d;
      ok = Run(sink_decl, st, it, end, d);
      if (ok) out->sinks.push_back(std::move(d));
    } else if (StartsWithWord(p, end, "rule")) {
      ast::RuleDecl d;
      ok = Run(rule_decl, st, it, end, d);
      if (ok) out->rules.push_back(std::move(d));
    }
    if (!ok) {
      set_error(p, nullptr, "expected 'stream', 'sink' or 'rule'", true);
      return false;
    }
    *pos = static_cast<uint32_t>(it - begin);
    return true;
  } catch (ParseError& e) {
    set_error(e.where, e.end, std::move(e.message), e.add_found);
  } catch (x3::expectation_failure<const char*>& e) {
    set_error(e.where(), nullptr, "expected " + e.which(), true);
  } catch (std::exception& e) {
    set_error(it, nullptr, std::string("internal parser error: ") + e.what(), false);
  }
  return false;
}

}  // namespace vigil::rules::parser
