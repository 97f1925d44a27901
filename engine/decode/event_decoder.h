#pragma once
// Decodes one JSON Lines line into a core Event by a stream's schema (language.md §2).
//
// Type rules: `bool` takes true/false; `int` a JSON integer within int64 (a number with a
// fraction or an exponent is a wrong type); `float` any JSON number; `string` a JSON string;
// `timestamp` a JSON integer of milliseconds since the epoch or an RFC 3339 string
// ("2024-01-02T03:04:05.123Z", "...+02:00"; fractional seconds beyond milliseconds are
// truncated). A missing declared field and an explicit JSON null are both null. Nested
// fields (`geo.country`) follow the path {"geo": {"country": ...}}; a null or missing parent
// makes them null, any other non-object parent is a wrong type. Undeclared keys are not
// decoded but stay in Event::raw (the line trimmed of surrounding whitespace).
//
// The event time is the value of the stream's event-time field; a null or missing one makes
// the event invalid. On processing-time streams Event::time is left for the caller to set.
//
// Event::seq is the 1-based line number of the event in its input (stable across runs of
// the same input); Event::stream is the stream's index in the rule set.
//
// Thread-compatible: one decoder per thread (it reuses one simdjson parser and buffer).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cep/rule_set.h"
#include "core/event.h"
#include "core/status.h"

namespace vigil::engine {

// Parses an RFC 3339 date-time into milliseconds since the epoch. Accepts 'T', 't' or ' '
// between date and time, optional fractional seconds, and 'Z', 'z' or a ±hh:mm offset.
// Returns false if `s` is not such a string.
bool ParseRfc3339(std::string_view s, int64_t* ms);

class EventDecoder {
 public:
  EventDecoder(const cep::StreamDef& stream, uint32_t stream_index);
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Decodes `line` (1-based line number `line_number`) into *event, overwriting values, raw,
  // time, seq and stream. When `padded` is true the caller guarantees at least 64 readable
  // bytes after line.end() (JsonlSource does), and the line is parsed in place; otherwise it
  // is copied into an internal padded buffer first.
  //
  // Errors: InvalidArgument whose message is the reason written to the dead-letter output:
  //   "line 7: not a JSON object"
  //   "line 7: invalid JSON: <simdjson's message>"
  //   "line 3: field 'amount': expected float, got string"
  //   "line 4: field 'n': expected int, got float"
  //   "line 5: field 'at': invalid RFC 3339 timestamp \"yesterday\""
  //   "line 6: missing event time field 'at'"
  absl::Status Decode(std::string_view line, uint64_t line_number, bool padded, Event* event);

  // Returns an event to decode into. Its storage (the event and its control block, the
  // values vector, string capacity, raw text capacity) is recycled from earlier events of
  // this decoder once every reference to them is gone, so steady-state decoding does not
  // allocate. Its contents are unspecified until Decode overwrites them. The returned
  // event may be released on any thread and may outlive the decoder.
  std::shared_ptr<Event> NewEvent();

 private:
  struct Impl;
  class Pool;
  std::unique_ptr<Impl> impl_;
  Pool* pool_;  // owned jointly with outstanding events (see Pool)
};

}  // namespace vigil::engine
