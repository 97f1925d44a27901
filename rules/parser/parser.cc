// The error-recovering driver around the X3 grammar: one declaration at a time; after an error,
// resume at the next top-level `stream` / `sink` / `rule` keyword.
#include "rules/parser/parser.h"

#include <limits>
#include <string>
#include <utility>

#include "rules/parser/decl_parser.h"

namespace vigil::rules {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

uint32_t SkipBlanks(std::string_view text, uint32_t p) {
  while (p < text.size()) {
    char c = text[p];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++p;
    } else if (c == '#') {
      while (p < text.size() && text[p] != '\n') ++p;
    } else {
      break;
    }
  }
  return p;
}

// A coarse token, for messages ("found 'x'") and recovery. Strings are one token.
struct Token {
  uint32_t begin = 0;
  uint32_t end = 0;  // == begin at end of input
};

Token NextToken(std::string_view text, uint32_t p) {
  p = SkipBlanks(text, p);
  Token t{p, p};
  const uint32_t n = static_cast<uint32_t>(text.size());
  if (p >= n) return t;
  char c = text[p];
  uint32_t q = p;
  if (c == 'r' && q + 1 < n && (text[q + 1] == '"' || text[q + 1] == '\'')) {
    ++q;
    c = text[q];
  }
  if (c == '"' || c == '\'') {
    char quote = c;
    ++q;
    while (q < n && text[q] != quote) {
      if (text[q] == '\\' && q + 1 < n) ++q;
      ++q;
    }
    t.end = q < n ? q + 1 : n;
    return t;
  }
  if (c == '`') {
    ++q;
    while (q < n && text[q] != '`' && text[q] != '\n') ++q;
    t.end = q < n && text[q] == '`' ? q + 1 : q;
    return t;
  }
  if (IsIdentChar(c)) {
    while (q < n && IsIdentChar(text[q])) ++q;
    t.end = q;
    return t;
  }
  static constexpr std::string_view kOps[] = {
      "->>", "->", "==", "!=", "<=", ">=", "=~", "!~", "&&", "||"};
  for (auto op : kOps) {
    if (text.substr(p, op.size()) == op) {
      t.end = p + static_cast<uint32_t>(op.size());
      return t;
    }
  }
  // One UTF-8 code point (or one byte if malformed).
  unsigned char u = static_cast<unsigned char>(c);
  uint32_t len = u < 0x80           ? 1
                 : (u >> 5) == 0x6  ? 2
                 : (u >> 4) == 0xE  ? 3
                 : (u >> 3) == 0x1E ? 4
                                    : 1;
  t.end = std::min(n, p + len);
  return t;
}

std::string Describe(std::string_view text, Token t) {
  if (t.begin >= text.size()) return "end of file";
  std::string_view s = text.substr(t.begin, t.end - t.begin);
  std::string out = "'";
  size_t shown = 0;
  for (char c : s) {
    if (++shown > 40) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

bool IsWord(std::string_view text, Token t, std::string_view w) {
  return text.substr(t.begin, t.end - t.begin) == w;
}

bool IsDeclKeyword(std::string_view text, Token t) {
  return IsWord(text, t, "stream") || IsWord(text, t, "sink") || IsWord(text, t, "rule");
}

// The first declaration keyword token that starts at or after `from`, scanning tokens from
// `start` (so that strings and comments are skipped as wholes); text.size() if none.
uint32_t Recover(std::string_view text, uint32_t start, uint32_t from) {
  uint32_t p = start;
  while (true) {
    Token t = NextToken(text, p);
    if (t.begin >= text.size()) return static_cast<uint32_t>(text.size());
    if (t.begin >= from && IsDeclKeyword(text, t)) return t.begin;
    p = t.end > t.begin ? t.end : t.begin + 1;
  }
}

constexpr std::string_view kRuleClauses =
    "from, where, partition by, window, pattern, define, within, after match, when, emit, "
    "labels, annotations, to, on timeout";

bool IsRuleClauseKeyword(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "from",  "where", "partition", "window", "pattern",     "define", "within",
      "after", "when",  "emit",      "labels", "annotations", "to",     "on"};
  for (auto k : kWords)
    if (k == w) return true;
  return false;
}

}  // namespace

ParseResult Parse(uint32_t file_index, std::string_view text) {
  ParseResult result;
  result.file.file_index = file_index;
  auto add = [&](uint32_t begin, uint32_t end, std::string msg) {
    Diagnostic d;
    d.severity = Severity::kError;
    d.span = Span{file_index, begin, end};
    d.message = std::move(msg);
    result.diagnostics.push_back(std::move(d));
  };
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    add(0, 0, "file too large");
    return result;
  }
  const uint32_t n = static_cast<uint32_t>(text.size());
  uint32_t pos = 0;
  while (result.diagnostics.size() < kMaxParseErrors) {
    Token t = NextToken(text, pos);
    if (t.begin >= n) break;
    if (!IsDeclKeyword(text, t)) {
      add(t.begin, t.end,
          "unexpected " + Describe(text, t) +
              ", expected a declaration ('stream', 'sink' or 'rule')");
      pos = Recover(text, t.begin, t.end);
      continue;
    }
    const uint32_t decl_begin = t.begin;
    const std::string_view kind = text.substr(t.begin, t.end - t.begin);
    uint32_t p = decl_begin;
    parser::DeclError err;
    if (!parser::ParseDeclaration(file_index, text, &p, &result.file, &err)) {
      uint32_t at = std::min(err.offset, n);
      Token tok = NextToken(text, at);
      uint32_t end = err.end > at ? std::min(err.end, n) : (tok.begin == at ? tok.end : at);
      std::string msg = std::move(err.message);
      if (err.add_found) msg += ", found " + Describe(text, tok);
      add(at, end, std::move(msg));
      pos = Recover(text, decl_begin, std::max(at, decl_begin + 1));
      continue;
    }
    pos = p;
    Token next = NextToken(text, pos);
    if (next.begin >= n || IsDeclKeyword(text, next)) continue;
    // The declaration parsed but something that is not a declaration follows.
    std::string_view w = text.substr(next.begin, next.end - next.begin);
    std::string msg;
    if (kind == "rule") {
      if (IsRuleClauseKeyword(w)) {
        msg = "unexpected '" + std::string(w) +
              "': it is repeated or out of order (rule clauses go in the order " +
              std::string(kRuleClauses) + ")";
      } else {
        msg = "unexpected " + Describe(text, next) + ", expected a clause (" +
              std::string(kRuleClauses.substr(6)) + ") or the next declaration";
      }
    } else if (kind == "stream") {
      msg = "unexpected " + Describe(text, next) +
            ", expected a stream clause (event time, out of order, idle after, late to, from) "
            "or the next declaration";
    } else {
      msg = "unexpected " + Describe(text, next) + " after the sink declaration";
    }
    add(next.begin, next.end, std::move(msg));
    // Drop the declaration (a syntax error anywhere omits it, see ast::File) and resume.
    if (kind == "rule")
      result.file.rules.pop_back();
    else if (kind == "stream")
      result.file.streams.pop_back();
    else
      result.file.sinks.pop_back();
    pos = Recover(text, next.begin, next.end);
  }
  return result;
}

}  // namespace vigil::rules
