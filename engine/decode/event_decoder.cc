#include "engine/decode/event_decoder.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/source/jsonl_source.h"
#include "simdjson.h"

namespace vigil::engine {

static_assert(JsonlSource::kLinePadding >= simdjson::SIMDJSON_PADDING);

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

bool ParseRfc3339(std::string_view s, int64_t* ms) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int64_t offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  *ms = secs * 1000 + millis;
  return true;
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
      return "int";
    case element_type::DOUBLE:
      return "float";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "bool";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
    --e;
  return s.substr(b, e - b);
}

}  // namespace

struct EventDecoder::Impl {
  // The schema's JSON paths as a trie; node 0 is the document.
  struct Node {
    std::string key;
    int slot = -1;              // a declared field ends here
    std::vector<int> children;  // node indices
  };

  const cep::StreamDef& stream;
  uint32_t stream_index;
  std::vector<Node> nodes;
  simdjson::dom::parser parser;
  std::string padded;  // copy of unpadded lines

  // Per-call context for messages.
  uint64_t line_number = 0;

  Impl(const cep::StreamDef& s, uint32_t index) : stream(s), stream_index(index) {
    nodes.emplace_back();
    for (size_t slot = 0; slot < s.schema.size(); ++slot) {
      const FieldDef& f = s.schema.field(static_cast<int>(slot));
      std::vector<std::string> path = f.path;
      if (path.empty()) path.push_back(f.name);
      int cur = 0;
      for (const std::string& part : path) {
        int next = -1;
        for (int c : nodes[cur].children) {
          if (nodes[c].key == part) next = c;
        }
        if (next < 0) {
          next = static_cast<int>(nodes.size());
          nodes.push_back(Node{part, -1, {}});
          nodes[cur].children.push_back(next);
        }
        cur = next;
      }
      nodes[cur].slot = static_cast<int>(slot);
    }
  }

  absl::Status Error(std::string_view detail) const {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_number, ": ", std::string(detail)));
  }

  absl::Status FieldError(int slot, std::string_view detail) const {
    return Error(
        absl::StrCat("field '", stream.schema.field(slot).name, "': ", std::string(detail)));
  }

  absl::Status Mismatch(int slot, element_type got) const {
    return FieldError(
        slot, absl::StrCat("expected ", std::string(TypeName(stream.schema.field(slot).type)),
                           ", got ", std::string(JsonTypeName(got))));
  }

  absl::Status Convert(int slot, element v, Value* out) const {
    element_type t = v.type();
    if (t == element_type::NULL_VALUE) {
      *out = Value();
      return absl::OkStatus();
    }
    switch (stream.schema.field(slot).type) {
      case Type::kBool:
        if (t != element_type::BOOL) return Mismatch(slot, t);
        *out = Value::Bool(v.get_bool().value_unsafe());
        return absl::OkStatus();
      case Type::kInt:
        if (t == element_type::INT64) {
          *out = Value::Int(v.get_int64().value_unsafe());
          return absl::OkStatus();
        }
        if (t == element_type::UINT64) return FieldError(slot, "integer out of range for int");
        return Mismatch(slot, t);
      case Type::kFloat:
        if (t == element_type::DOUBLE) {
          *out = Value::Float(v.get_double().value_unsafe());
        } else if (t == element_type::INT64) {
          *out = Value::Float(static_cast<double>(v.get_int64().value_unsafe()));
        } else if (t == element_type::UINT64) {
          *out = Value::Float(static_cast<double>(v.get_uint64().value_unsafe()));
        } else {
          return Mismatch(slot, t);
        }
        return absl::OkStatus();
      case Type::kString:
        if (t != element_type::STRING) return Mismatch(slot, t);
        *out = Value::String(std::string(v.get_string().value_unsafe()));
        return absl::OkStatus();
      case Type::kTimestamp: {
        if (t == element_type::INT64) {
          *out = Value::Timestamp(EventTime(v.get_int64().value_unsafe()));
          return absl::OkStatus();
        }
        if (t == element_type::STRING) {
          std::string_view s = v.get_string().value_unsafe();
          int64_t ms;
          if (!ParseRfc3339(s, &ms)) {
            std::string quoted;
            AppendJsonString(s.substr(0, 64), &quoted);
            return FieldError(slot, absl::StrCat("invalid RFC 3339 timestamp ", quoted));
          }
          *out = Value::Timestamp(EventTime(ms));
          return absl::OkStatus();
        }
        if (t == element_type::UINT64) return FieldError(slot, "timestamp out of range");
        return FieldError(slot, absl::StrCat("expected timestamp (integer milliseconds or "
                                             "RFC 3339 string), got ",
                                             std::string(JsonTypeName(t))));
      }
      case Type::kNull:
        break;
    }
    *out = Value();
    return absl::OkStatus();
  }

  // A path prefix (node) whose value is not an object: the first declared field below it.
  absl::Status ParentError(int node, element_type got) const {
    int n = node;
    while (nodes[n].slot < 0 && !nodes[n].children.empty()) n = nodes[n].children.front();
    return FieldError(nodes[n].slot, absl::StrCat("expected an object at '", nodes[node].key,
                                                  "', got ", std::string(JsonTypeName(got))));
  }

  absl::Status Walk(simdjson::dom::object obj, int node, Event* event) const {
    const Node& parent = nodes[node];
    for (simdjson::dom::key_value_pair kv : obj) {
      int child = -1;
      for (int c : parent.children) {
        if (nodes[c].key == kv.key) {
          child = c;
          break;
        }
      }
      if (child < 0) continue;  // undeclared: kept in raw only
      const Node& n = nodes[child];
      if (n.slot >= 0) {
        VIGIL_RETURN_IF_ERROR(Convert(n.slot, kv.value, &event->values[n.slot]));
      }
      if (!n.children.empty()) {
        element_type t = kv.value.type();
        if (t == element_type::OBJECT) {
          VIGIL_RETURN_IF_ERROR(Walk(kv.value.get_object().value_unsafe(), child, event));
        } else if (t != element_type::NULL_VALUE && n.slot < 0) {
          return ParentError(child, t);
        }
      }
    }
    return absl::OkStatus();
  }
};

EventDecoder::EventDecoder(const cep::StreamDef& stream, uint32_t stream_index)
    : impl_(std::make_unique<Impl>(stream, stream_index)) {}

EventDecoder::~EventDecoder() = default;

absl::Status EventDecoder::Decode(std::string_view line, uint64_t line_number, bool padded,
                                  Event* event) {
  Impl& im = *impl_;
  im.line_number = line_number;
  std::string_view text = Trim(line);
  const char* data = text.data();
  if (!padded) {
    im.padded.assign(text.data(), text.size());
    im.padded.append(simdjson::SIMDJSON_PADDING, ' ');
    data = im.padded.data();
  }
  element doc;
  simdjson::error_code err = im.parser.parse(data, text.size(), false).get(doc);
  if (err) {
    return im.Error(absl::StrCat("invalid JSON: ", simdjson::error_message(err)));
  }
  if (doc.type() != element_type::OBJECT) return im.Error("not a JSON object");
  event->values.assign(im.stream.schema.size(), Value());
  VIGIL_RETURN_IF_ERROR(im.Walk(doc.get_object().value_unsafe(), 0, event));
  int ts = im.stream.event_time_slot;
  if (ts >= 0) {
    const Value& v = event->values[ts];
    if (v.is_null()) {
      return im.Error(
          absl::StrCat("missing event time field '", im.stream.schema.field(ts).name, "'"));
    }
    event->time = EventTime(v.as_int());
  }
  event->raw.assign(text.data(), text.size());
  event->seq = line_number;
  event->stream = im.stream_index;
  return absl::OkStatus();
}

}  // namespace vigil::engine
