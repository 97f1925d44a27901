#include "rules/binder/span_fixup.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace vigil::rules::internal {

namespace {

bool IsWord(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool Empty(const Span& s) { return s.end <= s.begin; }

class Fixer {
 public:
  Fixer(std::string_view text, uint32_t file) : t_(text), file_(file) {}

  uint32_t Size() const { return static_cast<uint32_t>(t_.size()); }

  // Position after skipping whitespace and comments forward.
  uint32_t SkipFwd(uint32_t p) const {
    while (p < Size()) {
      if (IsSpace(t_[p])) {
        ++p;
      } else if (t_[p] == '#') {
        while (p < Size() && t_[p] != '\n') ++p;
      } else {
        break;
      }
    }
    return p;
  }
  // Position of the last non-space character before p, plus one.
  uint32_t SkipBack(uint32_t p) const {
    while (p > 0 && IsSpace(t_[p - 1])) --p;
    return p;
  }
  uint32_t TrimEnd(uint32_t begin, uint32_t end) const {
    end = std::min(end, Size());
    while (end > begin && IsSpace(t_[end - 1])) --end;
    return end;
  }
  // Skips a string literal starting at p (p at the quote or at r of r"..."); returns the
  // position after it.
  uint32_t SkipString(uint32_t p) const {
    bool raw = false;
    if (t_[p] == 'r' && p + 1 < Size() && t_[p + 1] == '"') {
      raw = true;
      ++p;
    }
    char q = t_[p++];
    while (p < Size() && t_[p] != q) {
      if (!raw && q != '`' && t_[p] == '\\') ++p;
      ++p;
    }
    return std::min(p + 1, Size());
  }
  // The position after the ')' matching the '(' at or after p (skipping space); or p.
  uint32_t MatchParen(uint32_t p) const {
    uint32_t q = SkipFwd(p);
    if (q >= Size() || t_[q] != '(') return p;
    int depth = 0;
    while (q < Size()) {
      char c = t_[q];
      if (c == '"' || c == '\'' || c == '`' ||
          (c == 'r' && q + 1 < Size() && t_[q + 1] == '"' && (q == 0 || !IsWord(t_[q - 1])))) {
        q = SkipString(q);
        continue;
      }
      if (c == '#') {
        while (q < Size() && t_[q] != '\n') ++q;
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) return q + 1;
      ++q;
    }
    return p;
  }
  // The next ')' at or after p (skipping strings): the position after it, or p.
  uint32_t NextClose(uint32_t p) const {
    uint32_t q = p;
    while (q < Size()) {
      char c = t_[q];
      if (c == '"' || c == '\'' || c == '`') {
        q = SkipString(q);
        continue;
      }
      if (c == ')') return q + 1;
      ++q;
    }
    return p;
  }
  // The begin of the first occurrence of the word sequence `words` at or after p (skipping
  // strings and comments), stopping at `limit`; or UINT32_MAX.
  uint32_t FindWords(uint32_t p, uint32_t limit, std::initializer_list<const char*> words) const {
    limit = std::min(limit, Size());
    while (p < limit) {
      char c = t_[p];
      if (c == '#') {
        while (p < limit && t_[p] != '\n') ++p;
        continue;
      }
      if (c == '"' || c == '\'' || c == '`' ||
          (c == 'r' && p + 1 < Size() && t_[p + 1] == '"' && (p == 0 || !IsWord(t_[p - 1])))) {
        p = SkipString(p);
        continue;
      }
      if (IsWord(c) && (p == 0 || !IsWord(t_[p - 1]))) {
        uint32_t q = p;
        bool all = true;
        for (const char* w : words) {
          q = SkipFwd(q);
          size_t n = std::strlen(w);
          if (t_.substr(q, n) != w || (q + n < Size() && IsWord(t_[q + n]))) {
            all = false;
            break;
          }
          q += static_cast<uint32_t>(n);
        }
        if (all) return p;
        while (p < limit && IsWord(t_[p])) ++p;
        continue;
      }
      ++p;
    }
    return UINT32_MAX;
  }
  // Begin of `word` ending right before p (skipping space backwards), or UINT32_MAX.
  uint32_t WordBefore(uint32_t p, const char* word) const {
    uint32_t e = SkipBack(p);
    size_t n = std::strlen(word);
    if (e < n) return UINT32_MAX;
    uint32_t b = e - static_cast<uint32_t>(n);
    if (t_.substr(b, n) != word || (b > 0 && IsWord(t_[b - 1]))) return UINT32_MAX;
    return b;
  }
  Span Make(uint32_t b, uint32_t e) const { return Span{file_, b, std::max(b, e)}; }

  void Expr(ast::Expr& e) {
    for (ast::Expr& a : e.args) Expr(a);
    switch (e.kind) {
      case ast::ExprKind::kLiteral:
      case ast::ExprKind::kName:
        e.span.end = TrimEnd(e.span.begin, e.span.end);
        break;
      case ast::ExprKind::kCall: {
        uint32_t b = e.func.span.begin;
        uint32_t end = MatchParen(e.func.span.end);
        e.span = Make(b, end > e.func.span.end ? end : e.func.span.end);
        break;
      }
      case ast::ExprKind::kUnary:
        if (!e.args.empty()) {
          uint32_t b = !Empty(e.op_span) ? e.op_span.begin : e.span.begin;
          e.span = Make(std::min(b, e.args[0].span.begin), e.args[0].span.end);
        }
        break;
      case ast::ExprKind::kBinary:
        if (e.args.size() == 2) e.span = Make(e.args[0].span.begin, e.args[1].span.end);
        break;
      case ast::ExprKind::kIn:
      case ast::ExprKind::kNotIn:
        if (!e.args.empty()) {
          uint32_t end = NextClose(e.args.back().span.end);
          e.span = Make(e.args[0].span.begin, std::max(end, e.args.back().span.end));
        }
        break;
      case ast::ExprKind::kIsNull:
      case ast::ExprKind::kIsNotNull:
        if (!e.args.empty()) {
          uint32_t from = !Empty(e.op_span) ? e.op_span.begin : e.args[0].span.end;
          uint32_t n = FindWords(from, Size(), {"null"});
          uint32_t end = n == UINT32_MAX ? e.span.end : n + 4;
          e.span = Make(e.args[0].span.begin, end);
        }
        break;
    }
  }

  void Template(ast::Template& t) {
    for (ast::TemplatePart& p : t.parts) {
      if (p.is_hole) Expr(p.expr);
    }
  }

  // Returns the end of the term (after quantifier and modifiers).
  void Pattern(ast::PatternNode& n) {
    for (ast::PatternNode& c : n.children) Pattern(c);
    uint32_t begin = 0, end = 0;
    if (n.kind == ast::PatternNode::Kind::kVar) {
      begin = n.var.span.begin;
      end = n.var.span.end;
    } else if (!n.children.empty()) {
      begin = n.children.front().span.begin;
      end = n.children.back().span.end;
      // A quantified or negated group has parentheses of its own.
      bool parens = n.negated || n.quant.kind != ast::QuantKind::kNone || !n.modifiers.empty();
      if (parens) {
        uint32_t b = SkipBack(begin);
        if (b > 0 && t_[b - 1] == '(') begin = b - 1;
        uint32_t q = SkipFwd(end);
        if (q < Size() && t_[q] == ')') end = q + 1;
      }
    }
    if (n.negated) {
      uint32_t b = SkipBack(begin);
      if (b > 0 && t_[b - 1] == '!') begin = b - 1;
    }
    if (!Empty(n.quant.span)) end = std::max(end, n.quant.span.end);
    uint32_t cursor = end;
    for (ast::PatternModifier& m : n.modifiers) {
      static const char* const kWords[] = {"greedy", "consecutive", "combinations", "optional",
                                           "until"};
      if (m.kind == ast::ModifierKind::kUntil) Expr(m.until);
      if (Empty(m.span)) {
        const char* w = kWords[static_cast<int>(m.kind)];
        uint32_t p = FindWords(cursor, Size(), {w});
        if (p != UINT32_MAX) {
          uint32_t e = p + static_cast<uint32_t>(std::strlen(w));
          if (m.kind == ast::ModifierKind::kUntil) e = std::max(e, NextClose(m.until.span.end));
          m.span = Make(p, e);
        }
      }
      if (!Empty(m.span)) {
        cursor = m.span.end;
        end = std::max(end, m.span.end);
      }
    }
    if (Empty(n.span) || n.span.begin > begin) n.span = Make(begin, end);
  }

  void Rule(ast::RuleDecl& r, uint32_t decl_end) {
    if (r.where) Expr(*r.where);
    if (r.window) {
      for (ast::ComputeItem& c : r.window->compute) Expr(c.agg);
      if (Empty(r.window->span)) {
        uint32_t b = WordBefore(r.window->size.span.begin, "window");
        r.window->span =
            Make(b == UINT32_MAX ? r.window->size.span.begin : b, r.window->size.span.end);
      }
    }
    if (r.pattern) Pattern(*r.pattern);
    for (ast::DefineItem& d : r.define) Expr(d.cond);
    if (r.when) {
      Expr(r.when->cond);
      if (r.when->clear_when) Expr(*r.when->clear_when);
      if (Empty(r.when->span)) {
        uint32_t b = WordBefore(r.when->cond.span.begin, "when");
        r.when->span = Make(b == UINT32_MAX ? r.when->cond.span.begin : b, r.when->cond.span.end);
      }
    }
    for (ast::EmitItem& e : r.emit) Expr(e.expr);
    for (ast::KeyTemplate& k : r.labels) Template(k.value);
    for (ast::KeyTemplate& k : r.annotations) Template(k.value);
    if (r.after_match && Empty(r.after_match->span)) {
      uint32_t p = FindWords(r.name.span.end, decl_end, {"after", "match"});
      if (p != UINT32_MAX) r.after_match->span = Make(p, p + 5);
    }
    if (r.on_timeout && Empty(r.on_timeout->span)) {
      uint32_t from = r.name.span.end;
      if (r.when) from = std::max(from, r.when->cond.span.end);
      for (const ast::Ident& i : r.to) from = std::max(from, i.span.end);
      for (const ast::KeyTemplate& k : r.annotations) from = std::max(from, k.value.span.end);
      for (const ast::KeyTemplate& k : r.labels) from = std::max(from, k.value.span.end);
      for (const ast::EmitItem& e : r.emit) from = std::max(from, e.expr.span.end);
      uint32_t p = FindWords(from, decl_end, {"on", "timeout"});
      if (p != UINT32_MAX) {
        uint32_t e = FindWords(p, decl_end, {"timeout"});
        r.on_timeout->span = Make(p, e == UINT32_MAX ? p + 2 : e + 7);
      }
    }
    if (Empty(r.span)) {
      uint32_t b = WordBefore(r.name.span.begin, "rule");
      r.span = Make(b == UINT32_MAX ? r.name.span.begin : b, TrimEnd(r.name.span.begin, decl_end));
    }
  }

 private:
  std::string_view t_;
  uint32_t file_;
};

}  // namespace

void FixSpans(ast::File* file, std::string_view text) {
  Fixer fx(text, file->file_index);
  // Declarations start at their keyword: the end of one is the start of the next.
  std::vector<uint32_t> starts;
  auto keyword_begin = [&](const ast::Ident& name, const char* kw) {
    uint32_t b = fx.WordBefore(name.span.begin, kw);
    return b == UINT32_MAX ? name.span.begin : b;
  };
  for (const ast::StreamDecl& s : file->streams) starts.push_back(keyword_begin(s.name, "stream"));
  for (const ast::SinkDecl& s : file->sinks) starts.push_back(keyword_begin(s.name, "sink"));
  for (const ast::RuleDecl& r : file->rules) starts.push_back(keyword_begin(r.name, "rule"));
  std::sort(starts.begin(), starts.end());
  for (ast::RuleDecl& r : file->rules) {
    auto it = std::upper_bound(starts.begin(), starts.end(), r.name.span.begin);
    uint32_t end = it == starts.end() ? fx.Size() : *it;
    fx.Rule(r, end);
  }
}

}  // namespace vigil::rules::internal
