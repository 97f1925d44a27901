#pragma once
// The Spirit X3 grammar of the rule language (spec/language.md). Included only by grammar.cc.
//
// Structure: hand-written lexical primitives (identifiers, keywords, numbers, durations,
// strings, operators) as small x3::parser classes -- they give exact control over keyword
// boundaries, overflow and error messages -- combined by X3 rules. Expectation points are
// E("expected ...")[p]: if p fails, a ParseError is thrown with that message at the next
// token; the driver (parser.cc) turns it into a Diagnostic and recovers. Every rule ID derives
// from `annotate`, whose on_success sets the attribute's span. Recursion (parentheses, unary
// operators, pattern groups) goes through G[...], which bounds the depth.
#include <charconv>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/fusion/include/at_c.hpp>
#include <boost/spirit/home/x3.hpp>

#include "rules/ast/ast.h"
#include "rules/ast/ast_adapted.h"
#include "rules/parser/decl_parser.h"
#include "rules/parser/grammar.h"

namespace vigil::rules::parser {

namespace fusion = boost::fusion;

// A syntax error thrown by the grammar (caught in grammar.cc).
struct ParseError {
  const char* where;
  const char* end;  // nullptr: the token at `where`
  std::string message;
  bool add_found;
};

[[noreturn]] inline void Fail(const char* where, std::string msg, bool add_found = true,
                              const char* end = nullptr) {
  throw ParseError{where, end, std::move(msg), add_found};
}

// ---------------------------------------------------------------------------------------------
// Lexical helpers (no locale, no <cctype>: bytes >= 0x80 are never letters).

inline bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

template <typename Ctx>
State& St(Ctx const& ctx) {
  return x3::get<state_tag>(ctx);
}
template <typename Ctx>
Span MakeSpan(Ctx const& ctx, const char* b, const char* e) {
  State& s = St(ctx);
  return Span{s.file, static_cast<uint32_t>(b - s.base), static_cast<uint32_t>(e - s.base)};
}

// Words that cannot be an (unquoted) name in an expression.
inline bool IsExprReserved(std::string_view w) {
  static constexpr std::string_view kWords[] = {"and", "or",   "not",   "in",
                                                "is",  "true", "false", "null"};
  for (auto k : kWords)
    if (k == w) return true;
  return false;
}
// Words that cannot be a pattern variable (they end or modify a pattern).
inline bool IsPatternReserved(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "define",      "within", "after",   "when",   "emit",        "labels",
      "annotations", "to",     "on",      "greedy", "consecutive", "combinations",
      "optional",    "until",  "stream",  "sink",   "rule",        "where",
      "partition",   "window", "pattern", "from",   "and",         "or",
      "not",         "in",     "is",      "true",   "false",       "null"};
  for (auto k : kWords)
    if (k == w) return true;
  return false;
}

enum class Reserved : uint8_t { kNone, kExpr, kPattern };

// ---------------------------------------------------------------------------------------------
// Primitive parser base: pre-skips, then Derived::Lex(p, end, ctx, value) on raw chars.

template <typename Derived, typename A>
struct Prim : x3::parser<Derived> {
  using attribute_type = A;
  static bool const has_attribute = !std::is_same_v<A, x3::unused_type>;

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx&, Attr& attr) const {
    x3::skip_over(first, last, ctx);
    A value{};
    const char* p = first;
    if (!static_cast<Derived const*>(this)->Lex(p, last, ctx, value)) return false;
    first = p;
    x3::traits::move_to(std::move(value), attr);
    return true;
  }
};

// A keyword: the word, not followed by an identifier character.
struct Kw : Prim<Kw, x3::unused_type> {
  const char* w;
  constexpr explicit Kw(const char* word) : w(word) {}
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const&, x3::unused_type&) const {
    size_t n = std::strlen(w);
    if (static_cast<size_t>(end - p) < n || std::memcmp(p, w, n) != 0) return false;
    if (p + n != end && IsIdentChar(p[n])) return false;
    p += n;
    return true;
  }
};

// A punctuation token `s` not followed by any char of `not_next`.
struct Punct : Prim<Punct, x3::unused_type> {
  const char* s;
  const char* not_next;
  constexpr Punct(const char* str, const char* nn) : s(str), not_next(nn) {}
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const&, x3::unused_type&) const {
    size_t n = std::strlen(s);
    if (static_cast<size_t>(end - p) < n || std::memcmp(p, s, n) != 0) return false;
    if (p + n != end && p[n] != '\0' && std::strchr(not_next, p[n]) != nullptr) return false;
    p += n;
    return true;
  }
};

// Lexes one identifier component at p: [A-Za-z_][A-Za-z0-9_]* or `backquoted`.
template <typename Ctx>
bool LexIdent(const char*& p, const char* end, Ctx const& ctx, Reserved reserved, ast::Ident& out) {
  const char* b = p;
  if (p != end && *p == '`') {
    const char* q = p + 1;
    while (q != end && *q != '`' && *q != '\n') ++q;
    if (q == end || *q != '`') Fail(b, "unterminated backquoted name", false, q);
    if (q == p + 1) Fail(b, "empty backquoted name", false, q + 1);
    out.name.assign(p + 1, q);
    out.quoted = true;
    p = q + 1;
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
  if (p == end || !IsIdentStart(*p)) return false;
  const char* q = p;
  while (q != end && IsIdentChar(*q)) ++q;
  std::string_view w(p, q - p);
  if (reserved == Reserved::kExpr && IsExprReserved(w)) return false;
  if (reserved == Reserved::kPattern && IsPatternReserved(w)) return false;
  out.name.assign(w);
  out.quoted = false;
  p = q;
  out.span = MakeSpan(ctx, b, p);
  return true;
}

struct IdentP : Prim<IdentP, ast::Ident> {
  Reserved reserved;
  constexpr explicit IdentP(Reserved r) : reserved(r) {}
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, ast::Ident& out) const {
    return LexIdent(p, end, ctx, reserved, out);
  }
};

// A dotted path: ident ('.' ident)*, no whitespace around the dots.
struct PathP : Prim<PathP, ast::Path> {
  Reserved reserved;
  constexpr explicit PathP(Reserved r) : reserved(r) {}
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, ast::Path& out) const {
    const char* b = p;
    ast::Ident first;
    if (!LexIdent(p, end, ctx, reserved, first)) return false;
    out.parts.push_back(std::move(first));
    while (p != end && *p == '.' && p + 1 != end && (IsIdentStart(p[1]) || p[1] == '`')) {
      const char* q = p + 1;
      ast::Ident part;
      if (!LexIdent(q, end, ctx, Reserved::kNone, part)) break;
      out.parts.push_back(std::move(part));
      p = q;
    }
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
};

// A function call's head: `name (` (the '(' is consumed).
struct CallHeadP : Prim<CallHeadP, ast::Ident> {
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, ast::Ident& out) const {
    const char* q = p;
    if (q == end || !IsIdentStart(*q)) return false;
    if (!LexIdent(q, end, ctx, Reserved::kExpr, out)) return false;
    x3::skip_over(q, end, ctx);
    if (q == end || *q != '(') return false;
    p = q + 1;
    return true;
  }
};

// A string literal "..." / '...' (escapes) or r"..." / r'...' (raw). `offsets[i]` is the
// source offset of decoded byte i; offsets[size] is the closing quote's offset.
struct StrTok {
  std::string value;
  std::vector<uint32_t> offsets;
  bool raw = false;
  Span span;
};

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

template <typename Ctx>
bool LexString(const char*& p, const char* end, Ctx const& ctx, StrTok& out) {
  const char* b = p;
  const char* q = p;
  bool raw = false;
  if (q != end && *q == 'r' && q + 1 != end && (q[1] == '"' || q[1] == '\'')) {
    raw = true;
    ++q;
  }
  if (q == end || (*q != '"' && *q != '\'')) return false;
  const char quote = *q++;
  const char* base = St(ctx).base;
  auto off = [base](const char* x) { return static_cast<uint32_t>(x - base); };
  out.raw = raw;
  while (true) {
    if (q == end) Fail(b, "unterminated string literal", false, b + 1);
    char c = *q;
    if (c == quote) break;
    if (c == '\\' && !raw) {
      const char* esc = q;
      if (q + 1 == end) Fail(b, "unterminated string literal", false, b + 1);
      char e = q[1];
      size_t before = out.value.size();
      switch (e) {
        case '\\':
          out.value.push_back('\\');
          q += 2;
          break;
        case '"':
          out.value.push_back('"');
          q += 2;
          break;
        case '\'':
          out.value.push_back('\'');
          q += 2;
          break;
        case 'n':
          out.value.push_back('\n');
          q += 2;
          break;
        case 't':
          out.value.push_back('\t');
          q += 2;
          break;
        case 'u': {
          const char* h = q + 2;
          if (h == end || *h != '{')
            Fail(esc, "expected '{' after \\u in string (\\u{hex})", false, h);
          ++h;
          uint32_t cp = 0;
          int digits = 0;
          while (h != end && *h != '}') {
            char d = *h;
            int v = IsDigit(d)               ? d - '0'
                    : (d >= 'a' && d <= 'f') ? d - 'a' + 10
                    : (d >= 'A' && d <= 'F') ? d - 'A' + 10
                                             : -1;
            if (v < 0 || digits >= 6) Fail(esc, "invalid \\u{hex} escape in string", false, h + 1);
            cp = cp * 16 + static_cast<uint32_t>(v);
            ++digits;
            ++h;
          }
          if (h == end) Fail(esc, "invalid \\u{hex} escape in string", false, h);
          if (digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            Fail(esc, "invalid code point in \\u{hex} escape", false, h + 1);
          AppendUtf8(cp, &out.value);
          q = h + 1;
          break;
        }
        default:
          Fail(esc,
               "unknown escape '\\" + std::string(1, e) +
                   "' in string (use \\\\ \\\" \\' \\n \\t \\u{hex}, or a raw string r\"...\")",
               false, q + 2);
      }
      for (size_t i = before; i < out.value.size(); ++i) out.offsets.push_back(off(esc));
      continue;
    }
    out.value.push_back(c);
    out.offsets.push_back(off(q));
    ++q;
  }
  out.offsets.push_back(off(q));
  p = q + 1;
  out.span = MakeSpan(ctx, b, p);
  return true;
}

struct StringP : Prim<StringP, StrTok> {
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, StrTok& out) const {
    return LexString(p, end, ctx, out);
  }
};

// Durations: (integer unit)+ with units ms s m h d, not followed by an identifier char.
// Returns false (p unchanged) if the text is not a duration.
inline bool LexDurationRaw(const char*& p, const char* end, int64_t* ms, bool* overflow) {
  const char* q = p;
  int64_t total = 0;
  int terms = 0;
  *overflow = false;
  while (q != end && IsDigit(*q)) {
    const char* d = q;
    int64_t n = 0;
    while (d != end && IsDigit(*d)) {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *d - '0', &n))
        *overflow = true;
      ++d;
    }
    int64_t unit = 0;
    const char* u = d;
    if (u != end && *u == 'm' && u + 1 != end && u[1] == 's') {
      unit = 1;
      u += 2;
    } else if (u != end && (*u == 's' || *u == 'm' || *u == 'h' || *u == 'd')) {
      unit = *u == 's' ? 1000 : *u == 'm' ? 60000 : *u == 'h' ? 3600000 : 86400000;
      ++u;
    } else {
      break;
    }
    if (u != end && IsIdentChar(*u) && !IsDigit(*u)) break;  // 5min, 2sec
    int64_t v = 0;
    if (__builtin_mul_overflow(n, unit, &v) || __builtin_add_overflow(total, v, &total))
      *overflow = true;
    ++terms;
    q = u;
  }
  if (terms == 0) return false;
  if (q != end && IsIdentChar(*q)) return false;  // 1h30 (trailing number without a unit)
  *ms = total;
  p = q;
  return true;
}

template <typename Ctx>
bool LexDuration(const char*& p, const char* end, Ctx const& ctx, ast::DurationLit& out) {
  const char* b = p;
  bool overflow = false;
  if (!LexDurationRaw(p, end, &out.ms, &overflow)) return false;
  if (overflow) Fail(b, "duration out of range", false, p);
  out.span = MakeSpan(ctx, b, p);
  return true;
}

struct DurationP : Prim<DurationP, ast::DurationLit> {
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, ast::DurationLit& out) const {
    return LexDuration(p, end, ctx, out);
  }
};

// Any literal: null true false, strings, durations, numbers. With `allow_sign`, a '-' directly
// before a number is part of it (option values: `retries -1`).
template <typename Ctx>
bool LexLiteral(const char*& p, const char* end, Ctx const& ctx, bool allow_sign,
                ast::Literal& out) {
  const char* b = p;
  if (p == end) return false;
  char c = *p;
  if (IsIdentStart(c)) {
    if (c == 'r' && p + 1 != end && (p[1] == '"' || p[1] == '\'')) {
      StrTok s;
      LexString(p, end, ctx, s);
      out.kind = ast::LiteralKind::kString;
      out.s = std::move(s.value);
      out.raw = true;
      out.span = s.span;
      return true;
    }
    const char* q = p;
    while (q != end && IsIdentChar(*q)) ++q;
    std::string_view w(p, q - p);
    if (w == "null") {
      out.kind = ast::LiteralKind::kNull;
    } else if (w == "true" || w == "false") {
      out.kind = ast::LiteralKind::kBool;
      out.b = w == "true";
    } else {
      return false;
    }
    p = q;
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
  if (c == '"' || c == '\'') {
    StrTok s;
    LexString(p, end, ctx, s);
    out.kind = ast::LiteralKind::kString;
    out.s = std::move(s.value);
    out.span = s.span;
    return true;
  }
  bool neg = false;
  const char* q = p;
  if (allow_sign && c == '-' && q + 1 != end && IsDigit(q[1])) {
    neg = true;
    ++q;
  }
  if (q == end || !IsDigit(*q)) return false;
  {
    const char* d = q;
    int64_t ms = 0;
    bool overflow = false;
    if (LexDurationRaw(d, end, &ms, &overflow)) {
      if (overflow) Fail(b, "duration out of range", false, d);
      out.kind = ast::LiteralKind::kDuration;
      out.i = neg ? -ms : ms;
      p = d;
      out.span = MakeSpan(ctx, b, p);
      return true;
    }
  }
  const char* d = q;
  while (d != end && IsDigit(*d)) ++d;
  bool is_float = false;
  if (d != end && *d == '.' && d + 1 != end && IsDigit(d[1])) {
    is_float = true;
    d += 2;
    while (d != end && IsDigit(*d)) ++d;
  }
  if (d != end && (*d == 'e' || *d == 'E')) {
    const char* e = d + 1;
    if (e != end && (*e == '+' || *e == '-')) ++e;
    if (e != end && IsDigit(*e)) {
      is_float = true;
      d = e;
      while (d != end && IsDigit(*d)) ++d;
    }
  }
  if (d != end && (IsIdentChar(*d) || *d == '.')) {
    const char* e = d;
    while (e != end && (IsIdentChar(*e) || *e == '.')) ++e;
    Fail(b,
         "invalid number '" + std::string(b, e) +
             "' (durations are integers with a unit ms, s, m, h or d, e.g. 1h30m)",
         false, e);
  }
  if (is_float) {
    double v = 0;
    auto r = std::from_chars(q, d, v);
    if (r.ec != std::errc()) Fail(b, "number out of range", false, d);
    out.kind = ast::LiteralKind::kFloat;
    out.f = neg ? -v : v;
  } else {
    int64_t v = 0;
    auto r = std::from_chars(q, d, v);
    if (r.ec != std::errc()) Fail(b, "integer out of range", false, d);
    out.kind = ast::LiteralKind::kInt;
    out.i = neg ? -v : v;
  }
  p = d;
  out.span = MakeSpan(ctx, b, p);
  return true;
}

struct LiteralP : Prim<LiteralP, ast::Literal> {
  bool allow_sign;
  constexpr explicit LiteralP(bool s) : allow_sign(s) {}
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, ast::Literal& out) const {
    return LexLiteral(p, end, ctx, allow_sign, out);
  }
};

// A stream field type.
struct TypeTok {
  Type type = Type::kNull;
  Span span;
};
struct TypeP : Prim<TypeP, TypeTok> {
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, TypeTok& out) const {
    const char* b = p;
    const char* q = p;
    while (q != end && IsIdentChar(*q)) ++q;
    std::string_view w(p, q - p);
    if (w == "bool")
      out.type = Type::kBool;
    else if (w == "int")
      out.type = Type::kInt;
    else if (w == "float")
      out.type = Type::kFloat;
    else if (w == "string")
      out.type = Type::kString;
    else if (w == "timestamp")
      out.type = Type::kTimestamp;
    else
      return false;
    p = q;
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
};

// An operator token of one precedence level.
struct OpTok {
  int code = 0;  // ast::BinaryOp, or a level-specific code (see users)
  Span span;
};

enum class OpLevel : uint8_t { kOr, kAnd, kNot, kCmp, kIn, kIs, kAdd, kMul, kNeg };

template <typename Ctx>
bool LexWordOp(const char*& p, const char* end, const char* w) {
  size_t n = std::strlen(w);
  if (static_cast<size_t>(end - p) < n || std::memcmp(p, w, n) != 0) return false;
  if (p + n != end && IsIdentChar(p[n])) return false;
  p += n;
  return true;
}

struct OpP : Prim<OpP, OpTok> {
  OpLevel level;
  constexpr explicit OpP(OpLevel l) : level(l) {}
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, OpTok& out) const {
    using B = ast::BinaryOp;
    const char* b = p;
    auto two = [&](const char* s) { return end - p >= 2 && p[0] == s[0] && p[1] == s[1]; };
    auto set = [&](B op, size_t n) {
      out.code = static_cast<int>(op);
      p += n;
    };
    switch (level) {
      case OpLevel::kOr:
        if (two("||"))
          set(B::kOr, 2);
        else if (LexWordOp<Ctx>(p, end, "or"))
          out.code = static_cast<int>(B::kOr);
        else
          return false;
        break;
      case OpLevel::kAnd:
        if (two("&&"))
          set(B::kAnd, 2);
        else if (LexWordOp<Ctx>(p, end, "and"))
          out.code = static_cast<int>(B::kAnd);
        else
          return false;
        break;
      case OpLevel::kNot:
        if (p != end && *p == '!' && !(p + 1 != end && (p[1] == '=' || p[1] == '~')))
          ++p;
        else if (!LexWordOp<Ctx>(p, end, "not"))
          return false;
        break;
      case OpLevel::kCmp:
        if (two("=="))
          set(B::kEq, 2);
        else if (two("!="))
          set(B::kNe, 2);
        else if (two("<="))
          set(B::kLe, 2);
        else if (two(">="))
          set(B::kGe, 2);
        else if (two("=~"))
          set(B::kMatch, 2);
        else if (two("!~"))
          set(B::kNotMatch, 2);
        else if (p != end && *p == '<')
          set(B::kLt, 1);
        else if (p != end && *p == '>')
          set(B::kGt, 1);
        else
          return false;
        break;
      case OpLevel::kIn: {  // code 0: in, 1: not in
        const char* q = p;
        if (LexWordOp<Ctx>(q, end, "in")) {
          out.code = 0;
        } else if (LexWordOp<Ctx>(q, end, "not")) {
          x3::skip_over(q, end, ctx);
          if (!LexWordOp<Ctx>(q, end, "in")) return false;
          out.code = 1;
        } else {
          return false;
        }
        p = q;
        break;
      }
      case OpLevel::kIs: {  // code 0: is null, 1: is not null
        const char* q = p;
        if (!LexWordOp<Ctx>(q, end, "is")) return false;
        x3::skip_over(q, end, ctx);
        out.code = 0;
        if (LexWordOp<Ctx>(q, end, "not")) {
          out.code = 1;
          x3::skip_over(q, end, ctx);
        }
        if (!LexWordOp<Ctx>(q, end, "null"))
          Fail(q, out.code ? "expected 'null' after 'is not'"
                           : "expected 'null' or 'not null' after 'is'");
        p = q;
        break;
      }
      case OpLevel::kAdd:
        if (p != end && *p == '+')
          set(B::kAdd, 1);
        else if (p != end && *p == '-' && !(p + 1 != end && p[1] == '>'))
          set(B::kSub, 1);
        else
          return false;
        break;
      case OpLevel::kMul:
        if (p != end && *p == '*')
          set(B::kMul, 1);
        else if (p != end && *p == '/')
          set(B::kDiv, 1);
        else if (p != end && *p == '%')
          set(B::kMod, 1);
        else
          return false;
        break;
      case OpLevel::kNeg:
        if (p != end && *p == '-' && !(p + 1 != end && p[1] == '>'))
          ++p;
        else
          return false;
        break;
    }
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
};

// Pattern connectors `->` / `->>` (code: ast::Connector).
struct ArrowP : Prim<ArrowP, OpTok> {
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, OpTok& out) const {
    const char* b = p;
    if (end - p < 2 || p[0] != '-' || p[1] != '>') return false;
    if (end - p >= 3 && p[2] == '>') {
      out.code = static_cast<int>(ast::Connector::kNonDeterministic);
      p += 3;
    } else {
      out.code = static_cast<int>(ast::Connector::kRelaxed);
      p += 2;
    }
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
};

// Quantifiers ? + * {n} {n,} {n,m}.
struct QuantP : Prim<QuantP, ast::Quantifier> {
  template <typename Ctx>
  bool Lex(const char*& p, const char* end, Ctx const& ctx, ast::Quantifier& out) const {
    using Q = ast::QuantKind;
    const char* b = p;
    if (p == end) return false;
    if (*p == '?') {
      out.kind = Q::kOptional;
      out.min = 0;
      out.max = 1;
      ++p;
    } else if (*p == '+') {
      out.kind = Q::kOneOrMore;
      out.min = 1;
      out.max = ast::Quantifier::kUnbounded;
      ++p;
    } else if (*p == '*') {
      out.kind = Q::kZeroOrMore;
      out.min = 1;
      out.max = ast::Quantifier::kUnbounded;
      ++p;
    } else if (*p == '{') {
      const char* q = p + 1;
      auto count = [&](const char* what) -> int64_t {
        x3::skip_over(q, end, ctx);
        if (q == end || !IsDigit(*q)) Fail(q, what);
        const char* d = q;
        int64_t v = 0;
        while (d != end && IsDigit(*d)) {
          v = v * 10 + (*d - '0');
          if (v > INT32_MAX) {
            while (d != end && IsDigit(*d)) ++d;
            Fail(q, "quantifier count out of range", false, d);
          }
          ++d;
        }
        q = d;
        return v;
      };
      out.min = count("expected a non-negative integer in quantifier '{n}', '{n,}' or '{n,m}'");
      x3::skip_over(q, end, ctx);
      if (q != end && *q == '}') {
        out.kind = Q::kTimes;
        out.max = out.min;
      } else if (q != end && *q == ',') {
        ++q;
        x3::skip_over(q, end, ctx);
        if (q != end && *q == '}') {
          out.kind = Q::kTimesOrMore;
          out.max = ast::Quantifier::kUnbounded;
        } else {
          out.kind = Q::kRange;
          out.max = count("expected an integer or '}' after ',' in quantifier");
          x3::skip_over(q, end, ctx);
          if (q == end || *q != '}') Fail(q, "expected '}' to close the quantifier");
          if (out.max < out.min) Fail(b, "quantifier {n,m} needs n <= m", false, q + 1);
        }
      } else {
        Fail(q, "expected ',' or '}' in quantifier");
      }
      p = q + 1;
    } else {
      return false;
    }
    out.span = MakeSpan(ctx, b, p);
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// Directives.

// E("expected ...")[p]: p must match, else ParseError at the next token.
template <typename Subject>
struct ExpectD : x3::unary_parser<Subject, ExpectD<Subject>> {
  using base_type = x3::unary_parser<Subject, ExpectD<Subject>>;
  static bool const is_pass_through_unary = true;
  const char* msg;
  constexpr ExpectD(Subject const& s, const char* m) : base_type(s), msg(m) {}
  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx& rctx, Attr& attr) const {
    if (this->subject.parse(first, last, ctx, rctx, attr)) return true;
    It where = first;
    x3::skip_over(where, last, ctx);
    Fail(where, msg);
  }
};
struct ExpectGen {
  const char* msg;
  template <typename S>
  constexpr ExpectD<typename x3::extension::as_parser<S>::value_type> operator[](S const& s) const {
    return {x3::as_parser(s), msg};
  }
};
constexpr ExpectGen E(const char* msg) { return ExpectGen{msg}; }

// G[p]: one level of nesting; beyond kMaxDepth a ParseError ("nesting too deep").
template <typename Subject>
struct GuardD : x3::unary_parser<Subject, GuardD<Subject>> {
  using base_type = x3::unary_parser<Subject, GuardD<Subject>>;
  static bool const is_pass_through_unary = true;
  constexpr explicit GuardD(Subject const& s) : base_type(s) {}
  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx& rctx, Attr& attr) const {
    State& st = St(ctx);
    if (st.depth >= kMaxDepth) {
      It where = first;
      x3::skip_over(where, last, ctx);
      Fail(where, "nesting too deep (more than " + std::to_string(kMaxDepth) + " levels)", false);
    }
    ++st.depth;
    bool r = this->subject.parse(first, last, ctx, rctx, attr);
    --st.depth;
    return r;
  }
};
struct GuardGen {
  template <typename S>
  constexpr GuardD<typename x3::extension::as_parser<S>::value_type> operator[](S const& s) const {
    return GuardD<typename x3::extension::as_parser<S>::value_type>{x3::as_parser(s)};
  }
};
constexpr GuardGen G{};

// S[p] (in a rule's definition): after p matches, sets the rule attribute's span to the
// matched text (X3 calls on_success with an unused attribute for rules with actions).
template <typename Subject, typename Setter>
struct SpanD : x3::unary_parser<Subject, SpanD<Subject, Setter>> {
  using base_type = x3::unary_parser<Subject, SpanD<Subject, Setter>>;
  static bool const is_pass_through_unary = true;
  constexpr explicit SpanD(Subject const& s) : base_type(s) {}
  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx& rctx, Attr& attr) const {
    It b = first;
    x3::skip_over(b, last, ctx);
    if (!this->subject.parse(first, last, ctx, rctx, attr)) return false;
    Setter{}(rctx, MakeSpan(ctx, b, first));
    return true;
  }
};
template <typename Setter>
struct SpanGen {
  template <typename S>
  constexpr SpanD<typename x3::extension::as_parser<S>::value_type, Setter> operator[](
      S const& s) const {
    return SpanD<typename x3::extension::as_parser<S>::value_type, Setter>{x3::as_parser(s)};
  }
};
struct SetSpan {
  template <typename R>
  void operator()(R& r, Span s) const {
    if constexpr (requires { r.span = s; }) r.span = s;
  }
};
struct SetPatternSpan {
  template <typename R>
  void operator()(R& r, Span s) const {
    if constexpr (requires { r.pattern_span = s; }) r.pattern_span = s;
  }
};
constexpr SpanGen<SetSpan> S{};
constexpr SpanGen<SetPatternSpan> PS{};

// ---------------------------------------------------------------------------------------------
// Rule IDs: on_success sets the attribute's span to the matched text.

struct annotate {
  template <typename It, typename Attr, typename Ctx>
  void on_success(It const& first, It const& last, Attr& attr, Ctx const& ctx) const {
    if constexpr (requires { attr.span = Span{}; }) attr.span = MakeSpan(ctx, first, last);
  }
};

struct expr_class : annotate {};
struct stream_decl_class : annotate {};
struct sink_decl_class : annotate {};
struct rule_decl_class : annotate {};

// ---------------------------------------------------------------------------------------------
// Semantic-action helpers.

// Skips whitespace and comments (as the skipper does) in raw text.
inline void SkipWsRaw(const char*& p, const char* end) {
  while (p != end) {
    char c = *p;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++p;
    } else if (c == '#') {
      while (p != end && *p != '\n') ++p;
    } else {
      break;
    }
  }
}

template <typename Ctx>
void Finish(Ctx const& ctx, ast::Expr& e) {
  uint32_t h = 0;
  for (const auto& a : e.args) h = std::max(h, a.height);
  e.height = h + 1;
  if (e.height > kMaxExprHeight) {
    State& s = St(ctx);
    Fail(s.base + e.span.begin,
         "expression too deeply nested (more than " + std::to_string(kMaxExprHeight) + " levels)",
         false, s.base + e.span.end);
  }
}

inline Span Join(Span a, Span b) { return Span{a.file, a.begin, b.end}; }

auto const set_val = [](auto& ctx) { x3::_val(ctx) = std::move(x3::_attr(ctx)); };

auto const make_bin = [](auto& ctx) {
  auto& a = x3::_attr(ctx);
  OpTok& op = fusion::at_c<0>(a);
  ast::Expr& rhs = fusion::at_c<1>(a);
  ast::Expr n;
  n.kind = ast::ExprKind::kBinary;
  n.binary_op = static_cast<ast::BinaryOp>(op.code);
  n.op_span = op.span;
  n.span = Join(x3::_val(ctx).span, rhs.span);
  n.args.push_back(std::move(x3::_val(ctx)));
  n.args.push_back(std::move(rhs));
  Finish(ctx, n);
  x3::_val(ctx) = std::move(n);
};

auto const make_in = [](auto& ctx) {
  auto& a = x3::_attr(ctx);
  OpTok& op = fusion::at_c<0>(a);
  std::vector<ast::Expr>& items = fusion::at_c<1>(a);
  ast::Expr n;
  n.kind = op.code ? ast::ExprKind::kNotIn : ast::ExprKind::kIn;
  n.op_span = op.span;
  n.span = x3::_val(ctx).span;  // extended by on_success of the rule
  n.args.push_back(std::move(x3::_val(ctx)));
  for (auto& i : items) n.args.push_back(std::move(i));
  Finish(ctx, n);
  x3::_val(ctx) = std::move(n);
};

auto const make_is = [](auto& ctx) {
  OpTok& op = x3::_attr(ctx);
  ast::Expr n;
  n.kind = op.code ? ast::ExprKind::kIsNotNull : ast::ExprKind::kIsNull;
  n.op_span = op.span;
  n.span = Join(x3::_val(ctx).span, op.span);
  n.args.push_back(std::move(x3::_val(ctx)));
  Finish(ctx, n);
  x3::_val(ctx) = std::move(n);
};

auto const make_unary = [](ast::UnaryOp uop) {
  return [uop](auto& ctx) {
    auto& a = x3::_attr(ctx);
    OpTok& op = fusion::at_c<0>(a);
    ast::Expr& operand = fusion::at_c<1>(a);
    // Fold `-` into a numeric literal: `-7` is the literal -7.
    if (uop == ast::UnaryOp::kNeg && operand.kind == ast::ExprKind::kLiteral &&
        (operand.literal.kind == ast::LiteralKind::kInt ||
         operand.literal.kind == ast::LiteralKind::kFloat) &&
        op.span.end == operand.span.begin) {
      ast::Expr n = std::move(operand);
      if (n.literal.kind == ast::LiteralKind::kInt)
        n.literal.i = -n.literal.i;
      else
        n.literal.f = -n.literal.f;
      n.span.begin = op.span.begin;
      n.literal.span = n.span;
      x3::_val(ctx) = std::move(n);
      return;
    }
    ast::Expr n;
    n.kind = ast::ExprKind::kUnary;
    n.unary_op = uop;
    n.op_span = op.span;
    n.span = Join(op.span, operand.span);
    n.args.push_back(std::move(operand));
    Finish(ctx, n);
    x3::_val(ctx) = std::move(n);
  };
};

auto const make_lit = [](auto& ctx) {
  ast::Expr n;
  n.kind = ast::ExprKind::kLiteral;
  n.literal = std::move(x3::_attr(ctx));
  n.span = n.literal.span;
  x3::_val(ctx) = std::move(n);
};

auto const make_name = [](auto& ctx) {
  ast::Expr n;
  n.kind = ast::ExprKind::kName;
  n.name = std::move(x3::_attr(ctx));
  n.span = n.name.span;
  x3::_val(ctx) = std::move(n);
};

auto const make_call = [](auto& ctx) {
  auto& a = x3::_attr(ctx);
  ast::Expr n;
  n.kind = ast::ExprKind::kCall;
  n.func = std::move(fusion::at_c<0>(a));
  if (auto& args = fusion::at_c<1>(a)) n.args = std::move(*args);
  n.span = n.func.span;  // S[] extends it to the ')'
  Finish(ctx, n);
  x3::_val(ctx) = std::move(n);
};

// ---------------------------------------------------------------------------------------------
// Tokens.

constexpr IdentP ident_any{Reserved::kNone};
constexpr IdentP var_ident{Reserved::kPattern};
constexpr PathP path_any{Reserved::kNone};
constexpr PathP path_expr{Reserved::kExpr};
constexpr CallHeadP call_head{};
constexpr LiteralP literal_p{false};
constexpr LiteralP option_literal{true};
constexpr DurationP duration{};
constexpr StringP string_p{};
constexpr TypeP type_p{};
constexpr OpP or_op{OpLevel::kOr};
constexpr OpP and_op{OpLevel::kAnd};
constexpr OpP not_op{OpLevel::kNot};
constexpr OpP cmp_op{OpLevel::kCmp};
constexpr OpP in_op{OpLevel::kIn};
constexpr OpP is_op{OpLevel::kIs};
constexpr OpP add_op{OpLevel::kAdd};
constexpr OpP mul_op{OpLevel::kMul};
constexpr OpP neg_op{OpLevel::kNeg};
constexpr ArrowP arrow{};
constexpr QuantP quant_p{};
constexpr Punct assign_tok{"=", "=~"};
constexpr Punct bang_tok{"!", "=~"};

// ---------------------------------------------------------------------------------------------
// Expressions.

expr_type const expr = "expression";
x3::rule<class or_class, ast::Expr> const or_expr = "expression";
x3::rule<class and_class, ast::Expr> const and_expr = "expression";
x3::rule<struct not_class, ast::Expr> const not_expr = "expression";
x3::rule<struct cmp_class, ast::Expr> const cmp_expr = "expression";
x3::rule<class add_class, ast::Expr> const add_expr = "expression";
x3::rule<class mul_class, ast::Expr> const mul_expr = "expression";
x3::rule<struct unary_class, ast::Expr> const unary_expr = "expression";
x3::rule<class primary_class, ast::Expr> const primary = "expression";
x3::rule<class expr_list_class, std::vector<ast::Expr>> const expr_list = "expressions";
x3::rule<class call_class, ast::Expr> const call_expr = "function call";

struct not_class : annotate {};
struct cmp_class : annotate {};
struct unary_class : annotate {};

auto const expr_def = or_expr;
auto const or_expr_def = and_expr[set_val] >>
                         *(or_op >> E("expected an expression after 'or'")[and_expr])[make_bin];
auto const and_expr_def = not_expr[set_val] >>
                          *(and_op >> E("expected an expression after 'and'")[not_expr])[make_bin];
auto const not_expr_def =
    (not_op >>
     G[E("expected an expression after 'not'")[not_expr]])[make_unary(ast::UnaryOp::kNot)] |
    cmp_expr[set_val];
auto const expr_list_def = expr >> *(x3::lit(',') >> E("expected an expression after ','")[expr]);
auto const cmp_expr_def =
    S[add_expr[set_val] >>
      -((cmp_op >> E("expected an expression after the comparison operator")[add_expr])[make_bin] |
        (in_op >> E("expected '(' after 'in'")[x3::lit('(')] >>
         E("expected an expression in the 'in' list")[expr_list] >>
         E("expected ')' or ',' in the 'in' list")[x3::lit(')')])[make_in] |
        is_op[make_is])];
auto const add_expr_def = mul_expr[set_val] >>
                          *(add_op >>
                            E("expected an expression after the operator")[mul_expr])[make_bin];
auto const mul_expr_def = unary_expr[set_val] >>
                          *(mul_op >>
                            E("expected an expression after the operator")[unary_expr])[make_bin];
auto const unary_expr_def =
    (neg_op >>
     G[E("expected an expression after '-'")[unary_expr]])[make_unary(ast::UnaryOp::kNeg)] |
    primary[set_val];
auto const call_expr_def =
    S[(call_head >> -expr_list >>
       E("expected ')' or ',' in the argument list")[x3::lit(')')])[make_call]];
auto const primary_def = literal_p[make_lit] | call_expr[set_val] | path_expr[make_name] |
                         (x3::lit('(') >> G[E("expected an expression after '('")[expr]] >>
                          E("expected ')'")[x3::lit(')')])[set_val];

BOOST_SPIRIT_DEFINE(expr, or_expr, and_expr, not_expr, cmp_expr, add_expr, mul_expr, unary_expr,
                    primary, expr_list, call_expr)

// ---------------------------------------------------------------------------------------------
// Templates: the decoded string is split into literal text and `{EXPR}` holes; each hole is
// parsed with `expr` over the decoded text and its spans mapped back to the source.

inline void RemapSpan(Span& s, const std::vector<uint32_t>& offs) {
  s.begin = offs[std::min<size_t>(s.begin, offs.size() - 1)];
  s.end = offs[std::min<size_t>(s.end, offs.size() - 1)];
}
void RemapExpr(ast::Expr& e, const std::vector<uint32_t>& offs);
inline void RemapIdent(ast::Ident& i, const std::vector<uint32_t>& offs) {
  RemapSpan(i.span, offs);
}
inline void RemapExpr(ast::Expr& e, const std::vector<uint32_t>& offs) {
  RemapSpan(e.span, offs);
  RemapSpan(e.op_span, offs);
  RemapSpan(e.literal.span, offs);
  RemapSpan(e.name.span, offs);
  for (auto& p : e.name.parts) RemapIdent(p, offs);
  RemapIdent(e.func, offs);
  for (auto& a : e.args) RemapExpr(a, offs);
}

// Parses a template's holes; defined in grammar.cc (it re-enters the parser).
ast::Template ParseTemplate(State& st, StrTok&& s);

auto const make_kt = [](auto& ctx) {
  auto& a = x3::_attr(ctx);
  ast::KeyTemplate kt;
  auto& key = fusion::at_c<0>(a);
  if (key.which() == 0) {
    kt.key = std::move(boost::get<ast::Ident>(key));
  } else {
    StrTok& s = boost::get<StrTok>(key);
    kt.key.name = std::move(s.value);
    kt.key.span = s.span;
    kt.key.quoted = true;
  }
  kt.value = ParseTemplate(St(ctx), std::move(fusion::at_c<1>(a)));
  x3::_val(ctx) = std::move(kt);
};

// ---------------------------------------------------------------------------------------------
// Patterns.

struct pattern_alt_class : annotate {};
struct pattern_seq_class : annotate {};
struct pattern_term_class : annotate {};
struct modifier_class : annotate {};
x3::rule<pattern_alt_class, ast::PatternNode> const pattern_alt = "pattern";
x3::rule<pattern_seq_class, ast::PatternNode> const pattern_seq = "pattern";
x3::rule<pattern_term_class, ast::PatternNode> const pattern_term = "pattern term";
x3::rule<class pattern_primary_class, ast::PatternNode> const pattern_primary = "pattern term";
x3::rule<modifier_class, ast::PatternModifier> const modifier = "modifier";
x3::rule<class step_bound_class, ast::DurationLit> const step_bound = "time bound";

auto const alt_first = [](auto& ctx) { x3::_val(ctx) = std::move(x3::_attr(ctx)); };
auto const alt_more = [](auto& ctx) {
  auto& v = x3::_val(ctx);
  if (v.kind != ast::PatternNode::Kind::kAlt) {
    ast::PatternNode alt;
    alt.kind = ast::PatternNode::Kind::kAlt;
    alt.children.push_back(std::move(v));
    v = std::move(alt);
  }
  v.children.push_back(std::move(x3::_attr(ctx)));
};
auto const seq_first = [](auto& ctx) {
  auto& v = x3::_val(ctx);
  v.kind = ast::PatternNode::Kind::kSeq;
  v.children.push_back(std::move(x3::_attr(ctx)));
  v.connectors.push_back(ast::Connector::kStrict);
  v.bounds.emplace_back();
};
auto const seq_arrow = [](auto& ctx) {
  auto& a = x3::_attr(ctx);
  auto& v = x3::_val(ctx);
  v.connectors.push_back(static_cast<ast::Connector>(fusion::at_c<0>(a).code));
  auto& bound = fusion::at_c<1>(a);  // boost::optional (X3's attribute of `-p`)
  v.bounds.push_back(bound ? std::optional<ast::DurationLit>(std::move(*bound)) : std::nullopt);
  v.children.push_back(std::move(fusion::at_c<2>(a)));
};
auto const seq_strict_bound = [](auto& ctx) {
  auto& a = x3::_attr(ctx);
  auto& v = x3::_val(ctx);
  v.connectors.push_back(ast::Connector::kStrict);
  v.bounds.emplace_back(std::move(fusion::at_c<0>(a)));
  v.children.push_back(std::move(fusion::at_c<1>(a)));
};
auto const seq_strict = [](auto& ctx) {
  auto& v = x3::_val(ctx);
  v.connectors.push_back(ast::Connector::kStrict);
  v.bounds.emplace_back();
  v.children.push_back(std::move(x3::_attr(ctx)));
};
auto const term_neg = [](auto& ctx) { x3::_val(ctx).negated = true; };
auto const term_primary = [](auto& ctx) {
  bool neg = x3::_val(ctx).negated;
  x3::_val(ctx) = std::move(x3::_attr(ctx));
  x3::_val(ctx).negated = neg;
};
auto const term_quant = [](auto& ctx) { x3::_val(ctx).quant = std::move(x3::_attr(ctx)); };
auto const term_mod = [](auto& ctx) {
  x3::_val(ctx).modifiers.push_back(std::move(x3::_attr(ctx)));
};
auto const make_var = [](auto& ctx) {
  auto& v = x3::_val(ctx);
  v.kind = ast::PatternNode::Kind::kVar;
  v.var = std::move(x3::_attr(ctx));
};
auto const set_mod = [](ast::ModifierKind k) { return [k](auto& ctx) { x3::_val(ctx).kind = k; }; };
auto const set_until = [](auto& ctx) {
  x3::_val(ctx).kind = ast::ModifierKind::kUntil;
  x3::_val(ctx).until = std::move(x3::_attr(ctx));
};

auto const pattern_alt_def =
    S[pattern_seq[alt_first] >>
      *(x3::lit('|') >> E("expected a pattern after '|'")[pattern_seq])[alt_more]];
// A connector may carry a time bound between two steps: `a ->[5m] b`, `a ->>[5m] b`, and for
// strict contiguity the bound alone, `a [5m] b` ('[' starts nothing else in a pattern).
auto const step_bound_def =
    x3::lit('[') >> E("expected a duration after '[' (e.g. 5m)")[duration] >>
    E("expected ']' after the time bound")[x3::lit(']')];
auto const pattern_seq_def =
    S[pattern_term[seq_first] >>
      *((arrow >> -step_bound >>
         E("expected a pattern variable or '(' after the arrow")[pattern_term])[seq_arrow] |
        (step_bound >>
         E("expected a pattern variable or '(' after the time bound")[pattern_term])
            [seq_strict_bound] |
        pattern_term[seq_strict])];
auto const pattern_term_def =
    S[(bang_tok[term_neg] >>
           E("expected a pattern variable or '(' after '!'")[pattern_primary[term_primary]] |
       pattern_primary[term_primary]) >>
      -(quant_p[term_quant] >> *modifier[term_mod])];
auto const pattern_primary_def =
    var_ident[make_var] | (x3::lit('(') >> G[E("expected a pattern after '('")[pattern_alt]] >>
                           E("expected ')' to close the pattern group")[x3::lit(')')])[set_val];
auto const modifier_def = S[Kw("greedy")[set_mod(ast::ModifierKind::kGreedy)] |
                            Kw("consecutive")[set_mod(ast::ModifierKind::kConsecutive)] |
                            Kw("combinations")[set_mod(ast::ModifierKind::kCombinations)] |
                            Kw("optional")[set_mod(ast::ModifierKind::kOptional)] |
                            (Kw("until") >> E("expected '(' after 'until'")[x3::lit('(')] >>
                             E("expected a condition after 'until ('")[expr] >>
                             E("expected ')' after the until condition")[x3::lit(')')])[set_until]];

BOOST_SPIRIT_DEFINE(pattern_alt, pattern_seq, pattern_term, pattern_primary, modifier, step_bound)

// ---------------------------------------------------------------------------------------------
// Declarations.

#define VIGIL_SET(member) ([](auto& ctx) { x3::_val(ctx).member = std::move(x3::_attr(ctx)); })

struct option_class : annotate {};
struct define_item_class : annotate {};
struct emit_item_class : annotate {};
struct compute_item_class : annotate {};
struct kt_class : annotate {};
struct field_class : annotate {};
struct source_class : annotate {};
struct window_class : annotate {};
struct after_match_class : annotate {};
struct when_class : annotate {};
struct on_timeout_class : annotate {};

x3::rule<option_class, ast::Option> const option = "option";
x3::rule<class option_list_class, std::vector<ast::Option>> const option_list = "options";
x3::rule<class ident_list_class, std::vector<ast::Ident>> const ident_list = "names";
x3::rule<class path_list_class, std::vector<ast::Path>> const path_list = "fields";
x3::rule<define_item_class, ast::DefineItem> const define_item = "definition";
x3::rule<emit_item_class, ast::EmitItem> const emit_item = "emit item";
x3::rule<compute_item_class, ast::ComputeItem> const compute_item = "aggregate";
x3::rule<kt_class, ast::KeyTemplate> const kt_item = "key: template";
x3::rule<class kt_block_class, std::vector<ast::KeyTemplate>> const kt_block = "{...}";
x3::rule<field_class, ast::FieldDecl> const field = "field";
x3::rule<source_class, ast::SourceDecl> const source = "source";
x3::rule<window_class, ast::WindowClause> const window_clause = "window";
x3::rule<after_match_class, ast::AfterMatch> const after_match = "after match";
x3::rule<when_class, ast::WhenClause> const when_clause = "when";
x3::rule<on_timeout_class, ast::OnTimeout> const on_timeout = "on timeout";
x3::rule<class pattern_clause_class, ast::PatternNode> const pattern_clause = "pattern";
stream_decl_type const stream_decl = "stream";
sink_decl_type const sink_decl = "sink";
rule_decl_type const rule_decl = "rule";

auto const option_def = ident_any >>
                        E("expected a literal value after the option name")[option_literal];
auto const option_list_def = x3::lit('(') >> -(option % ',') >>
                             E("expected ')' or ',' after an option")[x3::lit(')')];
auto const ident_list_def = E("expected a name")[ident_any] >>
                            *(x3::lit(',') >> E("expected a name after ','")[ident_any]);
auto const path_list_def = E("expected a field name")[path_any] >>
                           *(x3::lit(',') >> E("expected a field name after ','")[path_any]);
auto const define_item_def = var_ident >>
                             E("expected 'as' after variable name in define")[Kw("as")] >>
                             E("expected a condition after 'as'")[expr];
auto const emit_item_def = ident_any >> E("expected '=' after the emit name")[assign_tok] >>
                           E("expected an expression after '='")[expr];
auto const compute_item_def = expr >> E("expected 'as' after the aggregate in compute")[Kw("as")] >>
                              E("expected a name after 'as'")[ident_any];
auto const kt_item_def =
    S[((ident_any | string_p) >> E("expected ':' after the key")[x3::lit(':')] >>
       E("expected a string template after ':'")[string_p])[make_kt]];
auto const kt_block_def = E("expected '{'")[x3::lit('{')] >> -(kt_item % ',') >> -x3::lit(',') >>
                          E("expected '}' or ',' after an entry")[x3::lit('}')];

x3::rule<class define_list_class, std::vector<ast::DefineItem>> const define_list = "define";
x3::rule<class emit_list_class, std::vector<ast::EmitItem>> const emit_list = "emit";
x3::rule<class compute_list_class, std::vector<ast::ComputeItem>> const compute_list = "compute";
auto const define_list_def =
    E("expected a variable definition after 'define' (VAR as CONDITION)")[define_item] >>
    *(x3::lit(',') >> E("expected a variable definition after ','")[define_item]);
auto const emit_list_def = E("expected NAME = EXPR after 'emit'")[emit_item] >>
                           *(x3::lit(',') >> E("expected NAME = EXPR after ','")[emit_item]);
auto const compute_list_def =
    E("expected an aggregate after 'compute' (e.g. avg(value) as v)")[compute_item] >>
    *(x3::lit(',') >> E("expected an aggregate after ','")[compute_item]);

auto const set_field_name = [](auto& ctx) { x3::_val(ctx).name = std::move(x3::_attr(ctx)); };
auto const set_field_type = [](auto& ctx) {
  x3::_val(ctx).type = x3::_attr(ctx).type;
  x3::_val(ctx).type_span = x3::_attr(ctx).span;
};
auto const field_def =
    S[path_any[set_field_name] >>
      E("expected a type (bool, int, float, string, timestamp)")[type_p][set_field_type]];
auto const source_def =
    S[E("expected a source kind (file, kafka, stdin)")[ident_any][VIGIL_SET(kind)] >>
      -option_list[VIGIL_SET(options)]];

template <typename T>
Span SpanOf(const T& v) {
  if constexpr (requires { v.span; })
    return v.span;
  else if constexpr (requires { v.front().span; })
    return v.empty() ? Span{} : v.front().span;
  else
    return Span{};
}

// Each stream clause at most once.
template <typename T>
auto Once(const char* what, T ast::StreamDecl::*member) {
  return [what, member](auto& ctx) {
    auto& v = x3::_val(ctx);
    auto& m = v.*member;
    bool dup;
    if constexpr (requires { m.has_value(); })
      dup = m.has_value();
    else
      dup = !m.empty();
    if (dup) {
      State& s = St(ctx);
      Span sp = SpanOf(x3::_attr(ctx));
      Fail(s.base + sp.begin,
           std::string("duplicate '") + what + "' clause in stream '" + v.name.name + "'", false,
           s.base + sp.end);
    }
    m = std::move(x3::_attr(ctx));
  };
}

auto const stream_decl_def =
    S[Kw("stream") >> E("expected a stream name after 'stream'")[ident_any][VIGIL_SET(name)] >>
      E("expected '(' and the stream's fields")[x3::lit('(')] >>
      -(field % ',')[VIGIL_SET(fields)] >> -x3::lit(',') >>
      E("expected ')' or ',' after a field")[x3::lit(')')] >>
      *((Kw("event") >> E("expected 'time' after 'event'")[Kw("time")] >>
         E("expected the event-time field after 'event time'")[path_any])[Once(
            "event time", &ast::StreamDecl::event_time)] |
        (Kw("out") >> E("expected 'of order' after 'out'")[Kw("of")] >>
         E("expected 'order' after 'out of'")[Kw("order")] >>
         E("expected a duration after 'out of order' (e.g. 5s)")[duration])[Once(
            "out of order", &ast::StreamDecl::out_of_order)] |
        (Kw("idle") >> E("expected 'after' after 'idle'")[Kw("after")] >>
         E("expected a duration after 'idle after' (e.g. 1m)")[duration])[Once(
            "idle after", &ast::StreamDecl::idle_after)] |
        (Kw("late") >> E("expected 'to' after 'late'")[Kw("to")] >>
         ident_list)[Once("late to", &ast::StreamDecl::late_to)] |
        (Kw("from") >> source)[Once("from", &ast::StreamDecl::source)])];

auto const sink_decl_def =
    S[Kw("sink") >> E("expected a sink name after 'sink'")[ident_any][VIGIL_SET(name)] >>
      E("expected a sink kind (file, stdout, webhook, alertmanager, kafka)")[ident_any]
                                                                            [VIGIL_SET(kind)] >>
      -option_list[VIGIL_SET(options)]];

auto const window_clause_def =
    S[Kw("window") >>
      E("expected a window size (a duration, e.g. 1m)")[duration][VIGIL_SET(size)] >>
      -(Kw("slide") >>
        E("expected a slide duration after 'slide' (e.g. 10s)")[duration])[VIGIL_SET(slide)] >>
      E("expected 'compute' after the window size")[Kw("compute")] >>
      compute_list[VIGIL_SET(compute)]];

auto const set_skip = [](ast::SkipKind k) { return [k](auto& ctx) { x3::_val(ctx).kind = k; }; };
auto const set_skip_var = [](ast::SkipKind k) {
  return [k](auto& ctx) {
    x3::_val(ctx).kind = k;
    x3::_val(ctx).var = std::move(x3::_attr(ctx));
  };
};
auto const after_match_def =
    S[Kw("after") >> E("expected 'match' after 'after'")[Kw("match")] >>
      E("expected a skip strategy (no skip, skip to next, skip past last, skip to first VAR, skip "
        "to last VAR)")
          [(Kw("no") >>
            E("expected 'skip' after 'no'")[Kw("skip")])[set_skip(ast::SkipKind::kNoSkip)] |
           (Kw("skip") >>
            E("expected 'to next', 'past last', 'to first VAR' or 'to last VAR' after 'skip'")
                [(Kw("past") >> E("expected 'last' after 'skip past'")[Kw("last")])[set_skip(
                     ast::SkipKind::kSkipPastLast)] |
                 (Kw("to") >>
                  E("expected 'next', 'first VAR' or 'last VAR' after 'skip to'")
                      [Kw("next")[set_skip(ast::SkipKind::kSkipToNext)] |
                       (Kw("first") >>
                        E("expected a pattern variable after 'skip to "
                          "first'")[ident_any])[set_skip_var(ast::SkipKind::kSkipToFirst)] |
                       (Kw("last") >>
                        E("expected a pattern variable after 'skip to "
                          "last'")[ident_any])[set_skip_var(ast::SkipKind::kSkipToLast)]])])]];

auto const when_clause_def =
    S[Kw("when") >> E("expected a condition after 'when'")[expr][VIGIL_SET(cond)] >>
      -(Kw("for") >>
        E("expected a duration after 'for' (e.g. 5m)")[duration])[VIGIL_SET(for_duration)] >>
      -(Kw("keep") >> E("expected 'firing for' after 'keep'")[Kw("firing")] >>
        E("expected 'for' after 'keep firing'")[Kw("for")] >>
        E("expected a duration after 'keep firing for'")[duration])[VIGIL_SET(keep_firing_for)] >>
      -(Kw("clear") >> E("expected 'when' after 'clear'")[Kw("when")] >>
        E("expected a condition after 'clear when'")[expr])[VIGIL_SET(clear_when)] >>
      -(Kw("no") >> E("expected 'data after' after 'no'")[Kw("data")] >>
        E("expected 'after' after 'no data'")[Kw("after")] >>
        E("expected a duration after 'no data after'")[duration])[VIGIL_SET(no_data_after)]];

auto const on_timeout_def = S[Kw("on") >> E("expected 'timeout' after 'on'")[Kw("timeout")] >>
                              -(Kw("to") >> ident_list)[VIGIL_SET(to)]];

auto const pattern_clause_def = Kw("pattern") >>
                                E("expected a pattern after 'pattern'")[pattern_alt];

auto const set_pattern = [](auto& ctx) {
  auto& v = x3::_val(ctx);
  v.pattern = std::move(x3::_attr(ctx));
};

auto const rule_decl_def =
    S[Kw("rule") >> E("expected a rule name after 'rule'")[ident_any][VIGIL_SET(name)] >>
      E("expected 'from' after the rule name")[Kw("from")] >>
      E("expected a stream name after 'from'")[ident_any][VIGIL_SET(from)] >>
      -(Kw("where") >> E("expected a condition after 'where'")[expr])[VIGIL_SET(where)] >>
      -(Kw("partition") >> E("expected 'by' after 'partition'")[Kw("by")] >>
        path_list)[VIGIL_SET(partition_by)] >>
      -window_clause[VIGIL_SET(window)] >> -PS[pattern_clause[set_pattern]] >>
      -(Kw("define") >> define_list)[VIGIL_SET(define)] >>
      -(Kw("within") >>
        E("expected a duration after 'within' (e.g. 10m)")[duration])[VIGIL_SET(within)] >>
      -after_match[VIGIL_SET(after_match)] >> -when_clause[VIGIL_SET(when)] >>
      -(Kw("emit") >> emit_list)[VIGIL_SET(emit)] >>
      -(Kw("labels") >> kt_block)[VIGIL_SET(labels)] >>
      -(Kw("annotations") >> kt_block)[VIGIL_SET(annotations)] >>
      -(Kw("to") >> ident_list)[VIGIL_SET(to)] >> -on_timeout[VIGIL_SET(on_timeout)]];

BOOST_SPIRIT_DEFINE(option, option_list, ident_list, path_list, define_item, emit_item,
                    compute_item, kt_item, kt_block, field, source, window_clause, after_match,
                    when_clause, on_timeout, pattern_clause, define_list, emit_list, compute_list,
                    stream_decl, sink_decl, rule_decl)

#undef VIGIL_SET

// The skipper: whitespace and `#` comments.
struct SkipperP : x3::parser<SkipperP> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const&, RCtx&, Attr&) const {
    const char* p = first;
    if (p == last) return false;
    char c = *p;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      first = p + 1;
      return true;
    }
    if (c == '#') {
      while (p != last && *p != '\n') ++p;
      first = p;
      return true;
    }
    return false;
  }
};
constexpr SkipperP skipper{};

}  // namespace vigil::rules::parser
