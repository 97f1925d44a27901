#include "rules/diagnostics.h"

#include <algorithm>
#include <cstdio>

namespace vigil::rules {

uint32_t SourceManager::Add(std::string name, std::string text) {
  File f;
  f.name = std::move(name);
  f.text = std::move(text);
  f.line_starts.push_back(0);
  for (uint32_t i = 0; i < f.text.size(); ++i) {
    if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  files_.push_back(std::move(f));
  return static_cast<uint32_t>(files_.size() - 1);
}

SourceManager::LineCol SourceManager::Locate(uint32_t file, uint32_t offset) const {
  LineCol lc;
  if (file >= files_.size()) return lc;
  const File& f = files_[file];
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(f.text.size()));
  // The last line start <= offset.
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  size_t line_index = static_cast<size_t>(it - f.line_starts.begin()) - 1;
  lc.line = static_cast<uint32_t>(line_index + 1);
  lc.col = offset - f.line_starts[line_index] + 1;
  return lc;
}

std::string_view SourceManager::LineText(uint32_t file, uint32_t line) const {
  if (file >= files_.size() || line == 0) return {};
  const File& f = files_[file];
  if (line > f.line_starts.size()) return {};
  uint32_t begin = f.line_starts[line - 1];
  uint32_t end =
      line < f.line_starts.size() ? f.line_starts[line] - 1 : static_cast<uint32_t>(f.text.size());
  std::string_view v(f.text.data() + begin, end - begin);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

namespace {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

}  // namespace

std::string Render(const SourceManager& sm, const Diagnostic& d) {
  std::string out;
  if (d.span.file >= sm.size()) {
    out += SeverityName(d.severity);
    out += ": ";
    out += d.message;
    out += '\n';
    return out;
  }
  if (sm.text(d.span.file).empty() && d.span.end == 0) {
    // A file-level problem (e.g. it cannot be read): no position, no excerpt.
    out += sm.name(d.span.file);
    out += ": ";
    out += SeverityName(d.severity);
    out += ": ";
    out += d.message;
    out += '\n';
    return out;
  }
  SourceManager::LineCol lc = sm.Locate(d.span.file, d.span.begin);
  out += sm.name(d.span.file);
  out += ':' + std::to_string(lc.line) + ':' + std::to_string(lc.col) + ": ";
  out += SeverityName(d.severity);
  out += ": ";
  out += d.message;
  out += '\n';
  std::string_view line = sm.LineText(d.span.file, lc.line);
  char num[32];
  std::snprintf(num, sizeof(num), "%5u | ", lc.line);
  out += num;
  out += line;
  out += '\n';
  out += "      | ";
  size_t col0 = lc.col - 1;
  // Keep tabs so that the caret lines up with the source line.
  for (size_t i = 0; i < col0 && i < line.size(); ++i) out += line[i] == '\t' ? '\t' : ' ';
  for (size_t i = line.size(); i < col0; ++i) out += ' ';
  out += '^';
  size_t span_len = d.span.end > d.span.begin ? d.span.end - d.span.begin : 1;
  size_t room = line.size() > col0 ? line.size() - col0 : 1;
  size_t n = std::min(span_len, room);
  for (size_t i = 1; i < n; ++i) out += '~';
  out += '\n';
  return out;
}

namespace {

// Optimal string alignment distance (restricted Damerau-Levenshtein).
size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

std::string ClosestMatch(std::string_view name, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(1, name.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    if (c == name || c.empty()) continue;
    // Cheap lower bound: the length difference.
    size_t diff = c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    if (diff >= best_distance) continue;
    size_t dist = EditDistance(name, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  return best;
}

}  // namespace vigil::rules
