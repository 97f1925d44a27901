#include "engine/job.h"

#include <chrono>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/record_id.h"

namespace vigil::engine {

namespace {
constexpr int kPartitionShift = 48;
}  // namespace

uint64_t JobStats::events() const {
  uint64_t n = 0;
  for (const auto& s : streams) n += s.events;
  return n;
}
uint64_t JobStats::invalid() const {
  uint64_t n = 0;
  for (const auto& s : streams) n += s.invalid;
  return n;
}
uint64_t JobStats::late() const {
  uint64_t n = 0;
  for (const auto& s : streams) n += s.late;
  return n;
}
uint64_t JobStats::matches() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.cep.matches;
  return n;
}
uint64_t JobStats::timeouts() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.cep.timeouts;
  return n;
}

struct Job::StreamRuntime {
  const cep::StreamDef* def;
  EventDecoder decoder;
  WatermarkTracker tracker;
  ReorderBuffer buffer;
  std::vector<CepOperator*> operators;
  StreamStats stats;
  int64_t last_processing_time = EventTime::Min().ms;
  int partitions = 0;
  int ended = 0;

  StreamRuntime(const cep::StreamDef& d, uint32_t index, int parts)
      : def(&d),
        decoder(d, index),
        tracker(d.out_of_order, d.idle_after, parts),
        partitions(parts) {
    stats.name = d.name;
  }
  bool processing_time() const { return def->event_time_slot < 0; }
};

struct Job::InputRuntime {
  std::unique_ptr<JsonlSource> source;
  StreamRuntime* stream = nullptr;
  int partition = 0;
  bool ended = false;
};

absl::StatusOr<std::unique_ptr<Job>> Job::Create(std::shared_ptr<const cep::RuleSet> rules,
                                                 JobOptions options, std::vector<JobInput> inputs,
                                                 std::vector<Sink*> sinks, Sink* default_output,
                                                 DeadLetterWriter* dead_letter) {
  std::unique_ptr<Job> job(new Job());
  job->rules_ = rules;
  job->options_ = std::move(options);
  if (!job->options_.now_ms) {
    job->options_.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  job->sinks_ = std::move(sinks);
  job->sinks_.resize(rules->sinks.size(), nullptr);
  job->default_output_ = default_output;
  job->dead_letter_ = dead_letter;

  for (const cep::RuleDef& r : rules->rules) {
    if (r.window || r.when) {
      return absl::FailedPreconditionError(absl::StrCat(
          "rule '", r.name, "': monitoring rules (`window` / `when`) are not supported by ",
          "`vigil run` yet; only `pattern` rules can run"));
    }
  }

  std::vector<int> parts(rules->streams.size(), 0);
  for (const JobInput& in : inputs) {
    if (in.stream < 0 || in.stream >= static_cast<int>(rules->streams.size())) {
      return absl::InvalidArgumentError("input bound to no stream");
    }
    ++parts[in.stream];
  }
  job->streams_.resize(rules->streams.size());
  for (size_t s = 0; s < rules->streams.size(); ++s) {
    if (parts[s] == 0) continue;
    job->streams_[s] =
        std::make_unique<StreamRuntime>(rules->streams[s], static_cast<uint32_t>(s), parts[s]);
  }
  std::vector<int> next_part(rules->streams.size(), 0);
  for (JobInput& in : inputs) {
    auto rt = std::make_unique<InputRuntime>();
    rt->source = std::move(in.source);
    rt->stream = job->streams_[in.stream].get();
    rt->partition = next_part[in.stream]++;
    job->inputs_.push_back(std::move(rt));
  }

  CepOperatorOptions op_options;
  op_options.max_partial_matches = job->options_.max_partial_matches;
  for (size_t r = 0; r < rules->rules.size(); ++r) {
    StreamRuntime* s = job->streams_[rules->rules[r].stream].get();
    if (s == nullptr) continue;
    VIGIL_ASSIGN_OR_RETURN(auto op,
                           CepOperator::Create(rules, static_cast<int>(r), op_options, job.get()));
    s->operators.push_back(op.get());
    job->operators_.push_back(std::move(op));
  }
  return job;
}

Job::~Job() = default;

absl::Status Job::Route(const Record& r, const std::vector<int>& sinks) {
  if (sinks.empty()) {
    ++records_;
    return default_output_->Write(r);
  }
  for (int i : sinks) {
    Sink* sink = i >= 0 && i < static_cast<int>(sinks_.size()) ? sinks_[i] : nullptr;
    if (sink == nullptr) {
      return absl::InternalError(absl::StrCat("no sink instance for sink index ", i));
    }
    ++records_;
    VIGIL_RETURN_IF_ERROR(sink->Write(r));
  }
  return absl::OkStatus();
}

absl::Status Job::Release(StreamRuntime& s) {
  Watermark wm = s.tracker.current();
  while (EventPtr e = s.buffer.PopReady(wm)) {
    for (CepOperator* op : s.operators) VIGIL_RETURN_IF_ERROR(op->Process(e));
  }
  for (CepOperator* op : s.operators) VIGIL_RETURN_IF_ERROR(op->AdvanceWatermark(wm));
  return absl::OkStatus();
}

absl::Status Job::OnLate(StreamRuntime& s, const EventPtr& e) {
  ++s.stats.late;
  if (s.def->late_to.empty()) return dead_letter_->WriteLate(s.def->name, *e, s.tracker.current());
  Record r;
  r.kind = RecordKind::kLate;
  r.stream = s.def->name;
  r.time = e->time;
  r.events.emplace_back(s.def->name, std::vector<EventPtr>{e});
  r.id = StableRecordId(s.def->name, RecordKind::kLate, {}, {e->seq}, e->time);
  return Route(r, s.def->late_to);
}

absl::Status Job::OnLine(InputRuntime& in, const SourceLine& line) {
  StreamRuntime& s = *in.stream;
  auto event = std::make_shared<Event>();
  absl::Status st = s.decoder.Decode(line.text, line.line_number, /*padded=*/true, event.get());
  if (!st.ok()) {
    ++s.stats.invalid;
    return dead_letter_->WriteInvalid(s.def->name,
                                      std::string_view(st.message().data(), st.message().size()),
                                      line.line_number, line.text);
  }
  event->seq |= static_cast<uint64_t>(in.partition) << kPartitionShift;
  ++s.stats.events;
  if (s.processing_time()) {
    s.last_processing_time = std::max(s.last_processing_time, options_.now_ms());
    event->time = EventTime(s.last_processing_time);
    EventPtr e = std::move(event);
    for (CepOperator* op : s.operators) VIGIL_RETURN_IF_ERROR(op->Process(e));
    return absl::OkStatus();
  }
  if (s.tracker.IsLate(event->time)) return OnLate(s, event);
  EventTime t = event->time;
  s.buffer.Push(std::move(event));
  if (s.tracker.Observe(in.partition, t)) return Release(s);
  return absl::OkStatus();
}

absl::Status Job::ReadChunk(InputRuntime& in, bool* ended) {
  SourceLine line;
  for (size_t n = 0; n < options_.chunk_lines; ++n) {
    VIGIL_ASSIGN_OR_RETURN(bool more, in.source->Next(&line));
    if (!more) {
      *ended = true;
      return absl::OkStatus();
    }
    VIGIL_RETURN_IF_ERROR(OnLine(in, line));
  }
  *ended = false;
  return absl::OkStatus();
}

absl::Status Job::Run() {
  size_t remaining = inputs_.size();
  while (remaining > 0) {
    for (auto& in : inputs_) {
      if (in->ended) continue;
      bool ended = false;
      VIGIL_RETURN_IF_ERROR(ReadChunk(*in, &ended));
      if (!ended) continue;
      in->ended = true;
      --remaining;
      StreamRuntime& s = *in->stream;
      if (++s.ended == s.partitions) {
        // The stream's last input ended: watermark +infinity, flush everything.
        s.tracker.MarkEnded(in->partition);
        while (EventPtr e = s.buffer.PopReady(Watermark::Max())) {
          for (CepOperator* op : s.operators) VIGIL_RETURN_IF_ERROR(op->Process(e));
        }
        for (CepOperator* op : s.operators) {
          VIGIL_RETURN_IF_ERROR(op->AdvanceWatermark(Watermark::Max()));
        }
      } else if (s.tracker.MarkEnded(in->partition)) {
        VIGIL_RETURN_IF_ERROR(Release(s));
      }
    }
  }
  absl::flat_hash_set<Sink*> flushed;
  if (default_output_ != nullptr && flushed.insert(default_output_).second) {
    VIGIL_RETURN_IF_ERROR(default_output_->Flush());
  }
  for (Sink* sink : sinks_) {
    if (sink != nullptr && flushed.insert(sink).second) VIGIL_RETURN_IF_ERROR(sink->Flush());
  }
  return dead_letter_->Flush();
}

JobStats Job::stats() const {
  JobStats st;
  for (const auto& s : streams_) {
    if (s) st.streams.push_back(s->stats);
  }
  for (const auto& op : operators_) st.rules.push_back(RuleStats{op->rule().name, op->stats()});
  st.records = records_;
  return st;
}

}  // namespace vigil::engine
