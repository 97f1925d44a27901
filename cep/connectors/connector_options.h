#pragma once
// The connector catalogue: every source and sink kind the language accepts (language.md §2,
// §3) with its options, their types, defaults and allowed values. One table serves the
// binder (compile errors with a location for unknown kinds and options, wrong types,
// missing required options, values outside a choice) and the engine's and alerting's
// registries (typed access to the bound options, defaults applied). Adding a connector
// option means adding one row here and reading it in the connector.
//
// Pure data; no I/O. Thread-safe (immutable after static initialisation).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value.h"

namespace vigil::cep {

using Options = std::vector<std::pair<std::string, Value>>;  // literal options in source order

enum class OptKind : uint8_t {
  kString,
  kInt,       // non-negative integer
  kDuration,  // positive duration, stored as int milliseconds
  kBool,
};

struct OptionSpec {
  std::string_view name;
  OptKind kind;
  bool required = false;
  // Allowed values of a kString option; empty: any string.
  std::vector<std::string_view> choices = {};
  std::string_view doc = "";
};

struct ConnectorSpec {
  std::string_view kind;  // "file", "webhook", ...
  std::vector<OptionSpec> options;
  std::string_view doc = "";

  const OptionSpec* Find(std::string_view name) const;
};

// Sink kinds (`sink NAME KIND (...)`) and source kinds (`from KIND(...)`).
const std::vector<ConnectorSpec>& SinkKinds();
const std::vector<ConnectorSpec>& SourceKinds();
const ConnectorSpec* FindSinkKind(std::string_view kind);
const ConnectorSpec* FindSourceKind(std::string_view kind);

// Typed, read-only access to options bound by the binder (already validated against a
// ConnectorSpec): a missing optional option yields the caller's default.
class OptionReader {
 public:
  explicit OptionReader(const Options& options) : options_(&options) {}
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  std::string String(std::string_view name, std::string_view def = "") const;
  int64_t Int(std::string_view name, int64_t def = 0) const;
  int64_t DurationMs(std::string_view name, int64_t def_ms) const;
  bool Bool(std::string_view name, bool def = false) const;

 private:
  const Value* Find(std::string_view name) const;
  const Options* options_;
};

}  // namespace vigil::cep
