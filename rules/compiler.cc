#include "rules/compiler.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "rules/binder/binder.h"
#include "rules/parser/parser.h"

namespace vigil::rules {

namespace {

// The CLI prints at most this many errors (spec/cli.md).
constexpr size_t kMaxErrors = 20;

// Sorts by file then position (notes stay right after the error they belong to) and keeps
// the first kMaxErrors errors (and the warnings/notes among them).
void SortAndTruncate(std::vector<Diagnostic>* diags) {
  // Attach each note to the preceding error so that sorting keeps them together.
  struct Item {
    Diagnostic d;
    Span key;
    size_t order;
    size_t sub;
  };
  std::vector<Item> items;
  Span last_key{};
  size_t group = 0;
  for (size_t i = 0; i < diags->size(); ++i) {
    const Diagnostic& d = (*diags)[i];
    if (d.severity == Severity::kNote && !items.empty()) {
      items.push_back(Item{d, last_key, group, items.back().sub + 1});
    } else {
      last_key = d.span;
      group = i;
      items.push_back(Item{d, d.span, group, 0});
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.key.file != b.key.file) return a.key.file < b.key.file;
    if (a.key.begin != b.key.begin) return a.key.begin < b.key.begin;
    if (a.order != b.order) return a.order < b.order;
    return a.sub < b.sub;
  });
  std::vector<Diagnostic> out;
  size_t errors = 0;
  for (Item& it : items) {
    if (it.d.severity == Severity::kError) {
      if (errors == kMaxErrors) break;
      ++errors;
    }
    out.push_back(std::move(it.d));
  }
  *diags = std::move(out);
}

CompileResult Compile(CompileResult r, const std::vector<bool>& readable) {
  std::vector<ast::File> files;
  bool syntax_ok = true;
  for (uint32_t i = 0; i < r.sources.size(); ++i) {
    if (!readable[i]) continue;
    ParseResult p = Parse(i, r.sources.text(i));
    if (!p.ok()) syntax_ok = false;
    for (Diagnostic& d : p.diagnostics) r.diagnostics.push_back(std::move(d));
    files.push_back(std::move(p.file));
  }
  bool all_readable = std::all_of(readable.begin(), readable.end(), [](bool b) { return b; });
  // Declarations with syntax errors are left out of the AST: binding the rest would report
  // their names as unknown, so semantic checks wait for a clean parse.
  if (syntax_ok && all_readable) {
    BindResult b = Bind(files, r.sources);
    for (Diagnostic& d : b.diagnostics) r.diagnostics.push_back(std::move(d));
    r.rule_set = std::move(b.rule_set);
  }
  bool has_error = std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                               [](const auto& d) { return d.severity == Severity::kError; });
  if (has_error) r.rule_set = nullptr;
  SortAndTruncate(&r.diagnostics);
  return r;
}

}  // namespace

CompileResult CompileFiles(const std::vector<std::string>& paths) {
  CompileResult r;
  std::vector<bool> readable;
  std::vector<Diagnostic> io_errors;
  for (const std::string& path : paths) {
    std::string text;
    std::string reason;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      reason = "it is a directory";
    } else {
      errno = 0;
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        reason = errno != 0 ? std::strerror(errno) : "cannot open";
      } else {
        std::ostringstream ss;
        ss << in.rdbuf();
        if (in.bad()) reason = "read error";
        text = ss.str();
      }
    }
    const bool ok = reason.empty();
    uint32_t index = r.sources.Add(path, ok ? std::move(text) : std::string());
    readable.push_back(ok);
    if (!ok) {
      io_errors.push_back(Diagnostic{Severity::kError, Span{index, 0, 0},
                                     "cannot read file '" + path + "': " + reason});
    }
  }
  for (Diagnostic& d : io_errors) r.diagnostics.push_back(std::move(d));
  return Compile(std::move(r), readable);
}

CompileResult CompileSources(const std::vector<std::pair<std::string, std::string>>& sources) {
  CompileResult r;
  for (const auto& [name, text] : sources) r.sources.Add(name, text);
  std::vector<bool> readable(r.sources.size(), true);
  return Compile(std::move(r), readable);
}

}  // namespace vigil::rules
