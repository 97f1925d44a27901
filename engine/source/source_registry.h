#pragma once
// Opens sources by kind (language.md §2 `from KIND(...)`, cli.md `--input STREAM=URI`).
// The engine registers `file` and `stdin`; other modules register their kinds from the
// composition root (src/), e.g. engine/kafka's RegisterKafkaSource(), so the engine core
// does not depend on their libraries.
//
// Thread-compatible: register everything before opening anything.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/source/source.h"

namespace vigil::engine {

// What a factory gets to open one source of a stream.
struct SourceParams {
  const cep::StreamDef* stream = nullptr;  // the stream it feeds (never null)
  cep::SourceSpec spec;                    // kind and validated options
  std::string base_dir;  // relative paths are relative to it (the rules file's directory)
  bool follow = false;   // `vigil run --follow`: files are followed like `tail -f`
  // `vigil run --watermark-lines`: every file and stdin source reads `{"$watermark": T}` lines
  // as explicit watermarks (as if given the option `watermarks true`).
  bool watermark_lines = false;
};

using SourceFactory =
    std::function<absl::StatusOr<std::unique_ptr<Source>>(const SourceParams& params)>;

class SourceRegistry {
 public:
  // A registry with the engine's own kinds: `file` (options path, watermarks) and `stdin`.
  SourceRegistry();

  // Adds or replaces the factory of `kind`. The kind's options must be in the connector
  // catalogue (cep/connectors/connector_options.h).
  void Register(std::string kind, SourceFactory factory);
  bool Has(const std::string& kind) const { return factories_.contains(kind); }

  // Opens a source. Errors: Unimplemented for a kind no factory is registered for (the
  // message lists the registered ones); the factory's errors otherwise.
  absl::StatusOr<std::unique_ptr<Source>> Open(const SourceParams& params) const;

 private:
  absl::flat_hash_map<std::string, SourceFactory> factories_;
};

// Parses the PATH/URI of `--input STREAM=URI` into a source spec, with the options typed and
// checked against the catalogue:
//   "-"                                   stdin
//   "PATH" or "file://PATH[?OPTION=VALUE&...]"
//                                         file (option path; after file:// also the other
//                                         options of the file kind: ?watermarks=true. A
//                                         plain PATH is taken as is, '?' included)
//   "kafka://HOST:PORT[,HOST:PORT]/TOPIC[?OPTION=VALUE&...]"
//                                         kafka (options brokers, topic, and any option of
//                                         the kafka kind, e.g. ?group=g&start=latest&bounded=true;
//                                         durations as in the language: 10s)
// Errors: InvalidArgument with a message saying what is wrong (unknown option, bad value).
absl::StatusOr<cep::SourceSpec> ParseInputUri(std::string_view uri);

}  // namespace vigil::engine
