#include "engine/job.h"

#include <future>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

#include "engine/operator/key_group.h"
#include "engine/runtime/checkpoint_coordinator.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/control_inbox.h"
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
  // The rules running now; replaced by a deploy once the new rules are in place.
  mutable std::mutex topology_mu;
  std::shared_ptr<const runtime::Topology> topology;
  std::mutex deploy_mu;  // one deploy at a time
  std::string default_output_kind;
  int64_t started_unix_ms = 0;
  std::unique_ptr<runtime::StatusBoard> board;
  runtime::ControlInbox inbox;
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

  im.topology = std::make_shared<const runtime::Topology>(rules, p, has_input);
  im.board = std::make_unique<runtime::StatusBoard>(p, rules->rules.size());
  im.default_output_kind = outputs.default_output_kind;
  im.exchange = std::make_unique<runtime::Exchange>(p, rules->streams.size(), o.batch_items,
                                                    o.queue_batches, &im.failure);
  runtime::InputStage* input = im.input.get();
  im.router = std::make_unique<runtime::StreamRouter>(
      im.topology, im.exchange.get(), partitions, o.metrics,
      [input](int stream, int partition, uint64_t seq, runtime::DeadLetterItem* out) {
        input->DescribeOrigin(stream, partition, seq, out);
      });
  im.decode = std::make_unique<runtime::DecodeStage>(
      im.exchange.get(), im.router.get(), p > 1 && o.parallel_decode, o.decode_lines,
      &im.failure, o.now_ms);

  RuleOperatorOptions op_options;
  op_options.max_partial_matches = o.max_partial_matches;
  std::vector<runtime::Worker*> worker_ptrs;
  for (int w = 0; w < p; ++w) {
    auto worker = runtime::Worker::Create(w, im.topology, im.exchange.get(), o.backend, op_options,
                                          o.metrics, im.board.get(), &im.failure);
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
      im.exchange.get(), std::move(outputs), o.metrics, im.board.get(), o.record_observer,
      &im.failure,
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
      runtime::CheckpointCoordinator::Stages{im.topology, im.exchange.get(), im.input.get(),
                                             im.router.get(), im.decode.get(), im.output.get(),
                                             worker_ptrs},
      o.metrics, im.board.get(), &im.failure);
  coordinator = im.coordinator.get();
  runtime::ControlInbox* inbox = &im.inbox;
  im.input->Connect(im.router.get(), im.decode.get(), im.exchange.get(), &im.failure,
                    im.board.get(), [coordinator, inbox](bool final) -> absl::Status {
                      // Deploys and key queries first, in order with the data read so far.
                      VIGIL_RETURN_IF_ERROR(inbox->RunPending());
                      return coordinator->MaybeCheckpoint(final);
                    });
  // Scale-out: workers hand their snapshots' changes to the changelog of each stream's source.
  std::vector<PartitionStateSink*> changelogs = im.input->ChangelogsByStream(rules->streams.size());
  for (auto& w : im.workers) w->SetChangelogs(changelogs);
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
  im.started_unix_ms = runtime::WallMs();
  im.coordinator->Start(im.restored);
  if (!ex.inline_worker()) {
    for (auto& w : im.workers) w->Start();
  }
  std::thread output([&im] { im.output->Run(); });

  absl::Status st = im.input->Run();
  // No deploy or query can be served once the inputs are done.
  im.inbox.Close(absl::UnavailableError("the job is ending"));
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
  if (!st.ok()) {
    im.inbox.Close(absl::UnavailableError("the job failed"));
    im.failure.Fail(st);
  }
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
  const runtime::Topology& t = *im.topology;  // (Run has returned: no deploy runs now)
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r) || !im.workers[0]->runs(r)) continue;
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

// ---- Live operation ----

namespace {

bool SameSchema(const Schema& a, const Schema& b) {
  if (a.fields().size() != b.fields().size()) return false;
  for (size_t i = 0; i < a.fields().size(); ++i) {
    const FieldDef& x = a.fields()[i];
    const FieldDef& y = b.fields()[i];
    if (x.name != y.name || x.type != y.type || x.path != y.path) return false;
  }
  return true;
}

// Streams are the job's data contract: a deploy may change rules and sinks, not streams.
absl::Status CheckSameStreams(const cep::RuleSet& cur, const cep::RuleSet& next) {
  auto sink_names = [](const cep::RuleSet& rs, const std::vector<int>& idx) {
    std::vector<std::string> out;
    for (int i : idx) out.push_back(rs.sinks[i].name);
    return out;
  };
  if (cur.streams.size() != next.streams.size()) {
    return absl::FailedPreconditionError(
        "the new rules declare " + std::to_string(next.streams.size()) + " streams, the job runs " +
        std::to_string(cur.streams.size()) + ": streams cannot change without a restart");
  }
  for (size_t i = 0; i < cur.streams.size(); ++i) {
    const cep::StreamDef& a = cur.streams[i];
    const cep::StreamDef& b = next.streams[i];
    bool same = a.name == b.name && SameSchema(a.schema, b.schema) &&
                a.event_time_slot == b.event_time_slot && a.out_of_order == b.out_of_order &&
                a.idle_after == b.idle_after &&
                sink_names(cur, a.late_to) == sink_names(next, b.late_to);
    if (!same) {
      return absl::FailedPreconditionError("stream '" + b.name +
                                           "' differs from the running job's stream '" + a.name +
                                           "': streams cannot change without a restart");
    }
  }
  return absl::OkStatus();
}

bool SameSink(const cep::SinkDef& a, const cep::SinkDef& b) {
  return a.name == b.name && a.kind == b.kind && a.options == b.options;
}

// Which sinks of `rules` the running rules (and late records of streams with inputs) use.
std::vector<bool> NeededSinks(const runtime::Topology& t) {
  const cep::RuleSet& rules = t.rules();
  std::vector<bool> needed(rules.sinks.size(), false);
  for (size_t r = 0; r < t.rule_count(); ++r) {
    if (!t.runs(r)) continue;
    const cep::RuleDef& rule = rules.rules[r];
    for (int i : rule.to) needed[i] = true;
    if (rule.on_timeout) {
      for (int i : rule.timeout_to) needed[i] = true;
    }
  }
  for (size_t s = 0; s < rules.streams.size(); ++s) {
    if (!t.has_input(static_cast<int>(s))) continue;
    for (int i : rules.streams[s].late_to) needed[i] = true;
  }
  return needed;
}

class DiscardRecords final : public RecordRouter {
 public:
  absl::Status Route(const Record&, const std::vector<int>&) override { return absl::OkStatus(); }
};

}  // namespace

std::shared_ptr<const cep::RuleSet> Job::rules() const {
  std::lock_guard<std::mutex> lock(impl_->topology_mu);
  return impl_->topology->rules_ptr();
}

JobSnapshot Job::Status() const {
  const Impl& im = *impl_;
  JobSnapshot snap;
  snap.started_unix_ms = im.started_unix_ms;
  snap.parallelism = im.options.parallelism;
  snap.streams = im.board->streams();
  snap.checkpoint = im.board->checkpoint();
  std::shared_ptr<const runtime::Topology> t;
  {
    std::lock_guard<std::mutex> lock(im.topology_mu);
    t = im.topology;
  }
  std::vector<OperatorStats> ops = im.board->rules();
  for (size_t r = 0; r < t->rule_count(); ++r) {
    if (!t->runs(r)) continue;
    RuleSnapshot rs;
    rs.name = t->rules().rules[r].name;
    rs.stream = t->rules().streams[t->rules().rules[r].stream].name;
    if (r < ops.size()) rs.op = ops[r];
    snap.rules.push_back(std::move(rs));
  }
  for (const auto& [name, sink] : im.output->sinks()) {
    JobSnapshot::SinkInfo info;
    info.name = name;
    int i = t->rules().FindSink(name);
    info.kind = i >= 0 ? t->rules().sinks[i].kind : im.default_output_kind;
    info.stats = sink->stats();
    snap.sinks.push_back(std::move(info));
  }
  return snap;
}

std::pair<std::vector<FiringSnapshot>, uint64_t> Job::Firing(size_t limit) const {
  return impl_->board->Firing(limit);
}

int64_t Job::FiringCount(const std::string& rule) const { return impl_->board->FiringOf(rule); }

absl::StatusOr<DeployOutcome> Job::Deploy(std::shared_ptr<const cep::RuleSet> rules,
                                          std::vector<std::pair<std::string, std::string>> files,
                                          int64_t timeout_ms) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> deploy_lock(im.deploy_mu);
  std::shared_ptr<const runtime::Topology> cur;
  {
    std::lock_guard<std::mutex> lock(im.topology_mu);
    cur = im.topology;
  }
  const cep::RuleSet& old_rules = cur->rules();
  VIGIL_RETURN_IF_ERROR(CheckSameStreams(old_rules, *rules));
  std::vector<bool> has_input(rules->streams.size());
  for (size_t s = 0; s < has_input.size(); ++s) has_input[s] = cur->has_input(static_cast<int>(s));
  auto next = std::make_shared<const runtime::Topology>(rules, cur->parallelism(), has_input,
                                                        cur->version() + 1);

  // What changes, by rule name and state id.
  DeployOutcome out;
  auto rc = std::make_shared<runtime::Reconfiguration>();
  rc->topology = next;
  rc->files = std::move(files);
  absl::flat_hash_map<std::string, uint32_t> old_ids;
  absl::flat_hash_set<uint32_t> new_ids;
  for (size_t r = 0; r < cur->rule_count(); ++r) {
    if (cur->runs(r)) old_ids[old_rules.rules[r].name] = cur->op_id(r);
  }
  RuleOperatorOptions op_options;
  op_options.max_partial_matches = im.options.max_partial_matches;
  DiscardRecords discard;
  for (size_t r = 0; r < next->rule_count(); ++r) {
    const std::string& name = rules->rules[r].name;
    if (!next->runs(r)) {
      out.not_run.push_back(name);
      continue;
    }
    new_ids.insert(next->op_id(r));
    auto it = old_ids.find(name);
    if (it != old_ids.end() && it->second == next->op_id(r)) {
      out.unchanged.push_back(name);
      continue;
    }
    (it == old_ids.end() ? out.added : out.changed).push_back(name);
    // Refuse a rule that cannot run before anything changes.
    auto probe = MakeRuleOperator(rules, static_cast<int>(r), op_options, &discard);
    if (!probe.ok()) {
      return absl::InvalidArgumentError("rule '" + name + "': " +
                                        std::string(probe.status().message()));
    }
  }
  for (const auto& [name, id] : old_ids) {
    bool still = false;
    for (const cep::RuleDef& r : rules->rules) still = still || r.name == name;
    if (!still) {
      out.removed.push_back(name);
      rc->removed_rules.push_back(name);
    }
    if (!new_ids.contains(id)) rc->dropped_op_ids.push_back(id);
  }
  for (const std::string& name : out.changed) rc->removed_rules.push_back(name);

  // Sinks: the ones that stay (same declaration) keep their instance; new ones are opened.
  std::vector<std::pair<std::string, Sink*>> open_now = im.output->sinks();
  auto find_open = [&](const std::string& name) -> Sink* {
    for (const auto& [n, s] : open_now) {
      if (n == name) return s;
    }
    return nullptr;
  };
  std::vector<bool> needed = NeededSinks(*next);
  absl::flat_hash_set<Sink*> kept;
  rc->sinks.assign(rules->sinks.size(), nullptr);
  rc->flush_when_idle.assign(rules->sinks.size(), true);
  for (size_t i = 0; i < rules->sinks.size(); ++i) {
    const cep::SinkDef& def = rules->sinks[i];
    rc->sink_names.push_back(def.name);
    if (!needed[i]) continue;
    int old = old_rules.FindSink(def.name);
    Sink* existing = old >= 0 && SameSink(old_rules.sinks[old], def) ? find_open(def.name) : nullptr;
    if (existing != nullptr) {
      rc->sinks[i] = existing;
      kept.insert(existing);
      continue;
    }
    if (!im.options.open_sink) {
      return absl::FailedPreconditionError("sink '" + def.name +
                                           "' is new: this job cannot open sinks");
    }
    auto opened = im.options.open_sink(def);
    if (!opened.ok()) {
      return absl::FailedPreconditionError("sink '" + def.name +
                                           "': " + std::string(opened.status().message()));
    }
    rc->sinks[i] = opened->sink;
    rc->flush_when_idle[i] = opened->flush_when_idle;
  }
  for (const auto& [name, s] : open_now) {
    if (name != "output" && !kept.contains(s)) rc->closed_sinks.push_back(s);
  }

  // Hand it to the router; wait until the output stage has the new rules in place.
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool injected = false, cancelled = false, done = false;
    uint64_t barrier = 0;
    absl::Status error;
  };
  auto w = std::make_shared<Waiter>();
  rc->done = [w](uint64_t barrier) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->done = true;
      w->barrier = barrier;
    }
    w->cv.notify_all();
  };
  runtime::CheckpointCoordinator* coordinator = im.coordinator.get();
  std::shared_ptr<const runtime::Reconfiguration> shared_rc = rc;
  runtime::ControlInbox::Task task;
  task.run = [w, coordinator, shared_rc]() -> absl::Status {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      if (w->cancelled) return absl::OkStatus();  // the caller gave up: change nothing
      w->injected = true;
    }
    return coordinator->InjectReconfiguration(shared_rc);
  };
  task.cancel = [w](absl::Status why) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->error = why;
    }
    w->cv.notify_all();
  };
  if (!im.inbox.Post(std::move(task))) return absl::UnavailableError("the job is ending");
  std::unique_lock<std::mutex> lock(w->mu);
  bool injected = w->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return w->injected || !w->error.ok() || im.failure.failed();
  });
  if (!injected) {
    w->cancelled = true;
    return absl::DeadlineExceededError("the job did not take the deploy in time; nothing changed");
  }
  if (!w->error.ok()) return w->error;
  // Cut: the switch happens once the barrier is aligned (bounded by the queued work).
  w->cv.wait(lock, [&] { return w->done || im.failure.failed(); });
  if (!w->done) return im.failure.ErrorOr("the job stopped");
  out.barrier_id = w->barrier;
  {
    std::lock_guard<std::mutex> tl(im.topology_mu);
    im.topology = next;
  }
  return out;
}

absl::StatusOr<std::optional<KeyInspection>> Job::Inspect(const std::string& rule,
                                                          const std::vector<Value>& key,
                                                          int64_t timeout_ms) {
  Impl& im = *impl_;
  std::shared_ptr<const runtime::Topology> t;
  {
    std::lock_guard<std::mutex> lock(im.topology_mu);
    t = im.topology;
  }
  int r = -1;
  for (size_t i = 0; i < t->rule_count(); ++i) {
    if (t->rules().rules[i].name == rule && t->runs(i)) r = static_cast<int>(i);
  }
  if (r < 0) return absl::InvalidArgumentError("no running rule '" + rule + "'");
  const cep::RuleDef& def = t->rules().rules[r];
  if (key.size() != def.partition_slots.size()) {
    return absl::InvalidArgumentError("rule '" + rule + "' is partitioned by " +
                                      std::to_string(def.partition_slots.size()) +
                                      " fields, the key gives " + std::to_string(key.size()));
  }
  const int worker = WorkerOfKeyGroup(KeyGroupOfValues(key), t->parallelism());
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<KeyInspection> answer;
    absl::Status error;
  };
  auto w = std::make_shared<Waiter>();
  auto req = std::make_shared<runtime::InspectRequest>();
  req->rule = r;
  req->key = key;
  req->reply = [w](std::optional<KeyInspection> a) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->answer = std::move(a);
      w->done = true;
    }
    w->cv.notify_all();
  };
  runtime::Exchange* ex = im.exchange.get();
  runtime::ControlInbox::Task task;
  task.run = [ex, worker, req]() -> absl::Status {
    runtime::WorkItem it;
    it.kind = runtime::WorkItem::kInspect;
    it.inspect = req;
    VIGIL_RETURN_IF_ERROR(ex->PushWork(worker, std::move(it)));
    return ex->FlushWorker(worker);
  };
  task.cancel = [w](absl::Status why) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->error = why;
    }
    w->cv.notify_all();
  };
  if (!im.inbox.Post(std::move(task))) return absl::UnavailableError("the job is ending");
  std::unique_lock<std::mutex> lock(w->mu);
  if (!w->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return w->done || !w->error.ok(); })) {
    return absl::DeadlineExceededError("the worker owning the key did not answer in time");
  }
  if (!w->error.ok()) return w->error;
  return w->answer;
}

absl::StatusOr<std::string> Job::Savepoint(int64_t timeout_ms) {
  Impl& im = *impl_;
  if (!im.coordinator->enabled() || im.options.savepoint_dir.empty() ||
      im.options.savepoint_request == nullptr) {
    return absl::FailedPreconditionError("savepoints need a state directory (--state)");
  }
  uint64_t before = im.coordinator->last_savepoint_id();
  im.options.savepoint_request->store(true);
  return im.coordinator->AwaitSavepoint(before, timeout_ms);
}

}  // namespace vigil::engine
