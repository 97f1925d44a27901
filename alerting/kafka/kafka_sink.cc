#include "alerting/kafka/kafka_sink.h"

#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include "alerting/kafka/pending_records.h"
#include "core/value.h"

namespace vigil::alerting {

namespace kafka = engine::kafka;

KafkaSinkOptions KafkaSinkOptionsFrom(const cep::SinkDef& def) {
  cep::OptionReader r(def.options);
  KafkaSinkOptions o;
  o.client = kafka::ClientOptionsFrom(def.options);
  o.topic = r.String("topic");
  o.timeout = Duration(r.DurationMs("timeout", o.timeout.ms));
  return o;
}

std::string KafkaRecordKey(const engine::Record& r) {
  if (r.key.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : r.key) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(name, &out);
    out.push_back(':');
    value.AppendJson(&out);
  }
  out.push_back('}');
  return out;
}

KafkaSink::KafkaSink(KafkaSinkOptions options, engine::SinkContext ctx)
    : options_(std::move(options)),
      ctx_(std::move(ctx)),
      name_("kafka://" + options_.client.brokers + "/" + options_.topic) {}

KafkaSink::~KafkaSink() {
  stop_ = true;
  if (delivery_.joinable()) delivery_.join();
  // Before the members the callbacks touch go away.
  topic_.reset();
  rk_.reset();
}

absl::StatusOr<std::unique_ptr<KafkaSink>> KafkaSink::Open(KafkaSinkOptions options,
                                                           engine::SinkContext ctx) {
  if (options.topic.empty()) return absl::InvalidArgumentError("kafka sink: empty topic");
  if (options.client.brokers.empty()) {
    return absl::InvalidArgumentError("kafka sink: empty brokers");
  }
  if (options.max_pending == 0) options.max_pending = 1;
  std::unique_ptr<KafkaSink> sink(new KafkaSink(std::move(options), std::move(ctx)));
  absl::Status st = sink->Start();
  if (!st.ok()) {
    return absl::Status(st.code(), "kafka sink " + sink->name_ + ": " + std::string(st.message()));
  }
  return sink;
}

absl::Status KafkaSink::Start() {
  client_ctx_.log = [this](std::string_view line) { Log(line); };
  client_ctx_.owner = this;
  VIGIL_ASSIGN_OR_RETURN(kafka::ConfPtr conf, kafka::MakeConf(options_.client, &client_ctx_));
  // librdkafka's own count lags behind ours (a message leaves it after its delivery report
  // returns), so its limit leaves room: the sink's max_pending is the one that applies.
  const std::string pending = std::to_string(2 * options_.max_pending + 16);
  for (auto [key, value] : {
           std::pair<const char*, std::string>{"enable.idempotence", "true"},
           {"acks", "all"},
           {"message.timeout.ms", std::to_string(options_.timeout.ms)},
           {"linger.ms", "5"},
           {"partitioner", "murmur2_random"},
           {"queue.buffering.max.messages", pending},
       }) {
    VIGIL_RETURN_IF_ERROR(kafka::SetConf(conf.get(), key, value));
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaSink::OnDelivery);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaSink::OnError);
  VIGIL_ASSIGN_OR_RETURN(rk_, kafka::NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  topic_.reset(rd_kafka_topic_new(rk_.get(), options_.topic.c_str(), nullptr));
  if (topic_ == nullptr) {
    return absl::InvalidArgumentError("bad topic: " + kafka::ErrorText(rd_kafka_last_error()));
  }
  delivery_ = std::thread([this] { DeliveryLoop(); });
  return absl::OkStatus();
}

void KafkaSink::Log(std::string_view line) const {
  std::string text = "sink '" + ctx_.name + "' (" + name_ + "): " + std::string(line);
  if (ctx_.log) {
    ctx_.log(text);
  } else {
    text = "warning: " + text + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
}

void KafkaSink::DeliveryLoop() {
  // Delivery reports (and error callbacks) are served here, never on the job's thread.
  while (!stop_) rd_kafka_poll(rk_.get(), 100);
}

void KafkaSink::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaSink*>(static_cast<kafka::ClientContext*>(opaque)->owner);
  self->Delivered(reinterpret_cast<uintptr_t>(m->_private), m->err);
}

void KafkaSink::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSink*>(static_cast<kafka::ClientContext*>(opaque)->owner);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, why, sizeof why);
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->fatal_ = kafka::ErrorText(cause) + ": " + why;
    }
    self->room_.notify_all();
    self->Log(std::string("fatal producer error: ") + why);
    return;
  }
  // Broker connection trouble: librdkafka retries until the records' timeout. A transport
  // failure is already in librdkafka's log (kafka_client.cc).
  if (err == RD_KAFKA_RESP_ERR__TRANSPORT) return;
  self->Log(kafka::ErrorText(static_cast<rd_kafka_resp_err_t>(err)) + ": " + reason);
}

void KafkaSink::Delivered(uint64_t seq, rd_kafka_resp_err_t err) {
  engine::Record failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      sent_.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
      failed = std::move(it->second);
    }
    pending_.erase(it);
  }
  room_.notify_all();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) DeadLetter(failed, kafka::ErrorText(err));
}

void KafkaSink::DeadLetter(const engine::Record& r, std::string_view why) {
  dead_lettered_.fetch_add(1, std::memory_order_relaxed);
  if (ctx_.dead_letter) ctx_.dead_letter(r, name_ + ": " + std::string(why));
}

absl::Status KafkaSink::FatalStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (fatal_.empty()) return absl::OkStatus();
  return absl::InternalError("kafka sink " + name_ + ": " + fatal_);
}

absl::Status KafkaSink::Write(const engine::Record& r) {
  if (closed_) return absl::FailedPreconditionError("kafka sink " + name_ + ": closed");
  uint64_t seq = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (pending_.size() >= options_.max_pending) {
      overflowed_.fetch_add(1, std::memory_order_relaxed);
      room_.wait(lock, [&] { return pending_.size() < options_.max_pending || !fatal_.empty(); });
    }
    if (!fatal_.empty()) return absl::InternalError("kafka sink " + name_ + ": " + fatal_);
    seq = next_seq_++;
    pending_.emplace(seq, r);  // before producing: the report may come at once
  }
  const std::string key = KafkaRecordKey(r);
  const std::string value = engine::RecordToJson(r);
  const char* key_data = key.empty() ? nullptr : key.data();
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key_data, key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADER(kRecordIdHeader.data(), r.id.data(), static_cast<ssize_t>(r.id.size())),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(seq))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // librdkafka's byte limit (1 GiB): wait for deliveries (served by the delivery thread).
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    engine::Record refused;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(seq);
      if (it != pending_.end()) {
        refused = std::move(it->second);
        pending_.erase(it);
      }
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      VIGIL_RETURN_IF_ERROR(FatalStatus());
      return absl::InternalError("kafka sink " + name_ + ": fatal producer error");
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    DeadLetter(refused, kafka::ErrorText(err));
    return absl::OkStatus();
  }
}

absl::Status KafkaSink::Flush() { return FatalStatus(); }

absl::StatusOr<std::string> KafkaSink::SnapshotState(uint64_t checkpoint_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const engine::Record*> records;
  records.reserve(pending_.size());
  for (const auto& [seq, r] : pending_) records.push_back(&r);
  return EncodePendingRecords(records);
}

absl::Status KafkaSink::Restore(std::string_view state) {
  if (state.empty()) return absl::OkStatus();
  auto records = DecodePendingRecords(state);
  if (!records.ok()) {
    return absl::Status(records.status().code(),
                        "kafka sink " + name_ + ": " + std::string(records.status().message()));
  }
  if (!records->empty()) {
    Log("re-sending " + std::to_string(records->size()) +
        " records not acknowledged at the checkpoint");
  }
  for (const engine::Record& r : *records) VIGIL_RETURN_IF_ERROR(Write(r));
  return absl::OkStatus();
}

absl::Status KafkaSink::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  rd_kafka_flush(rk_.get(), static_cast<int>(options_.timeout.ms) + 1000);
  if (rd_kafka_outq_len(rk_.get()) > 0) {
    // Still not delivered: their reports (with a purge error) dead-letter them.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_.get(), 1000);
  }
  stop_ = true;
  if (delivery_.joinable()) delivery_.join();
  std::map<uint64_t, engine::Record> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(pending_);
  }
  for (const auto& [seq, r] : left) DeadLetter(r, "not delivered before the sink closed");
  return FatalStatus();
}

engine::SinkStats KafkaSink::stats() const {
  engine::SinkStats s;
  s.sent = sent_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.dead_lettered = dead_lettered_.load(std::memory_order_relaxed);
  s.overflowed = overflowed_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  s.queue_depth = pending_.size();
  return s;
}

absl::StatusOr<std::unique_ptr<engine::Sink>> MakeKafkaSink(const cep::SinkDef& def,
                                                            const engine::SinkContext& ctx) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<KafkaSink> sink,
                         KafkaSink::Open(KafkaSinkOptionsFrom(def), ctx));
  return std::unique_ptr<engine::Sink>(std::move(sink));
}

}  // namespace vigil::alerting
