#include "engine/source/source_registry.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <vector>

#include "cep/connectors/connector_options.h"
#include "core/time.h"
#include "engine/source/file_source.h"

namespace vigil::engine {

SourceRegistry::SourceRegistry() {
  Register("file", [](const SourceParams& p) -> absl::StatusOr<std::unique_ptr<Source>> {
    std::filesystem::path path = cep::OptionReader(p.spec.options).String("path");
    if (path.empty()) return absl::InvalidArgumentError("a file source needs option 'path'");
    if (path.is_relative() && !p.base_dir.empty()) path = std::filesystem::path(p.base_dir) / path;
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> f, FileSource::Open(path.string(), p.follow));
    f->SetWatermarkLines(p.watermark_lines ||
                         cep::OptionReader(p.spec.options).Bool("watermarks", false));
    return std::unique_ptr<Source>(std::move(f));
  });
  Register("stdin", [](const SourceParams& p) -> absl::StatusOr<std::unique_ptr<Source>> {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> f, FileSource::Open("-"));
    f->SetWatermarkLines(p.watermark_lines);
    return std::unique_ptr<Source>(std::move(f));
  });
}

void SourceRegistry::Register(std::string kind, SourceFactory factory) {
  factories_[std::move(kind)] = std::move(factory);
}

absl::StatusOr<std::unique_ptr<Source>> SourceRegistry::Open(const SourceParams& params) const {
  auto it = factories_.find(params.spec.kind);
  if (it == factories_.end()) {
    std::vector<std::string> kinds;
    for (const auto& [k, f] : factories_) kinds.push_back(k);
    std::sort(kinds.begin(), kinds.end());
    std::string list;
    for (const std::string& k : kinds) list += (list.empty() ? "" : ", ") + k;
    return absl::UnimplementedError("source kind '" + params.spec.kind +
                                    "' is not available in this build (available: " + list + ")");
  }
  return it->second(params);
}

namespace {

template <typename Strings>
std::string Join(const Strings& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// "10s", "1m30s", "250ms" -> milliseconds.
bool ParseDuration(std::string_view text, int64_t* ms) {
  if (text.empty()) return false;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 12) return false;
    int64_t n = 0;
    std::from_chars(text.data() + start, text.data() + i, n);
    size_t unit_start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t mult = 0;
    if (unit == "ms") {
      mult = 1;
    } else if (unit == "s") {
      mult = 1000;
    } else if (unit == "m") {
      mult = 60'000;
    } else if (unit == "h") {
      mult = 3'600'000;
    } else if (unit == "d") {
      mult = 86'400'000;
    } else {
      return false;
    }
    total += n * mult;
  }
  *ms = total;
  return total > 0;
}

absl::StatusOr<Value> TypedOption(const cep::OptionSpec& spec, std::string_view text) {
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError("option '" + std::string(spec.name) + "=" +
                                      std::string(text) + "' must be " + std::string(what));
  };
  switch (spec.kind) {
    case cep::OptKind::kString:
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        return bad("one of " + Join(spec.choices));
      }
      return Value::String(std::string(text));
    case cep::OptKind::kInt: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size() || v < 0) {
        return bad("a non-negative integer");
      }
      return Value::Int(v);
    }
    case cep::OptKind::kDuration: {
      int64_t ms = 0;
      if (!ParseDuration(text, &ms)) return bad("a positive duration such as 10s");
      return Value::Int(ms);
    }
    case cep::OptKind::kBool:
      if (text == "true" || text.empty()) return Value::Bool(true);
      if (text == "false") return Value::Bool(false);
      return bad("true or false");
  }
  return bad("valid");
}

}  // namespace

namespace {

// Adds "KEY=VALUE&..." to spec->options, typed and checked against `kind`'s options; the
// options in `fixed` come from the URI itself and cannot be given in the query.
absl::Status ParseQuery(std::string_view uri, std::string_view query, std::string_view kind,
                        const std::vector<std::string_view>& fixed, cep::SourceSpec* spec) {
  const cep::ConnectorSpec* connector = cep::FindSourceKind(kind);
  auto is_fixed = [&](std::string_view key) {
    return std::find(fixed.begin(), fixed.end(), key) != fixed.end();
  };
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    std::string_view key = kv.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    const cep::OptionSpec* opt = connector != nullptr ? connector->Find(key) : nullptr;
    if (opt == nullptr || is_fixed(key)) {
      std::vector<std::string> names;
      if (connector != nullptr) {
        for (const cep::OptionSpec& o : connector->options) {
          if (!is_fixed(o.name)) names.emplace_back(o.name);
        }
      }
      return absl::InvalidArgumentError("'" + std::string(uri) + "': unknown option '" +
                                        std::string(key) + "' (options: " + Join(names) + ")");
    }
    for (const auto& [k, v] : spec->options) {
      if (k == key) {
        return absl::InvalidArgumentError("'" + std::string(uri) + "': option '" +
                                          std::string(key) + "' is given twice");
      }
    }
    auto v = TypedOption(*opt, value);
    if (!v.ok()) {
      return absl::InvalidArgumentError("'" + std::string(uri) + "': " +
                                        std::string(v.status().message()));
    }
    spec->options.emplace_back(std::string(key), std::move(v).value());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<cep::SourceSpec> ParseInputUri(std::string_view uri) {
  cep::SourceSpec spec;
  if (uri == "-") {
    spec.kind = "stdin";
    return spec;
  }
  constexpr std::string_view kFile = "file://";
  constexpr std::string_view kKafka = "kafka://";
  if (uri.substr(0, kKafka.size()) != kKafka) {
    std::string_view path = uri;
    std::string_view query;
    // Only a file:// URI has a query: a plain PATH may contain '?'.
    if (path.substr(0, kFile.size()) == kFile) {
      path.remove_prefix(kFile.size());
      if (size_t q = path.find('?'); q != std::string_view::npos) {
        query = path.substr(q + 1);
        path = path.substr(0, q);
      }
    }
    if (path.empty()) return absl::InvalidArgumentError("empty path");
    spec.kind = "file";
    spec.options.emplace_back("path", Value::String(std::string(path)));
    VIGIL_RETURN_IF_ERROR(ParseQuery(uri, query, "file", {"path"}, &spec));
    return spec;
  }
  std::string_view rest = uri.substr(kKafka.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError("'" + std::string(uri) +
                                      "': expected kafka://HOST:PORT/TOPIC[?OPTION=VALUE&...]");
  }
  spec.kind = "kafka";
  spec.options.emplace_back("brokers", Value::String(std::string(rest.substr(0, slash))));
  spec.options.emplace_back("topic", Value::String(std::string(rest.substr(slash + 1))));
  VIGIL_RETURN_IF_ERROR(ParseQuery(uri, query, "kafka", {"brokers", "topic"}, &spec));
  return spec;
}

}  // namespace vigil::engine
