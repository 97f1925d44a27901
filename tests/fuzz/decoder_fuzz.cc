// libFuzzer differential target for engine::EventDecoder (one JSON Lines line -> Event).
//
// Decode must never crash, and its hand-written fast path for flat objects must agree with the
// simdjson path on every line. As in DecoderTest.FastPathMatchesSimdjsonPath, the input line
// is decoded as is (fast path when it applies) and with `"geo":null,` inserted after its
// opening brace (a declared nested parent forces the simdjson path); the two must agree on
// ok vs error, on the message (both or neither "invalid JSON: ...", whose text may differ;
// any other exactly), on every value (floats bit for bit) and on the event time. Each
// variant is also decoded with padded=false (the decoder copies the line) into a fresh event
// and with padded=true (in place, 64 readable bytes after the line) into a recycled event
// holding another event's values: the two results must be identical.
//
// Input mapping: the line is the input up to its first '\n' (JsonlSource never returns a line
// containing one); the bytes after it fill the padding, as the next lines of the buffer would
// (a fixed pattern when there are none). Lines that do not start with '{' (after JSON
// whitespace) are still decoded both ways but have no simdjson variant.
//
// On a disagreement the target prints the line and both results and calls __builtin_trap().
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "cep/rule_set.h"
#include "core/event.h"
#include "core/value.h"
#include "engine/decode/event_decoder.h"

namespace {

using vigil::Event;
using vigil::EventTime;
using vigil::FieldDef;
using vigil::Type;
using vigil::Value;

constexpr size_t kPadding = 64;  // JsonlSource::kLinePadding
constexpr uint64_t kLineNumber = 3;
constexpr uint32_t kStreamIndex = 2;

// The unit test's schema: every type, a nested field under `geo`, `at` as the event time.
const vigil::cep::StreamDef& TxnStream() {
  static const vigil::cep::StreamDef* s = [] {
    auto* d = new vigil::cep::StreamDef;
    d->name = "txn";
    d->schema = vigil::Schema("txn");
    d->schema.AddField(FieldDef{"card", {"card"}, Type::kString});
    d->schema.AddField(FieldDef{"amount", {"amount"}, Type::kFloat});
    d->schema.AddField(FieldDef{"n", {"n"}, Type::kInt});
    d->schema.AddField(FieldDef{"ok", {"ok"}, Type::kBool});
    d->schema.AddField(FieldDef{"geo.country", {"geo", "country"}, Type::kString});
    d->schema.AddField(FieldDef{"geo.city", {"geo", "city"}, Type::kString});
    d->schema.AddField(FieldDef{"at", {"at"}, Type::kTimestamp});
    d->event_time_slot = 6;
    return d;
  }();
  return *s;
}

// Every slot set, so that a recycled event that is not fully overwritten shows.
constexpr std::string_view kFullLine =
    R"({"card":"0123456789abcdef0123456789","amount":-1.25e3,"n":-42,"ok":true,)"
    R"("geo":{"country":"FR","city":"Paris"},"at":"2024-01-02T03:04:05.678Z"})";

struct Result {
  absl::Status status;
  Event event;
};

std::string Escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string Describe(const Result& r) {
  std::string out = r.status.ok() ? "OK" : r.status.ToString();
  if (r.status.ok()) {
    for (size_t i = 0; i < r.event.values.size(); ++i) {
      const Value& v = r.event.values[i];
      out += " [" + std::to_string(i) + "] " + std::string(vigil::TypeName(v.type())) + ":";
      if (v.type() == Type::kFloat) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v.as_float());
        out += buf;
      } else {
        out += Escaped(v.ToString());
      }
    }
    out += " time=" + std::to_string(r.event.time.ms) + " raw=" + Escaped(r.event.raw);
  }
  return out;
}

[[noreturn]] void Fail(const char* what, std::string_view line, std::string_view other_line,
                       const Result& a, const Result& b) {
  std::fprintf(stderr, "decoder_fuzz: %s\n  line:   %s\n  other:  %s\n  result: %s\n  other:  %s\n",
               what, Escaped(line).c_str(), Escaped(other_line).c_str(), Describe(a).c_str(),
               Describe(b).c_str());
  __builtin_trap();
}

// Same type and same value; floats bit for bit (0.0 vs -0.0 differ).
bool SameValue(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kInt:
    case Type::kTimestamp:
      return a.as_int() == b.as_int();
    case Type::kFloat: {
      double x = a.as_float(), y = b.as_float();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case Type::kString:
      return a.as_string() == b.as_string();
  }
  return false;
}

bool SameValues(const Event& a, const Event& b) {
  if (a.values.size() != b.values.size()) return false;
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (!SameValue(a.values[i], b.values[i])) return false;
  }
  return a.time == b.time;
}

// What holds of any single result, whatever the line.
void CheckInvariants(std::string_view line, const Result& r) {
  const vigil::cep::StreamDef& s = TxnStream();
  if (!r.status.ok()) {
    std::string prefix = "line " + std::to_string(kLineNumber) + ": ";
    if (r.status.code() != absl::StatusCode::kInvalidArgument ||
        r.status.message().substr(0, prefix.size()) != prefix) {
      Fail("error is not InvalidArgument \"line N: ...\"", line, "", r, r);
    }
    return;
  }
  const Event& e = r.event;
  if (e.values.size() != s.schema.size()) Fail("wrong number of values", line, "", r, r);
  for (size_t i = 0; i < e.values.size(); ++i) {
    const Value& v = e.values[i];
    if (!v.is_null() && v.type() != s.schema.field(static_cast<int>(i)).type) {
      Fail("value of the wrong type", line, "", r, r);
    }
    if (v.type() == Type::kFloat && !std::isfinite(v.as_float())) {
      Fail("non-finite float", line, "", r, r);
    }
  }
  const Value& t = e.values[s.event_time_slot];
  if (t.type() != Type::kTimestamp || e.time != t.as_timestamp()) {
    Fail("event time is not the event-time field", line, "", r, r);
  }
  // raw is the line trimmed of JSON whitespace.
  std::string_view trimmed = line;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!trimmed.empty() && space(trimmed.front())) trimmed.remove_prefix(1);
  while (!trimmed.empty() && space(trimmed.back())) trimmed.remove_suffix(1);
  if (e.raw != trimmed || e.seq != kLineNumber || e.stream != kStreamIndex) {
    Fail("raw, seq or stream wrong", line, "", r, r);
  }
}

// Decodes `line` unpadded into a fresh event and padded (in place) into a recycled event,
// requires the two results to be identical, and returns the first.
Result DecodeBothWays(vigil::engine::EventDecoder& decoder, std::string_view line,
                      std::string_view padding) {
  Result unpadded;
  {
    // An exact-size heap copy, so that ASan sees any read past the line's end.
    std::unique_ptr<char[]> buf(new char[line.size() == 0 ? 1 : line.size()]);
    std::memcpy(buf.get(), line.data(), line.size());
    unpadded.status = decoder.Decode(std::string_view(buf.get(), line.size()), kLineNumber,
                                     /*padded=*/false, &unpadded.event);
  }
  Result padded;
  {
    // Exactly kPadding readable bytes after the line.
    std::unique_ptr<char[]> buf(new char[line.size() + kPadding]);
    std::memcpy(buf.get(), line.data(), line.size());
    std::memcpy(buf.get() + line.size(), padding.data(), kPadding);
    std::shared_ptr<Event> recycled = decoder.NewEvent();
    if (!decoder.Decode(kFullLine, 1, /*padded=*/false, recycled.get()).ok()) {
      Fail("the full line does not decode", kFullLine, "", unpadded, unpadded);
    }
    padded.status = decoder.Decode(std::string_view(buf.get(), line.size()), kLineNumber,
                                   /*padded=*/true, recycled.get());
    padded.event = *recycled;
  }
  if (unpadded.status != padded.status) {
    Fail("padded and unpadded statuses differ", line, line, unpadded, padded);
  }
  if (unpadded.status.ok() &&
      (!SameValues(unpadded.event, padded.event) || unpadded.event.raw != padded.event.raw ||
       unpadded.event.seq != padded.event.seq || unpadded.event.stream != padded.event.stream)) {
    Fail("padded and unpadded events differ", line, line, unpadded, padded);
  }
  CheckInvariants(line, unpadded);
  return unpadded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vigil::engine::EventDecoder decoder(TxnStream(), kStreamIndex);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view line = input.substr(0, nl);

  // The padding: whatever follows the line, repeated; or a pattern that would extend a
  // string, a number or an object if the decoder read it.
  std::string padding;
  std::string_view rest = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  if (rest.empty()) rest = "\"1}e5\\";
  while (padding.size() < kPadding) padding.append(rest);
  padding.resize(kPadding);

  Result fast = DecodeBothWays(decoder, line, padding);

  // The simdjson variant: `"geo":null,` after the opening brace. `{}` and `{ }` are left out:
  // `{"geo":null,}` is not JSON.
  size_t brace = 0;
  while (brace < line.size() &&
         (line[brace] == ' ' || line[brace] == '\t' || line[brace] == '\r')) {
    ++brace;
  }
  if (brace >= line.size() || line[brace] != '{') return 0;
  size_t next = brace + 1;
  while (next < line.size() && (line[next] == ' ' || line[next] == '\t' || line[next] == '\r')) {
    ++next;
  }
  if (next < line.size() && line[next] == '}') return 0;
  std::string slow_line;
  slow_line.reserve(line.size() + 11);
  slow_line.append(line.substr(0, brace + 1));
  slow_line.append(R"("geo":null,)");
  slow_line.append(line.substr(brace + 1));
  Result slow = DecodeBothWays(decoder, slow_line, padding);

  if (fast.status.ok() != slow.status.ok()) {
    Fail("fast path and simdjson disagree on ok vs error", line, slow_line, fast, slow);
  }
  if (!fast.status.ok()) {
    // simdjson's own message may differ between the two texts; anything else must not.
    bool fast_invalid = fast.status.message().find("invalid JSON") != std::string_view::npos;
    bool slow_invalid = slow.status.message().find("invalid JSON") != std::string_view::npos;
    if (fast_invalid != slow_invalid ||
        (!fast_invalid && fast.status.message() != slow.status.message())) {
      Fail("fast path and simdjson give different errors", line, slow_line, fast, slow);
    }
    return 0;
  }
  if (!SameValues(fast.event, slow.event)) {
    Fail("fast path and simdjson decode different values", line, slow_line, fast, slow);
  }
  return 0;
}
