#include "engine/scaleout/changelog.h"

#include "core/codec.h"

namespace vigil::engine::scaleout {

namespace {
constexpr char kClaim = 'C', kPut = 'P', kDelete = 'D', kMarker = 'M';

std::string Tagged(char tag, std::string_view token) {
  std::string out(1, tag);
  Encoder enc(&out);
  enc.Str(token);
  return out;
}
}  // namespace

std::string EncodeClaim(std::string_view token) { return Tagged(kClaim, token); }

std::string EncodePut(std::string_view token, uint64_t checkpoint, std::string_view value) {
  std::string out = Tagged(kPut, token);
  Encoder enc(&out);
  enc.U64(checkpoint);
  enc.Str(value);
  return out;
}

std::string EncodeDelete(std::string_view token, uint64_t checkpoint) {
  std::string out = Tagged(kDelete, token);
  Encoder enc(&out);
  enc.U64(checkpoint);
  return out;
}

std::string EncodeMarker(std::string_view token, uint64_t checkpoint, bool full,
                         std::string_view reader_state) {
  std::string out = Tagged(kMarker, token);
  Encoder enc(&out);
  enc.U64(checkpoint);
  enc.Bool(full);
  enc.Str(reader_state);
  return out;
}

absl::Status ChangelogFold::Add(std::string_view key, std::string_view value) {
  if (value.empty()) return absl::DataLossError("empty changelog record");
  Decoder dec(value.substr(1));
  std::string token;
  VIGIL_RETURN_IF_ERROR(dec.Str(&token));
  const char tag = value[0];
  if (tag == kClaim) {
    VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
    claim_ = std::move(token);
    pending_.clear();  // the previous owner's unmarked changes never happened
    return absl::OkStatus();
  }
  uint64_t checkpoint = 0;
  VIGIL_RETURN_IF_ERROR(dec.U64(&checkpoint));
  const bool current = claim_.has_value() && *claim_ == token;
  switch (tag) {
    case kPut: {
      std::string v;
      VIGIL_RETURN_IF_ERROR(dec.Str(&v));
      VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
      if (current) pending_.push_back({checkpoint, true, std::string(key), std::move(v)});
      return absl::OkStatus();
    }
    case kDelete:
      VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
      if (current) pending_.push_back({checkpoint, false, std::string(key), {}});
      return absl::OkStatus();
    case kMarker: {
      bool full = false;
      std::string reader_state;
      VIGIL_RETURN_IF_ERROR(dec.Bool(&full));
      VIGIL_RETURN_IF_ERROR(dec.Str(&reader_state));
      VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
      if (!current) return absl::OkStatus();
      if (full) result_.state.clear();
      std::vector<Pending> later;
      for (Pending& p : pending_) {
        if (p.checkpoint > checkpoint) {
          later.push_back(std::move(p));
        } else if (p.put) {
          result_.state[p.key] = std::move(p.value);
        } else {
          result_.state.erase(p.key);
        }
      }
      pending_ = std::move(later);
      result_.checkpoint = checkpoint;
      result_.reader_state = std::move(reader_state);
      return absl::OkStatus();
    }
    default:
      return absl::DataLossError("not a changelog record (tag " +
                                 std::to_string(static_cast<unsigned char>(tag)) + ")");
  }
}

ChangelogFold::Result ChangelogFold::Finish() && { return std::move(result_); }

}  // namespace vigil::engine::scaleout
