#include "core/codec.h"

#include <array>
#include <cstring>

namespace vigil {
namespace {

absl::Status Truncated(std::string_view what) {
  return absl::DataLossError(std::string("state codec: truncated or malformed ") +
                             std::string(what));
}

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

}  // namespace

void Encoder::U64(uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out_->append(buf, n);
}

void Encoder::I64(int64_t v) {
  U64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Encoder::F64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  Fixed64(bits);
}

void Encoder::Fixed32(uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out_->append(buf, 4);
}

void Encoder::Fixed64(uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out_->append(buf, 8);
}

void Encoder::Str(std::string_view s) {
  U64(s.size());
  out_->append(s);
}

void Encoder::Val(const Value& v) {
  out_->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case Type::kNull:
      break;
    case Type::kBool:
      out_->push_back(v.as_bool() ? 1 : 0);
      break;
    case Type::kInt:
    case Type::kTimestamp:
      I64(v.as_int());
      break;
    case Type::kFloat:
      F64(v.as_float());
      break;
    case Type::kString:
      Str(v.as_string());
      break;
  }
}

void Encoder::Ev(const Event& e) {
  U64(e.values.size());
  for (const Value& v : e.values) Val(v);
  Str(e.raw);
  I64(e.time.ms);
  U64(e.seq);
  U32(e.stream);
}

absl::Status Decoder::U64(uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) return Truncated("varint");
    const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
    // The 10th byte may only contribute the top bit.
    if (shift == 63 && b > 1) return Truncated("varint (overflow)");
    v |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return absl::OkStatus();
    }
  }
  return Truncated("varint (too long)");
}

absl::Status Decoder::U32(uint32_t* out) {
  uint64_t v;
  VIGIL_RETURN_IF_ERROR(U64(&v));
  if (v > UINT32_MAX) return Truncated("u32 (out of range)");
  *out = static_cast<uint32_t>(v);
  return absl::OkStatus();
}

absl::Status Decoder::I64(int64_t* out) {
  uint64_t v;
  VIGIL_RETURN_IF_ERROR(U64(&v));
  *out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  return absl::OkStatus();
}

absl::Status Decoder::Bool(bool* out) {
  uint64_t v;
  VIGIL_RETURN_IF_ERROR(U64(&v));
  if (v > 1) return Truncated("bool");
  *out = v == 1;
  return absl::OkStatus();
}

absl::Status Decoder::F64(double* out) {
  uint64_t bits;
  VIGIL_RETURN_IF_ERROR(Fixed64(&bits));
  std::memcpy(out, &bits, sizeof bits);
  return absl::OkStatus();
}

absl::Status Decoder::Fixed32(uint32_t* out) {
  std::string_view b;
  VIGIL_RETURN_IF_ERROR(Raw(4, &b));
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(b[i])} << (8 * i);
  *out = v;
  return absl::OkStatus();
}

absl::Status Decoder::Fixed64(uint64_t* out) {
  std::string_view b;
  VIGIL_RETURN_IF_ERROR(Raw(8, &b));
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(b[i])} << (8 * i);
  *out = v;
  return absl::OkStatus();
}

absl::Status Decoder::StrView(std::string_view* out) {
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(U64(&n));
  if (n > remaining()) return Truncated("string (length beyond input)");
  return Raw(static_cast<size_t>(n), out);
}

absl::Status Decoder::Str(std::string* out) {
  std::string_view v;
  VIGIL_RETURN_IF_ERROR(StrView(&v));
  out->assign(v);
  return absl::OkStatus();
}

absl::Status Decoder::Raw(size_t n, std::string_view* out) {
  if (n > remaining()) return Truncated("bytes");
  *out = in_.substr(pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Decoder::Val(Value* out) {
  std::string_view tag;
  VIGIL_RETURN_IF_ERROR(Raw(1, &tag));
  switch (static_cast<Type>(static_cast<uint8_t>(tag[0]))) {
    case Type::kNull:
      *out = Value::Null();
      return absl::OkStatus();
    case Type::kBool: {
      std::string_view b;
      VIGIL_RETURN_IF_ERROR(Raw(1, &b));
      if (b[0] != 0 && b[0] != 1) return Truncated("bool value");
      *out = Value::Bool(b[0] == 1);
      return absl::OkStatus();
    }
    case Type::kInt: {
      int64_t i;
      VIGIL_RETURN_IF_ERROR(I64(&i));
      *out = Value::Int(i);
      return absl::OkStatus();
    }
    case Type::kTimestamp: {
      int64_t i;
      VIGIL_RETURN_IF_ERROR(I64(&i));
      *out = Value::Timestamp(EventTime(i));
      return absl::OkStatus();
    }
    case Type::kFloat: {
      double f;
      VIGIL_RETURN_IF_ERROR(F64(&f));
      *out = Value::Float(f);
      return absl::OkStatus();
    }
    case Type::kString: {
      std::string s;
      VIGIL_RETURN_IF_ERROR(Str(&s));
      *out = Value::String(std::move(s));
      return absl::OkStatus();
    }
  }
  return Truncated("value (unknown type tag)");
}

absl::Status Decoder::Ev(Event* out) {
  uint64_t n;
  VIGIL_RETURN_IF_ERROR(U64(&n));
  if (n > remaining()) return Truncated("event (value count beyond input)");  // >= 1 byte each
  out->values.clear();
  out->values.resize(static_cast<size_t>(n));
  for (Value& v : out->values) VIGIL_RETURN_IF_ERROR(Val(&v));
  VIGIL_RETURN_IF_ERROR(Str(&out->raw));
  VIGIL_RETURN_IF_ERROR(I64(&out->time.ms));
  VIGIL_RETURN_IF_ERROR(U64(&out->seq));
  return U32(&out->stream);
}

absl::Status Decoder::ExpectDone() const {
  if (!done()) return absl::DataLossError("state codec: trailing bytes after the last item");
  return absl::OkStatus();
}

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  crc = ~crc;
  for (char ch : data) crc = kCrcTable[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

}  // namespace vigil
