#include "engine/kafka/kafka_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "engine/kafka/kafka_position.h"

namespace vigil::engine {

namespace {

using Clock = std::chrono::steady_clock;

// A batch never holds more records than this, whatever the caller asks for.
constexpr size_t kMaxBatch = 1 << 16;

// Errors after which reading cannot go on (the topic is gone or forbidden, the credentials
// are wrong); every other error event is transient and librdkafka retries by itself. (Group
// authorization is not needed: partitions are assigned, no offset is committed.)
bool IsPermanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

KafkaSource::KafkaSource(KafkaSourceOptions options)
    : options_(std::move(options)),
      name_("kafka://" + options_.client.brokers + "/" + options_.topic) {}

KafkaSource::~KafkaSource() {
  if (queue_ != nullptr) {
    rd_kafka_queue_io_event_enable(queue_.get(), -1, nullptr, 0);
    queue_.reset();
  }
  if (rk_ != nullptr) {
    rd_kafka_consumer_close(rk_.get());
    rk_.reset();
  }
  if (wake_read_ >= 0) close(wake_read_);
  if (wake_write_ >= 0) close(wake_write_);
}

std::string KafkaSource::Describe() const { return "kafka source " + name_; }

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Open(KafkaSourceOptions options) {
  if (options.topic.empty()) return absl::InvalidArgumentError("kafka source: empty topic");
  if (options.client.brokers.empty()) {
    return absl::InvalidArgumentError("kafka source: empty brokers");
  }
  std::unique_ptr<KafkaSource> s(new KafkaSource(std::move(options)));
  VIGIL_RETURN_IF_ERROR(s->Connect());
  VIGIL_RETURN_IF_ERROR(s->ReadPartitions());

  const int n = s->partitions();
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> high, s->ListOffsets(RD_KAFKA_OFFSET_END));
  s->end_ = high;
  switch (s->options_.start.kind) {
    case KafkaStart::Kind::kEarliest: {
      VIGIL_ASSIGN_OR_RETURN(s->next_, s->ListOffsets(RD_KAFKA_OFFSET_BEGINNING));
      break;
    }
    case KafkaStart::Kind::kLatest:
      s->next_ = high;
      break;
    case KafkaStart::Kind::kTime: {
      VIGIL_ASSIGN_OR_RETURN(s->next_, s->ListOffsets(s->options_.start.time.ms));
      // No record at or after the time: start at the end (only newer records).
      for (int p = 0; p < n; ++p) {
        if (s->next_[p] < 0) s->next_[p] = high[p];
      }
      break;
    }
  }
  s->at_eof_.assign(n, 0);
  return s;
}

absl::Status KafkaSource::Connect() {
  ctx_.log = options_.log;
  if (!ctx_.log) {
    std::string prefix = "warning: " + Describe() + ": ";
    ctx_.log = [prefix](std::string_view line) {
      std::string text = prefix + std::string(line) + "\n";
      std::fwrite(text.data(), 1, text.size(), stderr);
    };
  }
  auto fail = [&](const absl::Status& st) {
    return absl::Status(st.code(), Describe() + ": " + std::string(st.message()));
  };
  auto conf = kafka::MakeConf(options_.client, &ctx_);
  if (!conf.ok()) return fail(conf.status());
  rd_kafka_conf_t* c = conf->get();
  for (auto [key, value] : {
           std::pair<const char*, std::string>{"group.id",
                                               options_.group.empty() ? "vigil" : options_.group},
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"enable.partition.eof", "true"},
           {"auto.offset.reset", "earliest"},
       }) {
    absl::Status st = kafka::SetConf(c, key, value);
    if (!st.ok()) return fail(st);
  }
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return fail(rk.status());
  rk_ = std::move(*rk);
  // Everything the client reports (records, errors, partition ends) comes through one queue.
  rd_kafka_poll_set_consumer(rk_.get());
  queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  if (queue_ == nullptr) return absl::InternalError(Describe() + ": no consumer queue");
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return absl::InternalError(Describe() + ": pipe: " + std::strerror(errno));
  }
  wake_read_ = fds[0];
  wake_write_ = fds[1];
  rd_kafka_queue_io_event_enable(queue_.get(), wake_write_, "1", 1);
  return absl::OkStatus();
}

absl::Status KafkaSource::ReadPartitions() {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.open_timeout.ms);
  std::string last_error = "no answer";
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    // The metadata of all topics: asking for one topic may create it (brokers with
    // auto.create.topics.enable before 0.11, and the mock cluster, ignore the client's
    // allow.auto.create.topics), and a source must not create the topic it reads.
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, static_cast<int>(left.count()));
    kafka::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = kafka::ErrorText(err);
      continue;  // rd_kafka_metadata waited; try again while time is left
    }
    const rd_kafka_metadata_topic_t* t = nullptr;
    for (int i = 0; i < md->topic_cnt && t == nullptr; ++i) {
      if (options_.topic == md->topics[i].topic) t = &md->topics[i];
    }
    if (t == nullptr || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return absl::NotFoundError(Describe() + ": topic '" + options_.topic +
                                 "' does not exist on brokers " + options_.client.brokers +
                                 " (or this client may not see it)");
    }
    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = kafka::ErrorText(t->err);
      if (IsPermanent(t->err)) {
        return absl::UnavailableError(Describe() + ": topic '" + options_.topic +
                                      "': " + last_error);
      }
    } else if (t->partition_cnt <= 0) {
      last_error = "the topic has no partitions yet";
    } else {
      next_.assign(t->partition_cnt, 0);
      end_.assign(t->partition_cnt, 0);
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError(Describe() + ": no metadata for topic '" + options_.topic +
                                "' from brokers " + options_.client.brokers + " within " +
                                FormatDuration(options_.open_timeout) + ": " + last_error);
}

absl::StatusOr<std::vector<int64_t>> KafkaSource::ListOffsets(int64_t timestamp) const {
  const int n = partitions();
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(n));
  for (int p = 0; p < n; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset = timestamp;
  }
  const char* what = timestamp == RD_KAFKA_OFFSET_END         ? "end offsets"
                     : timestamp == RD_KAFKA_OFFSET_BEGINNING ? "start offsets"
                                                              : "offsets for the start time";
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(rk_.get(), list.get(), static_cast<int>(options_.open_timeout.ms));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(Describe() + ": cannot list " + what + " within " +
                                  FormatDuration(options_.open_timeout) + ": " +
                                  kafka::ErrorText(err));
  }
  std::vector<int64_t> offsets(n, -1);
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(Describe() + ": cannot list " + what + " of partition " +
                                    std::to_string(tp.partition) + ": " + kafka::ErrorText(tp.err));
    }
    if (tp.partition >= 0 && tp.partition < n) offsets[tp.partition] = tp.offset;
  }
  return offsets;
}

std::string KafkaSource::Position() const {
  return EncodeKafkaPosition(KafkaPosition{options_.topic, next_});
}

absl::Status KafkaSource::Seek(std::string_view position) {
  if (assigned_) {
    return absl::FailedPreconditionError(Describe() + ": Seek after the first Poll");
  }
  auto pos = DecodeKafkaPosition(position);
  if (!pos.ok()) {
    return absl::Status(pos.status().code(),
                        Describe() + ": " + std::string(pos.status().message()));
  }
  if (pos->topic != options_.topic) {
    return absl::InvalidArgumentError(Describe() + ": the checkpoint's position is for topic '" +
                                      pos->topic + "'");
  }
  const int n = partitions();
  const int saved = static_cast<int>(pos->next_offsets.size());
  if (saved > n) {
    return absl::InvalidArgumentError(Describe() + ": the checkpoint has " + std::to_string(saved) +
                                      " partitions, the topic " + std::to_string(n));
  }
  if (saved < n) {
    VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> low, ListOffsets(RD_KAFKA_OFFSET_BEGINNING));
    for (int p = saved; p < n; ++p) next_[p] = low[p];
  }
  for (int p = 0; p < saved; ++p) next_[p] = pos->next_offsets[p];
  return absl::OkStatus();
}

absl::Status KafkaSource::Assign() {
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions()));
  for (int p = 0; p < partitions(); ++p) {
    if (done(p)) continue;  // a bounded partition already at its end needs no fetching
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset = next_[p];
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(Describe() + ": assign: " + kafka::ErrorText(err));
  }
  assigned_ = true;
  return absl::OkStatus();
}

void KafkaSource::PausePartition(int p) {
  kafka::PartitionListPtr one(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(one.get(), options_.topic.c_str(), p);
  rd_kafka_pause_partitions(rk_.get(), one.get());
}

void KafkaSource::DrainWakePipe() {
  char sink[64];
  while (read(wake_read_, sink, sizeof sink) > 0) {
  }
}

bool KafkaSource::caught_up(int p) const {
  if (p < 0 || p >= partitions()) return false;
  if (done(p) || at_eof_[p]) return true;
  int64_t low = 0, high = 0;
  int64_t end = end_[p];
  if (rd_kafka_get_watermark_offsets(rk_.get(), options_.topic.c_str(), p, &low, &high) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      high >= 0) {
    end = std::max(end, high);
  }
  return next_[p] >= end;
}

absl::Status KafkaSource::OnErrorEvent(const rd_kafka_message_t& m) {
  const int p = m.partition;
  if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (p >= 0 && p < partitions()) {
      at_eof_[p] = 1;
      // The end may lie past the last record (transaction markers, compaction).
      if (m.offset > next_[p]) next_[p] = options_.bounded ? std::min(m.offset, end_[p]) : m.offset;
      if (done(p)) PausePartition(p);
    }
    return absl::OkStatus();
  }
  std::string text = kafka::ErrorText(m.err);
  if (m.payload != nullptr && m.len > 0) {
    text += ": " + std::string(static_cast<const char*>(m.payload), m.len);
  }
  char fatal[512];
  if (rd_kafka_fatal_error(rk_.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(Describe() + ": fatal error: " + fatal);
  }
  if (IsPermanent(m.err)) return absl::UnavailableError(Describe() + ": " + text);
  if (last_logged_error_ != m.err) {
    last_logged_error_ = m.err;
    ctx_.log("kafka: " + text + " (retrying)");
  }
  return absl::OkStatus();
}

absl::StatusOr<PollState> KafkaSource::Poll(size_t max_records, std::vector<SourceRecord>* out) {
  out->clear();
  if (!assigned_) VIGIL_RETURN_IF_ERROR(Assign());
  DrainWakePipe();
  const size_t want = std::clamp<size_t>(max_records, 1, kMaxBatch);
  if (batch_.size() < want) batch_.resize(want);

  std::vector<rd_kafka_message_t*> kept;
  absl::Status error;
  // Error events take room in a batch: read on until a record comes or the queue is empty.
  for (int round = 0; round < 16 && kept.empty(); ++round) {
    ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, batch_.data(), want);
    if (n < 0) {
      return absl::InternalError(Describe() +
                                 ": consume: " + kafka::ErrorText(rd_kafka_last_error()));
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch_[i];
      const int p = m->partition;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (error.ok()) error = OnErrorEvent(*m);
        rd_kafka_message_destroy(m);
        continue;
      }
      if (p < 0 || p >= partitions() || done(p)) {
        rd_kafka_message_destroy(m);  // a bounded partition that already ended
        continue;
      }
      if (options_.bounded && m->offset >= end_[p]) {
        next_[p] = end_[p];  // past the end (what lay between were not records)
        PausePartition(p);
        rd_kafka_message_destroy(m);
        continue;
      }
      kept.push_back(m);
    }
  }
  if (!error.ok()) {
    for (rd_kafka_message_t* m : kept) rd_kafka_message_destroy(m);
    return error;
  }

  // Copy the values into one buffer, each followed by padding, then hand out views.
  size_t total = 0;
  for (const rd_kafka_message_t* m : kept) total += m->len + kSourcePadding;
  if (buffer_.size() < total) buffer_.resize(total);
  size_t at = 0;
  out->reserve(kept.size());
  for (rd_kafka_message_t* m : kept) {
    const int p = m->partition;
    if (m->len > 0) std::memcpy(buffer_.data() + at, m->payload, m->len);
    std::memset(buffer_.data() + at + m->len, 0, kSourcePadding);
    out->push_back(SourceRecord{std::string_view(buffer_.data() + at, m->len), p,
                                static_cast<uint64_t>(m->offset)});
    at += m->len + kSourcePadding;
    next_[p] = m->offset + 1;
    at_eof_[p] = 0;
    rd_kafka_message_destroy(m);
  }
  if (!out->empty()) {
    last_logged_error_ = 0;
    return PollState::kData;
  }
  if (options_.bounded) {
    bool all_done = true;
    for (int p = 0; p < partitions() && all_done; ++p) all_done = done(p);
    if (all_done) return PollState::kEnd;
  }
  // Anything left (the loop above stopped early) must wake the caller again.
  if (rd_kafka_queue_length(queue_.get()) > 0) {
    [[maybe_unused]] ssize_t w = write(wake_write_, "1", 1);
  }
  return PollState::kWait;
}

void RegisterKafkaSource(SourceRegistry* registry) {
  registry->Register(
      "kafka", [](const SourceParams& params) -> absl::StatusOr<std::unique_ptr<Source>> {
        VIGIL_ASSIGN_OR_RETURN(KafkaSourceOptions options, KafkaSourceOptionsFrom(params.spec));
        VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<KafkaSource> source,
                               KafkaSource::Open(std::move(options)));
        return std::unique_ptr<Source>(std::move(source));
      });
}

}  // namespace vigil::engine
