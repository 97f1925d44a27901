#include "engine/kafka/group_consumer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "engine/kafka/kafka_metadata.h"
#include "engine/kafka/record_copy.h"

namespace vigil::engine::kafka {

namespace {

using Clock = std::chrono::steady_clock;

// A Poll never returns more records than this, whatever the caller asks for.
constexpr size_t kMaxBatch = 1 << 16;

// Consumer errors after which consuming cannot go on; every other error event is transient
// and librdkafka retries by itself.
bool IsPermanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL:
    case RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

PartitionListPtr ToList(const std::vector<TopicPartition>& tps) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const TopicPartition& tp : tps) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  }
  return list;
}

std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

std::string Describe(const std::vector<TopicPartition>& tps) {
  std::string out;
  for (const TopicPartition& tp : tps) {
    out += (out.empty() ? "" : ",") + tp.topic + "[" + std::to_string(tp.partition) + "]";
  }
  return out;
}

std::string TakeErrorText(rd_kafka_error_t* error) {
  std::string text =
      std::string(rd_kafka_error_string(error)) + " (" + rd_kafka_error_name(error) + ")";
  rd_kafka_error_destroy(error);
  return text;
}

LogFn DefaultLog(const std::string& prefix) {
  return [prefix](std::string_view line) {
    std::string text = "warning: " + prefix + ": " + std::string(line) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  };
}

}  // namespace

struct GroupConsumer::Impl {
  GroupConsumerOptions options;
  AssignedFn on_assigned;
  RevokedFn on_revoked;
  std::string name;   // "kafka group consumer GROUP (topics T) on BROKERS" for messages
  ClientContext ctx;  // before rk: librdkafka's callbacks reach it until rk is destroyed
  HandlePtr rk;
  QueuePtr queue;
  int wake_read = -1;
  int wake_write = -1;
  std::unordered_map<std::string, int> topic_index;
  // assigned[topic index][partition]: records of a partition are returned only while it is
  // set (the rebalance callback sets and clears it, in order with the records).
  std::vector<std::vector<char>> assigned;
  absl::Status callback_error;  // the first error of a rebalance callback, returned by Poll
  bool closing = false;         // the destructor runs: no callbacks into the caller
  rd_kafka_resp_err_t last_logged_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::vector<rd_kafka_message_t*> kept;
  std::vector<char> buffer;

  ~Impl() {
    if (queue != nullptr) {
      rd_kafka_queue_io_event_enable(queue.get(), -1, nullptr, 0);
      queue.reset();
    }
    if (rk != nullptr) {
      closing = true;
      rd_kafka_consumer_close(rk.get());  // leaves the group; the revoke runs OnRebalance
      rk.reset();
    }
    if (wake_read >= 0) close(wake_read);
    if (wake_write >= 0) close(wake_write);
  }

  absl::Status Error(absl::StatusCode code, const std::string& what) const {
    return absl::Status(code, name + ": " + what);
  }

  void SetAssigned(const TopicPartition& tp, bool on) {
    auto it = topic_index.find(tp.topic);
    if (it == topic_index.end() || tp.partition < 0) return;
    std::vector<char>& flags = assigned[it->second];
    if (flags.size() <= static_cast<size_t>(tp.partition)) flags.resize(tp.partition + 1, 0);
    flags[tp.partition] = on ? 1 : 0;
  }
  bool IsAssigned(int topic, int32_t partition) const {
    const std::vector<char>& flags = assigned[topic];
    return partition >= 0 && static_cast<size_t>(partition) < flags.size() && flags[partition];
  }
  void Fail(absl::Status st) {
    if (callback_error.ok()) callback_error = std::move(st);
  }

  // The rebalance callback: runs inside rd_kafka_consumer_poll (Poll) or consumer_close.
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk.get()), "COOPERATIVE") == 0;
    std::vector<TopicPartition> tps = FromList(parts);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (!cooperative) {  // eager: this is the whole assignment (all was revoked before)
        for (std::vector<char>& flags : assigned) std::fill(flags.begin(), flags.end(), 0);
      }
      bool usable = true;
      if (!closing && on_assigned && !tps.empty()) {
        absl::StatusOr<std::vector<int64_t>> offsets = on_assigned(tps);
        if (!offsets.ok()) {
          Fail(offsets.status());
          usable = false;
        } else if (offsets->size() != tps.size()) {
          Fail(Error(absl::StatusCode::kInternal,
                     "the assignment callback returned " + std::to_string(offsets->size()) +
                         " offsets for " + std::to_string(tps.size()) + " partitions"));
          usable = false;
        } else {
          for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = (*offsets)[i];
        }
      }
      // The partitions are taken even when the caller cannot use them (the group protocol
      // needs the assignment acknowledged); their records are then never returned, they are
      // paused, and they stay with this process until it leaves the group.
      rd_kafka_error_t* error = nullptr;
      if (cooperative) {
        error = rd_kafka_incremental_assign(rk.get(), parts);
      } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), parts);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
          error = rd_kafka_error_new(e, "%s", rd_kafka_err2str(e));
      }
      if (error != nullptr) {
        Fail(Error(absl::StatusCode::kInternal,
                   "assign " + Describe(tps) + ": " + TakeErrorText(error)));
        return;
      }
      if (!usable) {
        rd_kafka_pause_partitions(rk.get(), parts);
        return;
      }
      // librdkafka keeps an application's pause across a revoke: a partition given back to
      // this process starts unpaused (Pause() applies to one assignment only).
      rd_kafka_resume_partitions(rk.get(), parts);
      for (const TopicPartition& tp : tps) SetAssigned(tp, true);
      return;
    }

    // Revoked (or an unexpected rebalance error: then everything is given up).
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      ctx.log("kafka: rebalance error " + ErrorText(err) + ": giving up the assignment");
      rd_kafka_topic_partition_list_t* all = nullptr;
      if (rd_kafka_assignment(rk.get(), &all) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        tps = FromList(all);
        rd_kafka_topic_partition_list_destroy(all);
      }
    }
    if (rd_kafka_assignment_lost(rk.get()) && !closing) {
      ctx.log("kafka: partitions " + Describe(tps) +
              " were lost (this member was thrown out of the group)");
    }
    for (const TopicPartition& tp : tps) SetAssigned(tp, false);
    if (!closing && on_revoked && !tps.empty()) {
      absl::Status st = on_revoked(tps);
      if (!st.ok()) Fail(std::move(st));
    }
    rd_kafka_error_t* error = nullptr;
    if (cooperative) {
      PartitionListPtr list = ToList(tps);
      error = rd_kafka_incremental_unassign(rk.get(), list.get());
    } else {
      rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), nullptr);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) error = rd_kafka_error_new(e, "%s", rd_kafka_err2str(e));
    }
    if (error != nullptr && !closing) {
      Fail(Error(absl::StatusCode::kInternal,
                 "unassign " + Describe(tps) + ": " + TakeErrorText(error)));
    } else if (error != nullptr) {
      rd_kafka_error_destroy(error);
    }
  }

  // An error event from the consumer queue: fatal and permanent ones end consuming.
  absl::Status OnErrorEvent(const rd_kafka_message_t& m) {
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return absl::OkStatus();
    char fatal[512];
    if (rd_kafka_fatal_error(rk.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(absl::StatusCode::kUnavailable, std::string("fatal error: ") + fatal);
    }
    std::string text = ErrorText(m.err);
    if (m.payload != nullptr && m.len > 0) {
      text += ": " + std::string(static_cast<const char*>(m.payload), m.len);
    }
    if (IsPermanent(m.err)) return Error(absl::StatusCode::kUnavailable, text);
    if (last_logged_error != m.err) {
      last_logged_error = m.err;
      ctx.log("kafka: " + text + " (retrying)");
    }
    return absl::OkStatus();
  }

  void DrainWakePipe() {
    char sink[64];
    while (read(wake_read, sink, sizeof sink) > 0) {
    }
  }
};

namespace {

void RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* ctx = static_cast<ClientContext*>(opaque);
  static_cast<GroupConsumer::Impl*>(ctx->owner)->OnRebalance(err, partitions);
}

}  // namespace

GroupConsumer::GroupConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GroupConsumer::~GroupConsumer() = default;

absl::StatusOr<std::unique_ptr<GroupConsumer>> GroupConsumer::Open(GroupConsumerOptions options,
                                                                   AssignedFn on_assigned,
                                                                   RevokedFn on_revoked,
                                                                   int open_timeout_ms) {
  auto impl = std::make_unique<Impl>();
  impl->name = "kafka group consumer " + options.group + " (topics " + Join(options.topics) +
               ") on " + options.client.brokers;
  if (options.client.brokers.empty())
    return impl->Error(absl::StatusCode::kInvalidArgument, "empty brokers");
  if (options.group.empty()) return impl->Error(absl::StatusCode::kInvalidArgument, "empty group");
  if (options.topics.empty()) return impl->Error(absl::StatusCode::kInvalidArgument, "no topics");
  for (size_t i = 0; i < options.topics.size(); ++i) {
    if (options.topics[i].empty())
      return impl->Error(absl::StatusCode::kInvalidArgument, "empty topic name");
    if (!impl->topic_index.emplace(options.topics[i], static_cast<int>(i)).second) {
      return impl->Error(absl::StatusCode::kInvalidArgument,
                         "topic '" + options.topics[i] + "' named twice");
    }
  }
  if (options.session_timeout_ms <= 0 || options.heartbeat_interval_ms <= 0 ||
      options.heartbeat_interval_ms >= options.session_timeout_ms) {
    return impl->Error(absl::StatusCode::kInvalidArgument,
                       "heartbeat_interval_ms (" + std::to_string(options.heartbeat_interval_ms) +
                           ") must be positive and below session_timeout_ms (" +
                           std::to_string(options.session_timeout_ms) + ")");
  }
  impl->assigned.resize(options.topics.size());
  impl->on_assigned = std::move(on_assigned);
  impl->on_revoked = std::move(on_revoked);
  impl->options = std::move(options);
  const GroupConsumerOptions& o = impl->options;
  impl->ctx.log = o.log ? o.log : DefaultLog(impl->name);
  impl->ctx.owner = impl.get();

  auto fail = [&](const absl::Status& st) {
    return impl->Error(st.code(), std::string(st.message()));
  };
  auto conf = MakeConf(o.client, &impl->ctx);
  if (!conf.ok()) return fail(conf.status());
  rd_kafka_conf_t* c = conf->get();
  for (const auto& [key, value] : std::vector<std::pair<const char*, std::string>>{
           {"client.id", o.instance.empty() ? "vigil" : "vigil-" + o.instance},
           {"group.id", o.group},
           {"partition.assignment.strategy", o.assignment_strategy},
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"auto.offset.reset", "earliest"},
           {"session.timeout.ms", std::to_string(o.session_timeout_ms)},
           {"heartbeat.interval.ms", std::to_string(o.heartbeat_interval_ms)},
       }) {
    absl::Status st = SetConf(c, key, value);
    if (!st.ok()) return fail(st);
  }
  rd_kafka_conf_set_rebalance_cb(c, RebalanceCallback);
  auto rk = NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return fail(rk.status());
  impl->rk = std::move(*rk);

  // Everything (records, rebalances, errors) comes through the consumer queue.
  rd_kafka_poll_set_consumer(impl->rk.get());
  impl->queue.reset(rd_kafka_queue_get_consumer(impl->rk.get()));
  if (impl->queue == nullptr) return impl->Error(absl::StatusCode::kInternal, "no consumer queue");
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return impl->Error(absl::StatusCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  impl->wake_read = fds[0];
  impl->wake_write = fds[1];
  rd_kafka_queue_io_event_enable(impl->queue.get(), impl->wake_write, "1", 1);

  auto counts = PartitionCounts(impl->rk.get(), o.topics, o.client.brokers, open_timeout_ms);
  if (!counts.ok()) return fail(counts.status());
  for (size_t i = 0; i < counts->size(); ++i) impl->assigned[i].assign((*counts)[i], 0);

  PartitionListPtr subscription(
      rd_kafka_topic_partition_list_new(static_cast<int>(o.topics.size())));
  for (const std::string& t : o.topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(impl->rk.get(), subscription.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return impl->Error(absl::StatusCode::kInternal, "subscribe: " + ErrorText(err));
  }
  return std::unique_ptr<GroupConsumer>(new GroupConsumer(std::move(impl)));
}

absl::Status GroupConsumer::Poll(size_t max, int timeout_ms, std::vector<ConsumedRecord>* out) {
  Impl& s = *impl_;
  out->clear();
  s.DrainWakePipe();
  const size_t want = std::clamp<size_t>(max, 1, kMaxBatch);
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  s.kept.clear();
  absl::Status error;
  while (s.kept.size() < want && s.callback_error.ok() && error.ok()) {
    int wait = 0;
    if (s.kept.empty()) {
      wait = static_cast<int>(std::max<int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(s.rk.get(), wait);
    if (m == nullptr) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = s.OnErrorEvent(*m);
      rd_kafka_message_destroy(m);
      continue;
    }
    auto it = s.topic_index.find(rd_kafka_topic_name(m->rkt));
    if (it == s.topic_index.end() || !s.IsAssigned(it->second, m->partition)) {
      rd_kafka_message_destroy(m);  // fetched before its partition was revoked
      continue;
    }
    s.kept.push_back(m);
  }
  if (error.ok() && !s.callback_error.ok()) {
    error = std::move(s.callback_error);
    s.callback_error = absl::OkStatus();
  }
  if (error.ok()) {
    CopyRecords(
        s.kept, kPadding,
        [&s](const rd_kafka_message_t* m) { return s.topic_index.at(rd_kafka_topic_name(m->rkt)); },
        &s.buffer, out);
    if (!out->empty()) s.last_logged_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  for (rd_kafka_message_t* m : s.kept) rd_kafka_message_destroy(m);
  s.kept.clear();
  // Anything left (the loop stopped at `max`) must wake the caller again: librdkafka writes
  // the pipe once per period in which the queue is not served.
  if (rd_kafka_queue_length(s.queue.get()) > 0) {
    [[maybe_unused]] ssize_t w = write(s.wake_write, "1", 1);
  }
  return error;
}

int GroupConsumer::wait_fd() const { return impl_->wake_read; }

std::vector<TopicPartition> GroupConsumer::assignment() const {
  std::vector<TopicPartition> out;
  for (size_t t = 0; t < impl_->assigned.size(); ++t) {
    for (size_t p = 0; p < impl_->assigned[t].size(); ++p) {
      if (impl_->assigned[t][p]) out.push_back({impl_->options.topics[t], static_cast<int32_t>(p)});
    }
  }
  return out;
}

int64_t GroupConsumer::high_watermark(const TopicPartition& tp) const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(impl_->rk.get(), tp.topic.c_str(), tp.partition, &low,
                                     &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return -1;
  }
  return high;
}

namespace {

absl::Status PauseOrResume(GroupConsumer::Impl* s, const TopicPartition& tp, bool pause) {
  PartitionListPtr list = ToList({tp});
  rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(s->rk.get(), list.get())
                                  : rd_kafka_resume_partitions(s->rk.get(), list.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return s->Error(
        absl::StatusCode::kFailedPrecondition,
        std::string(pause ? "pause " : "resume ") + Describe({tp}) + ": " + ErrorText(err));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status GroupConsumer::Pause(const TopicPartition& tp) {
  return PauseOrResume(impl_.get(), tp, true);
}
absl::Status GroupConsumer::Resume(const TopicPartition& tp) {
  return PauseOrResume(impl_.get(), tp, false);
}

const std::vector<std::string>& GroupConsumer::topics() const { return impl_->options.topics; }

}  // namespace vigil::engine::kafka
