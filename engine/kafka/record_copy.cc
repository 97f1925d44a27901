#include "engine/kafka/record_copy.h"

#include <cstring>

namespace vigil::engine::kafka {

namespace {

// Calls fn(name, value, size) for each header of `m`.
template <typename Fn>
void ForEachHeader(rd_kafka_message_t* m, Fn fn) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0;
       rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    fn(name, value, size);
  }
}

}  // namespace

void CopyRecords(const std::vector<rd_kafka_message_t*>& msgs, size_t padding,
                 const std::function<int(const rd_kafka_message_t*)>& topic_of,
                 std::vector<char>* buffer, std::vector<ConsumedRecord>* out) {
  if (msgs.empty()) return;
  size_t total = 0;
  for (rd_kafka_message_t* m : msgs) {
    total += m->len + padding + m->key_len;
    ForEachHeader(m, [&total](const char* name, const void*, size_t size) {
      total += std::strlen(name) + size;
    });
  }
  if (buffer->size() < total) buffer->resize(total);
  char* at = buffer->data();
  auto copy = [&at](const void* data, size_t n) {
    std::string_view view(at, n);
    if (n > 0) std::memcpy(at, data, n);
    at += n;
    return view;
  };
  out->reserve(out->size() + msgs.size());
  for (rd_kafka_message_t* m : msgs) {
    ConsumedRecord r;
    r.topic = topic_of(m);
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t type;
    r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
    r.value = copy(m->payload, m->len);
    std::memset(at, 0, padding);
    at += padding;
    r.key = copy(m->key, m->key_len);
    ForEachHeader(m, [&](const char* name, const void* value, size_t size) {
      std::string_view n = copy(name, std::strlen(name));
      std::string_view v = copy(value, size);
      r.headers.emplace_back(n, v);
    });
    out->push_back(std::move(r));
  }
}

}  // namespace vigil::engine::kafka
