#pragma once
// Copying consumed librdkafka messages out of librdkafka's memory, so that they can be
// destroyed at once: each value followed by zero padding (simdjson reads past the end), keys
// and headers beside it. Used by GroupConsumer::Poll and ReadPartition.
//
// Thread-compatible.
#include <functional>
#include <vector>

#include "engine/kafka/group_consumer.h"

namespace vigil::engine::kafka {

// Copies `msgs` (records, not error events) into `buffer` (grown when too small; views into
// it stay valid until the buffer is next grown or written) and appends one ConsumedRecord per
// message to `out`, in order. `topic_of` gives a message's topic index.
void CopyRecords(const std::vector<rd_kafka_message_t*>& msgs, size_t padding,
                 const std::function<int(const rd_kafka_message_t*)>& topic_of,
                 std::vector<char>* buffer, std::vector<ConsumedRecord>* out);

}  // namespace vigil::engine::kafka
