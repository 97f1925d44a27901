#pragma once
// Compact binary encoding of state (never JSON): LEB128 varints, zigzag for signed integers,
// little-endian fixed-width floats and checksums, length-prefixed strings.
//
//   U64/U32/Bool   varint (1..10 bytes)        I64      zigzag varint
//   F64            8 bytes little-endian IEEE  Fixed32/Fixed64  little-endian
//   Str            varint length + bytes
//   Val            1 type byte (vigil::Type) + payload (none | varint | zigzag | F64 | Str)
//   Ev             varint count + Val...  Str raw  I64 time  U64 seq  U32 stream
//
// The format is stable: it is what checkpoints and savepoints hold. Change it only by adding
// a new version in the containers that embed it (savepoint.h, checkpoint_meta.h).
//
// Decoding never trusts its input: every read is bounds-checked, lengths and counts larger
// than the remaining bytes are rejected before allocating, and any malformed input yields
// absl::DataLossError (never a crash, never undefined behaviour).
//
// Encoder and Decoder are thread-compatible (one thread at a time per instance).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"
#include "core/value.h"

namespace vigil {

class Encoder {
 public:
  Encoder() = default;
  // Appends to *out (not owned; must outlive the encoder) instead of an internal buffer.
  explicit Encoder(std::string* out) : out_(out) {}
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  void U64(uint64_t v);
  void U32(uint32_t v) { U64(v); }
  void I64(int64_t v);
  void Bool(bool v) { U64(v ? 1 : 0); }
  void F64(double v);
  void Fixed32(uint32_t v);
  void Fixed64(uint64_t v);
  void Str(std::string_view s);
  void Val(const Value& v);
  void Ev(const Event& e);
  // Appends bytes verbatim (no length prefix).
  void Raw(std::string_view s) { out_->append(s); }

  std::string& buffer() { return *out_; }
  size_t size() const { return out_->size(); }

 private:
  std::string own_;
  std::string* out_ = &own_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  // Each reads one item of the corresponding Encoder method into *out.
  // Errors: DataLoss on truncated or malformed input (*out is then unspecified).
  absl::Status U64(uint64_t* out);
  absl::Status U32(uint32_t* out);
  absl::Status I64(int64_t* out);
  absl::Status Bool(bool* out);
  absl::Status F64(double* out);
  absl::Status Fixed32(uint32_t* out);
  absl::Status Fixed64(uint64_t* out);
  absl::Status Str(std::string* out);
  // A view into the input (valid as long as the input is).
  absl::Status StrView(std::string_view* out);
  absl::Status Val(Value* out);
  absl::Status Ev(Event* out);
  // Reads exactly n bytes verbatim.
  absl::Status Raw(size_t n, std::string_view* out);

  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  // DataLoss unless every byte was consumed (trailing garbage is corruption).
  absl::Status ExpectDone() const;

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start). Used to detect torn or
// corrupted checkpoint and savepoint files.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace vigil
