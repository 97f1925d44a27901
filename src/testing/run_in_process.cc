#include "src/testing/run_in_process.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/io/dead_letter.h"
#include "engine/job.h"
#include "engine/record.h"
#include "engine/sink/sink.h"
#include "engine/source/file_source.h"
#include "engine/source/jsonl_source.h"

namespace vigil::ruletest {

namespace {

// Every sink of the rule set and the default output append to one list, so the records keep
// the job's write order. The job writes a record to each of its destinations in turn: a write
// of the record just captured, to a destination it has not reached yet, is that same record.
class CaptureSink : public engine::Sink {
 public:
  CaptureSink(std::string name, std::vector<CapturedRecord>* out)
      : name_(std::move(name)), out_(out) {}

  absl::Status Write(const engine::Record& r) override {
    std::string json = engine::RecordToJson(r);
    if (!out_->empty() && out_->back().json == json) {
      std::vector<std::string>& dest = out_->back().destinations;
      bool seen = false;
      for (const std::string& d : dest) seen = seen || d == name_;
      if (!seen) {
        dest.push_back(name_);
        return absl::OkStatus();
      }
    }
    out_->push_back(CapturedRecord{std::move(json), {name_}});
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> SnapshotState(uint64_t) override { return std::string(); }
  absl::Status Restore(std::string_view) override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  engine::SinkStats stats() const override { return {}; }

 private:
  std::string name_;
  std::vector<CapturedRecord>* out_;
};

// An anonymous in-memory file holding `text`, positioned at its start: a regular file to the
// job, so the input is bounded and deterministic like a file given to `vigil run`.
absl::StatusOr<std::unique_ptr<engine::Source>> MemorySource(const std::string& name,
                                                                  const std::string& text) {
  int fd = ::memfd_create("vigil-test-input", MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("memfd_create: ", std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("staging input: ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("staging input: ", std::strerror(err)));
  }
  return std::make_unique<engine::FileSource>(
      std::make_unique<engine::JsonlSource>(fd, name, /*own=*/true));
}

}  // namespace

absl::StatusOr<InProcessRun> RunRulesOnEvents(std::shared_ptr<const cep::RuleSet> rules,
                                              const std::vector<StreamInput>& inputs) {
  InProcessRun run;
  std::vector<std::unique_ptr<CaptureSink>> owned;
  std::vector<engine::Sink*> sinks;
  std::vector<std::string> sink_names;
  for (const cep::SinkDef& def : rules->sinks) {
    owned.push_back(std::make_unique<CaptureSink>(def.name, &run.records));
    sinks.push_back(owned.back().get());
    sink_names.push_back(def.name);
  }
  CaptureSink default_output("default", &run.records);
  std::string dead_text;
  engine::DeadLetterWriter dead_letter(&dead_text);

  std::vector<engine::JobInput> job_inputs;
  for (const StreamInput& in : inputs) {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<engine::Source> source,
                           MemorySource(rules->streams.at(in.stream).name, in.jsonl));
    job_inputs.push_back(engine::JobInput{in.stream, std::move(source), {}});
  }

  engine::JobOptions options;
  options.parallelism = 1;
  options.now_ms = [] { return int64_t{0}; };  // no wall clock: a test is reproducible
  options.log = [&run](std::string_view msg) { run.log.append(msg).append("\n"); };
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<engine::Job> job,
                         engine::Job::Create(rules, std::move(options), std::move(job_inputs),
                                             engine::JobOutputs{sinks, sink_names, &default_output,
                                                                {}, true, &dead_letter}));
  VIGIL_RETURN_IF_ERROR(job->Run());
  VIGIL_RETURN_IF_ERROR(dead_letter.Flush());

  size_t start = 0;
  while (start < dead_text.size()) {
    size_t end = dead_text.find('\n', start);
    if (end == std::string::npos) end = dead_text.size();
    if (end > start) run.dead_letters.push_back(dead_text.substr(start, end - start));
    start = end + 1;
  }
  return run;
}

}  // namespace vigil::ruletest
