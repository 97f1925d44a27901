#include "src/testing/expectations.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "fmt/format.h"
#include "src/testing/time_spec.h"
#include "src/testing/yaml_values.h"

namespace vigil::ruletest {

namespace {

YAML::Node Get(const YAML::Node& map, const std::string& key) {
  if (!map.IsDefined() || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return std::as_const(map)[key];
}

bool Near(double a, double b) {
  return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

// `+5m` (from start) or RFC 3339, as a time in ms; nullopt when `text` is neither.
std::optional<int64_t> TimeSpec(const std::string& text, int64_t start_ms) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    std::optional<int64_t> off = ParseOffset(text);
    if (off) return start_ms + *off;
    return std::nullopt;
  }
  std::optional<int64_t> abs = ParseAbsoluteTime(text);
  if (abs && text.find('T') != std::string::npos) return abs;  // integers are plain numbers
  return std::nullopt;
}

std::string TimeText(int64_t ms, int64_t start_ms) {
  return fmt::format("{} ({}, {})", ms, FormatOffset(ms - start_ms), FormatRfc3339(ms));
}

bool ScalarMatches(const YAML::Node& exp, const YAML::Node& got, const MatchContext& ctx,
                   bool contains) {
  ScalarKind ek = KindOf(exp);
  if (!got.IsDefined() || got.IsNull()) return ek == ScalarKind::kNull;
  if (!got.IsScalar() || ek == ScalarKind::kNull) return false;
  const std::string& g = got.Scalar();
  const std::string& e = exp.Scalar();
  switch (KindOf(got)) {
    case ScalarKind::kString:
      return contains ? g.find(e) != std::string::npos : g == e;
    case ScalarKind::kBool:
      return ek == ScalarKind::kBool && std::tolower(e[0]) == std::tolower(g[0]);
    case ScalarKind::kInt:
    case ScalarKind::kFloat: {
      double gv = std::strtod(g.c_str(), nullptr);
      if (ek == ScalarKind::kInt || ek == ScalarKind::kFloat) {
        return Near(std::strtod(e.c_str(), nullptr), gv);
      }
      std::optional<int64_t> t = TimeSpec(e, ctx.start_ms);
      return t && KindOf(got) == ScalarKind::kInt && std::strtoll(g.c_str(), nullptr, 10) == *t;
    }
    case ScalarKind::kNull:
      return false;
  }
  return false;
}

// How a produced value is shown in a difference: timestamps (when the expectation wrote a
// time) with their offset and RFC 3339 form.
std::string ShowGot(const YAML::Node& exp, const YAML::Node& got, const MatchContext& ctx) {
  if (!got.IsDefined()) return "nothing";
  if (exp.IsScalar() && got.IsScalar() && KindOf(got) == ScalarKind::kInt &&
      TimeSpec(exp.Scalar(), ctx.start_ms)) {
    return TimeText(std::strtoll(got.Scalar().c_str(), nullptr, 10), ctx.start_ms);
  }
  return RenderFlow(got);
}

void Compare(const YAML::Node& exp, const YAML::Node& got, const std::string& path,
             const MatchContext& ctx, bool contains, std::vector<std::string>* out) {
  auto differ = [&] {
    out->push_back(fmt::format("{}: expected {}{}, got {}", path, contains ? "to contain " : "",
                               RenderFlow(exp), ShowGot(exp, got, ctx)));
  };
  if (exp.IsMap()) {
    if (!got.IsDefined() || !got.IsMap()) return differ();
    for (auto it = exp.begin(); it != exp.end(); ++it) {
      const std::string& k = it->first.Scalar();
      Compare(it->second, Get(got, k), path + "." + k, ctx, false, out);
    }
    return;
  }
  if (exp.IsSequence()) {
    if (!got.IsDefined() || !got.IsSequence()) return differ();
    if (exp.size() != got.size()) {
      out->push_back(fmt::format("{}: expected {} item(s), got {}: {}", path, exp.size(),
                                 got.size(), RenderFlow(got)));
      return;
    }
    for (size_t i = 0; i < exp.size(); ++i) {
      Compare(exp[i], got[i], fmt::format("{}[{}]", path, i), ctx, false, out);
    }
    return;
  }
  if (!ScalarMatches(exp, got, ctx, contains)) differ();
}

std::vector<std::string> Sorted(const YAML::Node& seq) {
  std::vector<std::string> out;
  if (seq.IsDefined() && seq.IsSequence()) {
    for (const YAML::Node& s : seq) out.push_back(s.IsScalar() ? s.Scalar() : RenderFlow(s));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> Differences(const Expectation& expected, const YAML::Node& got,
                                     const MatchContext& ctx) {
  std::vector<std::string> out;
  for (auto it = expected.node.begin(); it != expected.node.end(); ++it) {
    const std::string& key = it->first.Scalar();
    if (key == "at" || key == "time") continue;
    if (key == "sinks") {
      if (Sorted(it->second) != Sorted(Get(got, "sinks"))) {
        out.push_back(fmt::format("sinks: expected {}, got {}", RenderFlow(it->second),
                                  RenderFlow(Get(got, "sinks"))));
      }
      continue;
    }
    Compare(it->second, Get(got, key), key, ctx, ctx.dead_letters && key == "reason", &out);
  }
  if (expected.time) {
    YAML::Node t = Get(got, "time");
    bool same = t.IsDefined() && t.IsScalar() && KindOf(t) == ScalarKind::kInt &&
                std::strtoll(t.Scalar().c_str(), nullptr, 10) == *expected.time;
    if (!same) {
      std::string shown =
          t.IsDefined() && t.IsScalar() && KindOf(t) == ScalarKind::kInt
              ? TimeText(std::strtoll(t.Scalar().c_str(), nullptr, 10), ctx.start_ms)
              : ShowGot(t, t, ctx);
      out.push_back(fmt::format("{}: expected {}, got {}",
                                Get(expected.node, "at").IsDefined() ? "at" : "time",
                                TimeText(*expected.time, ctx.start_ms), shown));
    }
  }
  return out;
}

Pairing Pair(const std::vector<Expectation>& expected, const std::vector<YAML::Node>& got,
             bool ordered, const MatchContext& ctx) {
  Pairing p;
  std::vector<int> got_to_exp(got.size(), -1);
  std::vector<bool> exp_paired(expected.size(), false);
  if (ordered) {
    for (size_t i = 0; i < std::min(expected.size(), got.size()); ++i) {
      if (Differences(expected[i], got[i], ctx).empty()) {
        exp_paired[i] = true;
        got_to_exp[i] = static_cast<int>(i);
      }
    }
  } else {
    // Maximum bipartite matching (augmenting paths): an expectation that several records
    // satisfy must not take the one a stricter expectation needs.
    std::vector<std::vector<size_t>> fits(expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      for (size_t j = 0; j < got.size(); ++j) {
        if (Differences(expected[i], got[j], ctx).empty()) fits[i].push_back(j);
      }
    }
    std::vector<bool> visited;
    std::function<bool(size_t)> augment = [&](size_t i) {
      for (size_t j : fits[i]) {
        if (visited[j]) continue;
        visited[j] = true;
        if (got_to_exp[j] < 0 || augment(static_cast<size_t>(got_to_exp[j]))) {
          got_to_exp[j] = static_cast<int>(i);
          return true;
        }
      }
      return false;
    };
    for (size_t i = 0; i < expected.size(); ++i) {
      visited.assign(got.size(), false);
      augment(i);
    }
    for (int i : got_to_exp) {
      if (i >= 0) exp_paired[i] = true;
    }
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!exp_paired[i]) p.missing.push_back(i);
  }
  for (size_t j = 0; j < got.size(); ++j) {
    if (got_to_exp[j] < 0) p.unexpected.push_back(j);
  }
  return p;
}

std::string RenderRecord(const YAML::Node& got, int64_t start_ms) {
  YAML::Node view(YAML::NodeType::Map);
  for (const char* k : {"kind", "rule", "stream"}) {
    YAML::Node v = Get(got, k);
    if (v.IsDefined() && !(v.IsScalar() && v.Scalar().empty())) view[k] = v;
  }
  YAML::Node t = Get(got, "time");
  if (t.IsDefined() && t.IsScalar() && KindOf(t) == ScalarKind::kInt) {
    int64_t ms = std::strtoll(t.Scalar().c_str(), nullptr, 10);
    view["at"] = FormatOffset(ms - start_ms);
    view["time"] = FormatRfc3339(ms);
  }
  for (const char* k :
       {"key", "fields", "labels", "annotations", "reason", "line", "input", "watermark"}) {
    YAML::Node v = Get(got, k);
    if (v.IsDefined()) view[k] = v;
  }
  YAML::Node sinks = Get(got, "sinks");
  if (sinks.IsDefined() && !(sinks.size() == 1 && sinks[0].Scalar() == "default")) {
    view["sinks"] = sinks;
  }
  return RenderFlow(view);
}

}  // namespace vigil::ruletest
