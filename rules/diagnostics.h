#pragma once
// Compiler-style diagnostics with source spans (spec/cli.md):
//   fraud.vgl:12:24: error: unknown field 'amout' in stream 'txn' (did you mean 'amount'?)
//      12 |     large as amout >= 500
//         |              ^~~~~
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::rules {

// A half-open byte range [begin, end) in one source file.
struct Span {
  uint32_t file = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
};

enum class Severity : uint8_t { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity = Severity::kError;
  Span span;
  std::string message;
};

// Owns source texts; maps offsets to 1-based line:column (column in bytes + 1).
class SourceManager {
 public:
  uint32_t Add(std::string name, std::string text);  // returns the file index
  const std::string& name(uint32_t file) const { return files_[file].name; }
  const std::string& text(uint32_t file) const { return files_[file].text; }
  size_t size() const { return files_.size(); }
  struct LineCol {
    uint32_t line = 1;
    uint32_t col = 1;
  };
  LineCol Locate(uint32_t file, uint32_t offset) const;
  std::string_view LineText(uint32_t file, uint32_t line) const;

 private:
  struct File {
    std::string name;
    std::string text;
    std::vector<uint32_t> line_starts;
  };
  std::vector<File> files_;
};

// "file:line:col: error: message\n   12 | source line\n      |   ^~~~\n"
std::string Render(const SourceManager& sm, const Diagnostic& d);

// The closest candidate by edit distance (Damerau-Levenshtein), if close enough to suggest
// ("did you mean ...?"); "" otherwise.
std::string ClosestMatch(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace vigil::rules
