#include "engine/kafka/kafka_source_options.h"

#include <charconv>

#include "engine/decode/event_decoder.h"

namespace vigil::engine {

absl::StatusOr<KafkaStart> ParseKafkaStart(std::string_view text) {
  KafkaStart s;
  if (text.empty() || text == "earliest") return s;
  if (text == "latest") {
    s.kind = KafkaStart::Kind::kLatest;
    return s;
  }
  s.kind = KafkaStart::Kind::kTime;
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && end == text.data() + text.size() && ms >= 0) {
    s.time = EventTime(ms);
    return s;
  }
  if (ParseRfc3339(text, &ms)) {
    s.time = EventTime(ms);
    return s;
  }
  return absl::InvalidArgumentError(
      "start '" + std::string(text) +
      "' must be earliest, latest, an RFC 3339 time or milliseconds since the epoch");
}

absl::StatusOr<KafkaSourceOptions> KafkaSourceOptionsFrom(const cep::SourceSpec& spec) {
  cep::OptionReader r(spec.options);
  KafkaSourceOptions o;
  o.client = kafka::ClientOptionsFrom(spec.options);
  o.topic = r.String("topic");
  o.group = r.String("group");
  VIGIL_ASSIGN_OR_RETURN(o.start, ParseKafkaStart(r.String("start")));
  o.bounded = r.Bool("bounded");
  return o;
}

}  // namespace vigil::engine
