#pragma once
// A single-threaded job over bounded inputs (the embedded `vigil run`):
//   sources -> decoder -> lateness check -> reorder buffer -> rule operators -> sinks
// Each stream is its own watermark domain; each input bound to a stream is one source
// partition of it (so `--input s=a --input s=b` reads two partitions whose watermark is the
// minimum of both). Inputs are read round-robin in chunks of lines. Invalid events go to the
// dead-letter output; late events to the stream's `late to` sinks as records of kind `late`,
// or to the dead-letter output. When every input has ended the watermark becomes +infinity:
// everything buffered is processed, every `within` window closes, and Run() returns.
//
// Processing-time streams (no `event time`) stamp each event with the wall clock when it is
// read (never going backwards) and process it at once: they have no late events.
//
// The later streaming-engine issue splits this per worker and key group; the seams are the
// per-stream StreamRuntime (decoder, watermark tracker, reorder buffer) and the per-rule
// CepOperator with per-key state.
//
// Thread-compatible.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/decode/event_decoder.h"
#include "engine/io/dead_letter.h"
#include "engine/operator/cep_operator.h"
#include "engine/operator/record_router.h"
#include "engine/operator/reorder_buffer.h"
#include "engine/record.h"
#include "engine/source/jsonl_source.h"
#include "engine/time/watermark.h"

namespace vigil::engine {

struct JobInput {
  int stream = -1;  // index in the rule set
  std::unique_ptr<JsonlSource> source;
};

struct JobOptions {
  size_t max_partial_matches = 0;  // per rule and key; 0 = unlimited
  size_t chunk_lines = 4096;       // lines read from one input before moving to the next
  // Wall clock in ms for processing-time streams (tests inject a fake).
  std::function<int64_t()> now_ms;
};

struct StreamStats {
  std::string name;
  uint64_t events = 0;   // valid events
  uint64_t invalid = 0;  // to the dead-letter output
  uint64_t late = 0;
};

struct RuleStats {
  std::string name;
  CepOperatorStats cep;
};

struct JobStats {
  std::vector<StreamStats> streams;  // by stream index
  std::vector<RuleStats> rules;      // instantiated rules, in rule-set order
  uint64_t records = 0;              // written to sinks (each destination counts)
  uint64_t events() const;
  uint64_t invalid() const;
  uint64_t late() const;
  uint64_t matches() const;
  uint64_t timeouts() const;
};

class Job : public RecordRouter {
 public:
  // `sinks[i]` serves the rule set's sink i (null if never referenced); `default_output`
  // serves rules without `to`. Sinks and the dead-letter writer are not owned and must
  // outlive the job. Rules whose stream has no input are not run (the caller decides whether
  // that is an error). Errors: FailedPrecondition for rules the engine cannot run yet
  // (`window`, `when`); InvalidArgument if the NFA compiler rejects a pattern or an input
  // names no stream.
  static absl::StatusOr<std::unique_ptr<Job>> Create(std::shared_ptr<const cep::RuleSet> rules,
                                                     JobOptions options,
                                                     std::vector<JobInput> inputs,
                                                     std::vector<Sink*> sinks, Sink* default_output,
                                                     DeadLetterWriter* dead_letter);
  ~Job() override;

  // Reads every input to its end, then flushes the pipeline and every sink.
  // Errors: an input's read error, a sink's write error.
  absl::Status Run();

  JobStats stats() const;

  // RecordRouter.
  absl::Status Route(const Record& r, const std::vector<int>& sinks) override;

 private:
  struct StreamRuntime;
  struct InputRuntime;
  Job() = default;

  absl::Status ReadChunk(InputRuntime& in, bool* ended);
  absl::Status OnLine(InputRuntime& in, const SourceLine& line);
  absl::Status OnLate(StreamRuntime& s, const EventPtr& e);
  absl::Status Release(StreamRuntime& s);

  std::shared_ptr<const cep::RuleSet> rules_;
  JobOptions options_;
  std::vector<std::unique_ptr<StreamRuntime>> streams_;  // by stream index
  std::vector<std::unique_ptr<InputRuntime>> inputs_;
  std::vector<std::unique_ptr<CepOperator>> operators_;
  std::vector<Sink*> sinks_;
  Sink* default_output_ = nullptr;
  DeadLetterWriter* dead_letter_ = nullptr;
  uint64_t records_ = 0;
};

}  // namespace vigil::engine
