#include "engine/decode/event_decoder.h"

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
        out->SetString(v.get_string().value_unsafe());
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

  // ---- Fast path ----
  // A strict parser for the common case: a flat JSON object whose strings have no escapes
  // and only ASCII, whose numbers fit exactly, and whose declared fields all have the right
  // type. It accepts only text simdjson accepts and decodes it to the same values; on
  // anything else it returns false and Decode takes the simdjson path, which produces the
  // error messages.
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  static void SkipSpace(const char*& p, const char* end) {
    while (p < end && static_cast<unsigned char>(*p) <= ' ' && IsSpace(*p)) ++p;
  }

  // After a scalar: whitespace or a structural character must follow.
  static bool Terminated(const char* p, const char* end) {
    return p < end && (IsSpace(*p) || *p == ',' || *p == '}');
  }

  // *p is past the opening quote; on success *p is past the closing quote. Reads up to 15
  // bytes past `end` (the text is padded).
  static bool FastString(const char*& p, const char* end, std::string_view* out) {
    const char* start = p;
#if !defined(__SSE2__)
    for (; p < end; ++p) {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      if (c == '"') {
        *out = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        return true;
      }
    }
    return false;
#else
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (p < end) {
      __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      // Signed compare: bytes below 0x20 and bytes of 0x80 and above (non-ASCII) both hit.
      __m128i hit =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, quote), _mm_cmpeq_epi8(c, backslash)),
                       _mm_cmplt_epi8(c, space));
      unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
      if (mask != 0) {
        p += __builtin_ctz(mask);
        if (p >= end || *p != '"') return false;
        *out = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        return true;
      }
      p += 16;
    }
    return false;
#endif
  }

  enum class FastKind { kNull, kBool, kInt, kDouble, kString };
  struct FastValue {
    FastKind kind;
    bool b = false;
    int64_t i = 0;
    double d = 0;
    std::string_view s;
  };

  static bool FastNumber(const char*& p, const char* end, FastValue* v) {
    const char* start = p;
    bool neg = false;
    if (*p == '-') {
      neg = true;
      ++p;
    }
    if (p >= end || *p < '0' || *p > '9') return false;
    const char* digits = p;
    uint64_t x = 0;
    if (*p == '0') {
      ++p;
      if (neg) return false;  // -0 and -0.x: left to simdjson
    } else {
      // Wraps on more than 19 digits; then unused (more than 18 digits is left to simdjson).
      while (p < end && *p >= '0' && *p <= '9') x = x * 10 + static_cast<unsigned>(*p++ - '0');
    }
    size_t int_digits = static_cast<size_t>(p - digits);
    bool is_float = false;
    if (p < end && *p == '.') {
      is_float = true;
      ++p;
      const char* f = p;
      while (p < end && *p >= '0' && *p <= '9') ++p;
      if (p == f) return false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      is_float = true;
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      const char* e = p;
      while (p < end && *p >= '0' && *p <= '9') ++p;
      if (p == e) return false;
    }
    if (!Terminated(p, end)) return false;
    if (!is_float) {
      if (int_digits > 18) return false;
      v->kind = FastKind::kInt;
      v->i = neg ? -static_cast<int64_t>(x) : static_cast<int64_t>(x);
      return true;
    }
    if (p - start > 64) return false;
    auto [ptr, ec] = std::from_chars(start, p, v->d);
    if (ec != std::errc() || ptr != p || !std::isfinite(v->d)) return false;
    v->kind = FastKind::kDouble;
    return true;
  }

  // memcmp(...) == 0 for short keys, without the call.
  static bool SameBytes(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

  static bool FastLiteral(const char*& p, const char* end, std::string_view lit) {
    if (static_cast<size_t>(end - p) < lit.size() || std::memcmp(p, lit.data(), lit.size()) != 0)
      return false;
    p += lit.size();
    return Terminated(p, end);
  }

  static bool FastScalar(const char*& p, const char* end, FastValue* v) {
    switch (*p) {
      case '"':
        ++p;
        v->kind = FastKind::kString;
        return FastString(p, end, &v->s);
      case 't':
        v->kind = FastKind::kBool;
        v->b = true;
        return FastLiteral(p, end, "true");
      case 'f':
        v->kind = FastKind::kBool;
        v->b = false;
        return FastLiteral(p, end, "false");
      case 'n':
        v->kind = FastKind::kNull;
        return FastLiteral(p, end, "null");
      default:
        return FastNumber(p, end, v);
    }
  }

  // The same conversion as Convert, for values it accepts; false where Convert would fail.
  bool FastConvert(int slot, const FastValue& v, Value* out) const {
    if (v.kind == FastKind::kNull) {
      out->SetNull();
      return true;
    }
    switch (stream.schema.field(slot).type) {
      case Type::kBool:
        if (v.kind != FastKind::kBool) return false;
        out->SetBool(v.b);
        return true;
      case Type::kInt:
        if (v.kind != FastKind::kInt) return false;
        out->SetInt(v.i);
        return true;
      case Type::kFloat:
        if (v.kind == FastKind::kDouble) {
          out->SetFloat(v.d);
        } else if (v.kind == FastKind::kInt) {
          out->SetFloat(static_cast<double>(v.i));
        } else {
          return false;
        }
        return true;
      case Type::kString:
        if (v.kind != FastKind::kString) return false;
        out->SetString(v.s);
        return true;
      case Type::kTimestamp: {
        if (v.kind == FastKind::kInt) {
          out->SetTimestamp(EventTime(v.i));
          return true;
        }
        int64_t ms;
        if (v.kind != FastKind::kString || !ParseRfc3339(v.s, &ms)) return false;
        out->SetTimestamp(EventTime(ms));
        return true;
      }
      case Type::kNull:
        break;
    }
    out->SetNull();
    return true;
  }

  bool FastWalk(std::string_view text, Event* event) const {
    const char* p = text.data();
    const char* end = p + text.size();
    if (p >= end || *p != '{') return false;
    ++p;
    SkipSpace(p, end);
    if (p < end && *p == '}') return p + 1 == end;
    const Node& root = nodes[0];
    while (true) {
      if (p >= end || *p != '"') return false;
      ++p;
      std::string_view key;
      if (!FastString(p, end, &key)) return false;
      SkipSpace(p, end);
      if (p >= end || *p != ':') return false;
      ++p;
      SkipSpace(p, end);
      if (p >= end) return false;
      FastValue v;
      if (!FastScalar(p, end, &v)) return false;
      for (int c : root.children) {
        const Node& n = nodes[c];
        if (n.key.size() == key.size() && SameBytes(n.key.data(), key.data(), key.size())) {
          if (!n.children.empty()) return false;  // nested paths: simdjson path
          if (n.slot >= 0 && !FastConvert(n.slot, v, &event->values[n.slot])) return false;
          break;
        }
      }
      SkipSpace(p, end);
      if (p >= end) return false;
      if (*p == '}') return p + 1 == end;
      if (*p != ',') return false;
      ++p;
      SkipSpace(p, end);
    }
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

// A free list of events. Each node holds an event and the storage for the shared_ptr
// control block that owns it: the deleter does nothing (the event stays constructed, keeping
// its capacity) and the control block's allocator returns the node when the control block
// itself is released, which is the last access to the node.
//
// A released node first goes to the releasing thread's own cache (up to kThreadCacheNodes),
// and a decoder's Get takes from its thread's cache first: with parallel decoding a worker
// mostly reuses nodes it released itself, whose memory is still in its core's cache, instead
// of writing into memory last touched by another core. Nodes in a cache may belong to any
// pool; a thread's cache gives its nodes back to their pools when the thread ends.
//
// A node is owned (counted) by the pool that created it. When the cache is full, or on a
// thread without one, the node goes back to its pool: onto a lock-free stack (push by CAS;
// the decoder takes the whole stack at once with an exchange, so there is no ABA problem),
// from which Get refills a private list. When the decoder goes away, Orphan marks the stack
// closed; nodes that come back afterwards are deleted, and whoever deletes the pool's last
// node (or Orphan, if none is out) deletes the pool.
class EventDecoder::Pool {
 public:
  struct Node {
    Event event;
    Pool* pool;  // the owner
    Node* next = nullptr;
    alignas(std::max_align_t) unsigned char control_block[64];
  };

  template <typename T>
  struct NodeAllocator {
    using value_type = T;
    explicit NodeAllocator(Node* n) : node(n) {}
    template <typename U>
    NodeAllocator(const NodeAllocator<U>& o) : node(o.node) {}  // NOLINT: rebinding
    T* allocate(size_t n) {
      static_assert(sizeof(T) <= sizeof(Node::control_block));
      static_assert(alignof(T) <= alignof(std::max_align_t));
      if (n != 1) std::abort();
      return reinterpret_cast<T*>(node->control_block);
    }
    void deallocate(T*, size_t) { Release(node); }
    template <typename U>
    bool operator==(const NodeAllocator<U>& o) const {
      return node == o.node;
    }
    Node* node;
  };

  struct KeepEvent {
    void operator()(Event*) const {}
  };

  std::shared_ptr<Event> Get() {
    Node* n = cache_.Take();
    if (n == nullptr) {
      if (local_ == nullptr) local_ = returned_.exchange(nullptr, std::memory_order_acquire);
      n = local_;
      if (n != nullptr) {
        local_ = n->next;
      } else {
        n = new Node;
        n->pool = this;
        live_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    return std::shared_ptr<Event>(&n->event, KeepEvent{}, NodeAllocator<Event>(n));
  }

  // Called by the decoder's destructor.
  void Orphan() {
    Node* list = returned_.exchange(Closed(), std::memory_order_acq_rel);
    DeleteList(local_);
    DeleteList(list);
    local_ = nullptr;
    Unref(this);  // the decoder's reference
  }

 private:
  static constexpr size_t kThreadCacheNodes = 1024;

  // Released nodes kept by one thread for its decoders. Thread-local.
  struct ThreadCache {
    Node* head = nullptr;
    size_t size = 0;
    Node* Take() {
      Node* n = head;
      if (n != nullptr) {
        head = n->next;
        --size;
      }
      return n;
    }
    bool Keep(Node* n) {
      if (size >= kThreadCacheNodes) return false;
      n->next = head;
      head = n;
      ++size;
      return true;
    }
    ~ThreadCache() {
      while (Node* n = Take()) n->pool->Put(n);
    }
  };
  static thread_local ThreadCache cache_;

  static void Release(Node* n) {
    if (!cache_.Keep(n)) n->pool->Put(n);
  }

  // Back to the owner's stack, or deleted once the owner is orphaned.
  void Put(Node* n) {
    // Acquire: seeing Closed() must also show what Orphan did before.
    Node* head = returned_.load(std::memory_order_acquire);
    while (head != Closed()) {
      n->next = head;
      if (returned_.compare_exchange_weak(head, n, std::memory_order_release,
                                          std::memory_order_acquire)) {
        return;
      }
    }
    DeleteNode(n);
  }

  ~Pool() = default;

  static Node* Closed() { return reinterpret_cast<Node*>(alignof(Node)); }

  static void Unref(Pool* p) {
    if (p->live_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;
  }
  static void DeleteNode(Node* n) {
    Pool* p = n->pool;
    delete n;
    Unref(p);
  }
  static void DeleteList(Node* n) {
    while (n != nullptr) {
      Node* next = n->next;
      DeleteNode(n);
      n = next;
    }
  }

  std::atomic<Node*> returned_{nullptr};  // released own nodes, or Closed() once orphaned
  Node* local_ = nullptr;                 // free own nodes, for the decoder's thread
  std::atomic<int64_t> live_{1};          // own nodes not deleted, + 1 until orphaned
};

thread_local EventDecoder::Pool::ThreadCache EventDecoder::Pool::cache_;

EventDecoder::EventDecoder(const cep::StreamDef& stream, uint32_t stream_index)
    : impl_(std::make_unique<Impl>(stream, stream_index)), pool_(new Pool) {}

EventDecoder::~EventDecoder() { pool_->Orphan(); }

std::shared_ptr<Event> EventDecoder::NewEvent() { return pool_->Get(); }

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
  if (event->values.size() == im.stream.schema.size()) {
    for (Value& v : event->values) v.SetNull();
  } else {
    event->values.assign(im.stream.schema.size(), Value());
  }
  if (!im.FastWalk(std::string_view(data, text.size()), event)) {
    for (Value& v : event->values) v.SetNull();
    element doc;
    simdjson::error_code err = im.parser.parse(data, text.size(), false).get(doc);
    if (err) {
      return im.Error(absl::StrCat("invalid JSON: ", simdjson::error_message(err)));
    }
    if (doc.type() != element_type::OBJECT) return im.Error("not a JSON object");
    VIGIL_RETURN_IF_ERROR(im.Walk(doc.get_object().value_unsafe(), 0, event));
  }
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
  event->shard = Event::kNoShard;  // (a recycled event may have been a repartitioned one)
  return absl::OkStatus();
}

}  // namespace vigil::engine
