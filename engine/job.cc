#include "engine/job.h"

#include <thread>

#include "engine/operator/key_group.h"
#include "engine/runtime/checkpoint_coordinator.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/decode_stage.h"
#include "engine/runtime/exchange.h"
#include "engine/runtime/failure.h"
#include "engine/runtime/worker.h"

namespace vigil::engine {

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
  for (const auto& r : rules) n += r.op.matches;
  return n;
}
uint64_t JobStats::timeouts() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.op.timeouts;
  return n;
}

// The units, in data-flow order. Construction wires them; Run starts the threads.
struct Job::Impl {
  JobOptions options;
  runtime::FailureLatch failure;
  std::unique_ptr<runtime::Topology> topology;
  std::unique_ptr<runtime::Exchange> exchange;
  std::unique_ptr<runtime::InputStage> input;
  std::unique_ptr<runtime::StreamRouter> router;
  std::unique_ptr<runtime::DecodeStage> decode;
  std::vector<std::unique_ptr<runtime::Worker>> workers;
  std::unique_ptr<runtime::OutputStage> output;
  std::unique_ptr<runtime::CheckpointCoordinator> coordinator;
  bool restored = false;
};

absl::StatusOr<std::unique_ptr<Job>> Job::Create(std::shared_ptr<const cep::RuleSet> rules,
                                                 JobOptions options, std::vector<JobInput> inputs,
                                                 JobOutputs outputs) {
  if (options.parallelism < 1 || options.parallelism > kMaxKeyGroups) {
    return absl::InvalidArgumentError("parallelism must be between 1 and " +
                                      std::to_string(kMaxKeyGroups));
  }
  if (!options.now_ms) options.now_ms = runtime::WallMs;
  for (const JobInput& in : inputs) {
    if (in.stream < 0 || in.stream >= static_cast<int>(rules->streams.size()) || !in.source) {
      return absl::InvalidArgumentError("input bound to no stream");
    }
  }
  if (outputs.default_output == nullptr || outputs.dead_letter == nullptr) {
    return absl::InvalidArgumentError("a job needs a default output and a dead-letter output");
  }
  outputs.sinks.resize(rules->sinks.size(), nullptr);
  outputs.sink_names.resize(rules->sinks.size());
  for (size_t i = 0; i < rules->sinks.size(); ++i) {
    if (outputs.sink_names[i].empty()) outputs.sink_names[i] = rules->sinks[i].name;
  }

  std::unique_ptr<Job> job(new Job());
  job->impl_ = std::make_unique<Impl>();
  Impl& im = *job->impl_;
  im.options = std::move(options);
  const JobOptions& o = im.options;
  const int p = o.parallelism;

  runtime::InputStage::Options in_opts;
  in_opts.chunk = o.chunk_lines == 0 ? 1 : o.chunk_lines;
  in_opts.now_ms = o.now_ms;
  in_opts.stop = o.stop;
  im.input = std::make_unique<runtime::InputStage>(std::move(inputs), std::move(in_opts));
  std::vector<int> partitions = im.input->PartitionsPerStream(rules->streams.size());
  std::vector<bool> has_input(partitions.size());
  for (size_t s = 0; s < partitions.size(); ++s) has_input[s] = partitions[s] > 0;

  im.topology = std::make_unique<runtime::Topology>(rules, p, has_input);
  im.exchange = std::make_unique<runtime::Exchange>(p, rules->streams.size(), o.batch_items,
                                                    o.queue_batches, &im.failure);
  runtime::InputStage* input = im.input.get();
  im.router = std::make_unique<runtime::StreamRouter>(
      im.topology.get(), im.exchange.get(), partitions, o.metrics,
      [input](int stream, int partition, uint64_t seq, runtime::DeadLetterItem* out) {
        input->DescribeOrigin(stream, partition, seq, out);
      });
  im.decode = std::make_unique<runtime::DecodeStage>(
      im.topology.get(), im.exchange.get(), im.router.get(), p > 1 && o.parallel_decode,
      o.decode_lines, &im.failure, o.now_ms);

  RuleOperatorOptions op_options;
  op_options.max_partial_matches = o.max_partial_matches;
  std::vector<runtime::Worker*> worker_ptrs;
  for (int w = 0; w < p; ++w) {
    auto worker = runtime::Worker::Create(w, im.topology.get(), im.exchange.get(), o.backend,
                                          op_options, o.metrics, &im.failure);
    if (!worker.ok()) {
      if (absl::IsUnimplemented(worker.status())) {
        return absl::FailedPreconditionError(worker.status().message());
      }
      return worker.status();
    }
    worker_ptrs.push_back(worker->get());
    im.workers.push_back(std::move(worker).value());
  }
  if (p == 1) {
    runtime::Worker* inline_worker = worker_ptrs[0];
    im.exchange->SetInlineHandler([inline_worker](runtime::WorkBatch& b) {
      bool ended = false;
      return inline_worker->Handle(b, &ended);
    });
  }

  runtime::CheckpointCoordinator* coordinator = nullptr;
  im.output = std::make_unique<runtime::OutputStage>(
      im.exchange.get(), std::move(outputs), o.metrics, &im.failure,
      [&im](const std::shared_ptr<const runtime::BarrierInfo>& info, absl::Status parts,
            std::vector<state::CheckpointMeta::SinkState> states) {
        return im.coordinator->OnAligned(info, parts, std::move(states));
      });
  runtime::CheckpointCoordinator::Options cp_opts;
  cp_opts.backend = o.backend;
  cp_opts.restore_backend = o.restore_backend;
  cp_opts.interval_ms = o.checkpoint_interval_ms;
  cp_opts.savepoint_dir = o.savepoint_dir;
  cp_opts.savepoint_request = o.savepoint_request;
  cp_opts.log = o.log;
  im.coordinator = std::make_unique<runtime::CheckpointCoordinator>(
      std::move(cp_opts),
      runtime::CheckpointCoordinator::Stages{im.topology.get(), im.exchange.get(), im.input.get(),
                                             im.router.get(), im.decode.get(), im.output.get(),
                                             worker_ptrs},
      o.metrics, &im.failure);
  coordinator = im.coordinator.get();
  im.input->Connect(im.router.get(), im.decode.get(), im.exchange.get(), &im.failure,
                    [coordinator](bool final) { return coordinator->MaybeCheckpoint(final); });
  runtime::Exchange* exchange = im.exchange.get();
  im.failure.OnFail([exchange] { exchange->Close(); });
  return job;
}

Job::~Job() = default;

absl::Status Job::Restore(const state::CheckpointMeta& meta) {
  impl_->restored = true;
  return impl_->coordinator->Restore(meta);
}

absl::Status Job::Run() {
  Impl& im = *impl_;
  runtime::Exchange& ex = *im.exchange;
  im.coordinator->Start(im.restored);
  if (!ex.inline_worker()) {
    for (auto& w : im.workers) w->Start();
  }
  std::thread output([&im] { im.output->Run(); });

  absl::Status st = im.input->Run();
  if (st.ok()) st = im.decode->Drain();
  if (st.ok()) st = ex.FlushAll();
  // End markers: every worker, then the router's lane.
  for (int w = 0; w < ex.parallelism() && st.ok(); ++w) {
    runtime::WorkItem it;
    it.kind = runtime::WorkItem::kEnd;
    st = ex.Deliver(w, runtime::WorkBatch(1, std::move(it)));
  }
  if (st.ok()) {
    runtime::OutBatch end;
    end.push_back(runtime::OutItem::End());
    if (!ex.out().Push(ex.router_lane(), std::move(end))) st = im.failure.ErrorOr("stopped");
  }
  if (!st.ok()) im.failure.Fail(st);
  for (auto& w : im.workers) w->Join();
  output.join();
  im.coordinator->Stop();
  if (im.failure.failed()) return im.failure.error();
  return absl::OkStatus();
}

JobStats Job::stats() const {
  const Impl& im = *impl_;
  JobStats st;
  for (const auto& s : im.router->streams()) {
    if (s) st.streams.push_back(s->stats);
  }
  const runtime::Topology& t = *im.topology;
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r)) continue;
    RuleStats rs;
    rs.name = t.rules().rules[r].name;
    for (const auto& w : im.workers) {
      OperatorStats o = w->stats(r);
      rs.op.events += o.events;
      rs.op.filtered += o.filtered;
      rs.op.matches += o.matches;
      rs.op.timeouts += o.timeouts;
      rs.op.live_keys += o.live_keys;
      rs.op.partial_matches += o.partial_matches;
      rs.op.dropped_partial_matches += o.dropped_partial_matches;
      rs.op.state_bytes += o.state_bytes;
    }
    st.rules.push_back(std::move(rs));
  }
  st.records = im.output->records();
  st.checkpoints = im.coordinator->checkpoints();
  st.checkpoint_failures = im.coordinator->failures();
  return st;
}

}  // namespace vigil::engine
