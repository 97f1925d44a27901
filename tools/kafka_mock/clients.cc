#include "tools/kafka_mock/clients.h"

#include <chrono>
#include <fstream>
#include <thread>

#include "simdjson.h"

namespace vigil::kafka_mock {

namespace kafka = engine::kafka;
using Clock = std::chrono::steady_clock;

namespace {

int Ms(Duration d) { return static_cast<int>(d.ms); }

absl::StatusOr<kafka::HandlePtr> NewClient(
    rd_kafka_type_t type, const std::string& bootstrap, kafka::ClientContext* ctx,
    const std::vector<std::pair<std::string, std::string>>& settings,
    void (*dr)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr) {
  kafka::ClientOptions options;
  options.brokers = bootstrap;
  VIGIL_ASSIGN_OR_RETURN(kafka::ConfPtr conf, kafka::MakeConf(options, ctx));
  for (const auto& [k, v] : settings) VIGIL_RETURN_IF_ERROR(kafka::SetConf(conf.get(), k, v));
  if (dr != nullptr) rd_kafka_conf_set_dr_msg_cb(conf.get(), dr);
  return kafka::NewClient(type, std::move(conf));
}

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

}  // namespace

absl::StatusOr<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, Duration timeout) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout.ms);
  kafka::TopicPtr t(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  std::string last = "no answer";
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk, 0, t.get(), &raw, std::max<int>(1, left.count()));
    kafka::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last = kafka::ErrorText(err);
      continue;
    }
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return absl::NotFoundError("topic " + topic + " does not exist");
    }
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topics[0].partition_cnt > 0) {
      return md->topics[0].partition_cnt;
    }
    if (md->topic_cnt == 1) last = kafka::ErrorText(md->topics[0].err);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::UnavailableError("no metadata for topic " + topic + ": " + last);
}

// --- Producer ---------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Producer>> Producer::Open(const std::string& bootstrap) {
  std::unique_ptr<Producer> p(new Producer());
  p->ctx_.owner = p.get();
  VIGIL_ASSIGN_OR_RETURN(p->rk_, NewClient(RD_KAFKA_PRODUCER, bootstrap, &p->ctx_,
                                           {{"enable.idempotence", "true"},
                                            {"acks", "all"},
                                            {"linger.ms", "5"},
                                            {"partitioner", "murmur2_random"},
                                            {"message.timeout.ms", "30000"}},
                                           &Producer::OnDelivery));
  return p;
}

Producer::~Producer() {
  if (rk_ != nullptr) rd_kafka_flush(rk_.get(), 5000);
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<Producer*>(static_cast<kafka::ClientContext*>(opaque)->owner);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (self->failures_++ == 0) self->first_error_ = kafka::ErrorText(m->err);
    return;
  }
  ++self->delivered_;
  std::string topic = rd_kafka_topic_name(m->rkt);
  auto it = self->bytes_.begin();
  while (it != self->bytes_.end() && it->first != topic) ++it;
  if (it == self->bytes_.end()) it = self->bytes_.insert(it, {topic, {}});
  if (it->second.size() <= static_cast<size_t>(m->partition)) it->second.resize(m->partition + 1);
  it->second[m->partition] += m->len;
}

std::vector<uint64_t> Producer::delivered_bytes(const std::string& topic) const {
  for (const auto& [t, parts] : bytes_) {
    if (t == topic) return parts;
  }
  return {};
}

absl::Status Producer::Produce(const std::string& topic, int partition,
                               std::optional<std::string> key, const std::string& value,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (!headers.empty()) {
    hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [name, v] : headers) {
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
  }
  const char* key_data = key ? key->data() : nullptr;
  const size_t key_size = key ? key->size() : 0;
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_data, key_size),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();  // owns hdrs now
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk_.get(), 100);
      continue;
    }
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    return absl::InternalError("produce to " + topic + ": " + kafka::ErrorText(err));
  }
}

absl::Status Producer::Flush(Duration timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), Ms(timeout));
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return absl::DeadlineExceededError(std::to_string(rd_kafka_outq_len(rk_.get())) +
                                       " records not acknowledged within " +
                                       FormatDuration(timeout));
  }
  if (failures_ > 0) {
    return absl::InternalError(std::to_string(failures_) +
                               " records not delivered: " + first_error_);
  }
  return absl::OkStatus();
}

// --- loading JSON Lines -----------------------------------------------------------------------

absl::StatusOr<uint64_t> LoadJsonl(Producer* producer, const std::string& topic,
                                   const std::string& path, const std::string& key_field,
                                   const std::function<bool()>& stop) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(path + ": cannot open");
  VIGIL_ASSIGN_OR_RETURN(int partitions,
                         PartitionCount(producer->handle(), topic, Duration::Seconds(10)));
  simdjson::dom::parser parser;
  std::string line;
  uint64_t line_number = 0, count = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (IsBlank(line)) continue;
    if (stop && stop()) break;
    std::optional<std::string> key;
    int partition = -1;
    if (key_field.empty()) {
      partition = static_cast<int>(count % static_cast<uint64_t>(partitions));
    } else {
      auto where = [&] { return path + ":" + std::to_string(line_number) + ": "; };
      simdjson::dom::element doc;
      if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(where() + "not JSON (needed for the key field)");
      }
      simdjson::dom::element field;
      if (doc.type() != simdjson::dom::element_type::OBJECT ||
          doc.get_object().at_key(key_field).get(field) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(where() + "no field '" + key_field + "'");
      }
      std::string_view text;
      if (field.get_string().get(text) == simdjson::SUCCESS) {
        key = std::string(text);
      } else {
        key = simdjson::minify(field);
      }
    }
    VIGIL_RETURN_IF_ERROR(producer->Produce(topic, partition, std::move(key), line));
    ++count;
    rd_kafka_poll(producer->handle(), 0);  // serve delivery reports as we go
  }
  if (in.bad()) return absl::InternalError(path + ": read error");
  VIGIL_RETURN_IF_ERROR(producer->Flush(Duration::Seconds(60)));
  return count;
}

// --- reading a topic back ---------------------------------------------------------------------

absl::StatusOr<std::vector<ReadRecord>> ReadTopic(const std::string& bootstrap,
                                                  const std::string& topic, Duration timeout,
                                                  size_t min_records) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout.ms);
  kafka::ClientContext ctx;
  VIGIL_ASSIGN_OR_RETURN(kafka::HandlePtr rk, NewClient(RD_KAFKA_CONSUMER, bootstrap, &ctx,
                                                        {{"group.id", "kafka-mock-reader"},
                                                         {"enable.auto.commit", "false"},
                                                         {"enable.partition.eof", "true"},
                                                         {"auto.offset.reset", "earliest"}}));
  rd_kafka_poll_set_consumer(rk.get());
  VIGIL_ASSIGN_OR_RETURN(int n, PartitionCount(rk.get(), topic, timeout));

  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(n));
  for (int p = 0; p < n; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  std::vector<int64_t> end(n, 0);
  if (min_records == 0) {
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk.get(), list.get(), Ms(timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError("end offsets of " + topic + ": " + kafka::ErrorText(err));
    }
    for (int i = 0; i < list->cnt; ++i) end[list->elems[i].partition] = list->elems[i].offset;
  }
  for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError("assign " + topic + ": " + kafka::ErrorText(err));
  }

  std::vector<int64_t> next(n, 0);
  std::vector<ReadRecord> out;
  auto finished = [&] {
    if (min_records > 0) return out.size() >= min_records;
    for (int p = 0; p < n; ++p) {
      if (next[p] < end[p]) return false;
    }
    return true;
  };
  while (!finished()) {
    if (Clock::now() >= deadline) {
      rd_kafka_consumer_close(rk.get());
      return absl::DeadlineExceededError("read " + std::to_string(out.size()) + " records of " +
                                         topic + " within " + FormatDuration(timeout));
    }
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk.get(), 100));
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->partition >= 0 && m->partition < n) next[m->partition] = m->offset;
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // transient; the deadline bounds it
    ReadRecord r;
    r.partition = m->partition;
    r.offset = m->offset;
    r.timestamp = rd_kafka_message_timestamp(m.get(), nullptr);
    if (m->key != nullptr) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) {
      r.value = std::string(static_cast<const char*>(m->payload), m->len);
    }
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0;
           rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        r.headers.emplace_back(
            name, value ? std::string(static_cast<const char*>(value), size) : std::string());
      }
    }
    if (m->partition >= 0 && m->partition < n) next[m->partition] = m->offset + 1;
    out.push_back(std::move(r));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace vigil::kafka_mock
