// PartitionCount and ReadPartition (declared in group_consumer.h): one-off reads with a
// short-lived client of their own, outside any consumer group.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/kafka/group_consumer.h"
#include "engine/kafka/kafka_metadata.h"
#include "engine/kafka/record_copy.h"

namespace vigil::engine::kafka {

namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
}

// A client that is only ever assigned partitions (never joins a group, commits nothing).
absl::StatusOr<HandlePtr> NewReader(const ClientOptions& client, ClientContext* ctx) {
  VIGIL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(client, ctx));
  for (const auto& [key, value] : std::vector<std::pair<const char*, const char*>>{
           {"group.id", "vigil.reader"},  // required by librdkafka; no group is joined
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"enable.partition.eof", "true"},
           {"auto.offset.reset", "earliest"},
       }) {
    VIGIL_RETURN_IF_ERROR(SetConf(conf.get(), key, value));
  }
  VIGIL_ASSIGN_OR_RETURN(HandlePtr rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_poll_set_consumer(rk.get());
  return rk;
}

// Closes a reader's consumer before the handle goes (assign-only: nothing to leave).
struct ReaderCloser {
  rd_kafka_t* rk;
  ~ReaderCloser() { rd_kafka_consumer_close(rk); }
};

}  // namespace

absl::StatusOr<int> PartitionCount(const ClientOptions& client, std::string_view topic,
                                   int timeout_ms) {
  const std::string name = "kafka topic '" + std::string(topic) + "' on " + client.brokers;
  if (client.brokers.empty()) return absl::InvalidArgumentError(name + ": empty brokers");
  ClientContext ctx;
  ctx.log = [](std::string_view) {};  // errors are in the result
  auto conf = MakeConf(client, &ctx);
  if (!conf.ok())
    return absl::Status(conf.status().code(), name + ": " + std::string(conf.status().message()));
  auto rk = NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok())
    return absl::Status(rk.status().code(), name + ": " + std::string(rk.status().message()));
  VIGIL_ASSIGN_OR_RETURN(std::vector<int> counts, PartitionCounts(rk->get(), {std::string(topic)},
                                                                  client.brokers, timeout_ms));
  return counts[0];
}

absl::Status ReadPartition(const ClientOptions& client, std::string_view topic, int32_t partition,
                           int64_t from_offset,
                           const std::function<absl::Status(const ConsumedRecord&)>& fn,
                           int timeout_ms) {
  const std::string t(topic);
  const std::string name = "reading kafka topic '" + t + "' partition " +
                           std::to_string(partition) + " on " + client.brokers;
  auto fail = [&name](const absl::Status& st) {
    return absl::Status(st.code(), name + ": " + std::string(st.message()));
  };
  if (client.brokers.empty()) return fail(absl::InvalidArgumentError("empty brokers"));
  if (from_offset < 0 && from_offset != RD_KAFKA_OFFSET_BEGINNING) {
    return fail(absl::InvalidArgumentError(
        "from_offset must be >= 0 or -2 (the oldest record), not " + std::to_string(from_offset)));
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 1));
  ClientContext ctx;
  ctx.log = [name](std::string_view line) {
    std::string text = "warning: " + name + ": " + std::string(line) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  };
  auto rk_or = NewReader(client, &ctx);
  if (!rk_or.ok()) return fail(rk_or.status());
  HandlePtr rk = std::move(*rk_or);
  ReaderCloser closer{rk.get()};

  auto counts = PartitionCounts(rk.get(), {t}, client.brokers, MsLeft(deadline));
  if (!counts.ok()) return fail(counts.status());
  if (partition < 0 || partition >= (*counts)[0]) {
    return fail(
        absl::NotFoundError("the topic has " + std::to_string((*counts)[0]) + " partitions"));
  }
  // The end is fixed now: records appended later are not read.
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk.get(), t.c_str(), partition, &low,
                                                             &high, MsLeft(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return fail(absl::UnavailableError("cannot read the end offset: " + ErrorText(err)));
  }
  const int64_t start = from_offset == RD_KAFKA_OFFSET_BEGINNING ? low : std::max(from_offset, low);
  if (start >= high) return absl::OkStatus();  // nothing in [from, end)

  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), t.c_str(), partition)->offset = start;
  err = rd_kafka_assign(rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fail(absl::InternalError("assign: " + ErrorText(err)));

  int64_t next = start;  // the next offset expected
  std::vector<char> buffer;
  std::vector<ConsumedRecord> one;
  std::vector<rd_kafka_message_t*> msgs;
  while (next < high) {
    const int wait = MsLeft(deadline);
    if (wait <= 0) {
      return fail(absl::DeadlineExceededError(
          "the end (offset " + std::to_string(high) + ") was not reached within " +
          std::to_string(timeout_ms) + " ms; next offset " + std::to_string(next)));
    }
    MessagePtr m(rd_kafka_consumer_poll(rk.get(), std::min(wait, 100)));
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The end of what may be read now: past the last record lie only control records (a
      // transaction's end); an end short of `high` is an open transaction (read_committed).
      next = std::max(next, m->offset);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      char fatal[512];
      if (rd_kafka_fatal_error(rk.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return fail(absl::UnavailableError(std::string("fatal error: ") + fatal));
      }
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
          m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        return fail(absl::UnavailableError(ErrorText(m->err)));
      }
      continue;  // transient: librdkafka retries
    }
    if (m->offset >= high) break;  // appended after the call
    next = m->offset + 1;
    msgs.assign(1, m.get());
    one.clear();
    CopyRecords(
        msgs, GroupConsumer::kPadding, [](const rd_kafka_message_t*) { return 0; }, &buffer, &one);
    absl::Status st = fn(one[0]);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine::kafka
