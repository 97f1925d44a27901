#include "engine/state/checkpoint_dir.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <system_error>

#include "engine/state/codec.h"
#include "engine/state/file_util.h"

namespace vigil::engine::state::internal {
namespace fs = std::filesystem;
namespace {

constexpr uint32_t kMarkerMagic = 0x4B484356;  // "VCHK"
constexpr uint32_t kMarkerVersion = 1;
constexpr std::string_view kMarkerName = "_metadata";

std::optional<uint64_t> ParseChkName(std::string_view name) {
  if (name.substr(0, 4) != "chk-" || name.size() == 4) return std::nullopt;
  uint64_t id = 0;
  auto [ptr, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), id);
  if (ec != std::errc() || ptr != name.data() + name.size()) return std::nullopt;
  return id;
}

}  // namespace

std::string CheckpointDir::PathOf(uint64_t id) const {
  return root_ + "/chk-" + std::to_string(id);
}

absl::Status CheckpointDir::Init() const { return MakeDirs(root_); }

absl::StatusOr<RestoredCheckpoint> CheckpointDir::ReadMarker(uint64_t id,
                                                             std::string_view kind) const {
  VIGIL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(PathOf(id) + "/" + std::string(kMarkerName)));
  if (bytes.size() < 4) return absl::DataLossError("checkpoint marker too short");
  Decoder crc_dec(std::string_view(bytes).substr(bytes.size() - 4));
  uint32_t crc;
  VIGIL_RETURN_IF_ERROR(crc_dec.Fixed32(&crc));
  std::string_view body = std::string_view(bytes).substr(0, bytes.size() - 4);
  if (Crc32c(body) != crc) {
    return absl::DataLossError("checkpoint " + std::to_string(id) + ": marker checksum mismatch");
  }
  Decoder d(body);
  uint32_t magic, version;
  std::string backend_kind;
  RestoredCheckpoint out;
  VIGIL_RETURN_IF_ERROR(d.Fixed32(&magic));
  VIGIL_RETURN_IF_ERROR(d.U32(&version));
  if (magic != kMarkerMagic || version != kMarkerVersion) {
    return absl::DataLossError("checkpoint marker: bad magic or version");
  }
  VIGIL_RETURN_IF_ERROR(d.Str(&backend_kind));
  VIGIL_RETURN_IF_ERROR(d.U64(&out.id));
  VIGIL_RETURN_IF_ERROR(d.Str(&out.metadata));
  VIGIL_RETURN_IF_ERROR(d.ExpectDone());
  if (out.id != id) return absl::DataLossError("checkpoint marker: id mismatch");
  if (backend_kind != kind) {
    return absl::DataLossError("checkpoint " + std::to_string(id) + " was written by the '" +
                               backend_kind + "' backend, not '" + std::string(kind) + "'");
  }
  return out;
}

absl::Status CheckpointDir::WriteMarker(uint64_t id, std::string_view kind,
                                        const std::string& metadata) const {
  Encoder e;
  e.Fixed32(kMarkerMagic);
  e.U32(kMarkerVersion);
  e.Str(kind);
  e.U64(id);
  e.Str(metadata);
  e.Fixed32(Crc32c(e.buffer()));
  VIGIL_RETURN_IF_ERROR(WriteFileAtomic(PathOf(id) + "/" + std::string(kMarkerName), e.buffer()));
  return WriteFileAtomic(root_ + "/CURRENT_CHECKPOINT", std::to_string(id) + "\n");
}

absl::StatusOr<std::vector<uint64_t>> CheckpointDir::ListComplete() const {
  std::vector<uint64_t> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    auto id = ParseChkName(entry.path().filename().string());
    if (!id || !entry.is_directory()) continue;
    if (Exists(PathOf(*id) + "/" + std::string(kMarkerName))) ids.push_back(*id);
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return ErrnoStatus(ec.value(), "list", root_);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::Status CheckpointDir::RemoveIncomplete() const {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "CURRENT_CHECKPOINT") continue;
    auto id = ParseChkName(name);
    if (id && entry.is_directory() && Exists(PathOf(*id) + "/" + std::string(kMarkerName))) {
      continue;
    }
    doomed.push_back(entry.path());
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return ErrnoStatus(ec.value(), "list", root_);
  }
  for (const auto& p : doomed) VIGIL_RETURN_IF_ERROR(RemoveAll(p.string()));
  return absl::OkStatus();
}

void CheckpointDir::Retain(int keep) const {
  auto ids = ListComplete();
  if (!ids.ok() || static_cast<int>(ids->size()) <= keep) return;
  const size_t drop = ids->size() - static_cast<size_t>(std::max(keep, 1));
  for (size_t i = 0; i < drop; ++i) {
    // Remove the marker first so a crash mid-delete leaves an incomplete (ignored) folder.
    const std::string dir = PathOf((*ids)[i]);
    std::error_code ec;
    fs::remove(dir + "/" + std::string(kMarkerName), ec);
    (void)RemoveAll(dir);
  }
}

absl::Status CheckpointDir::CheckNewId(uint64_t id) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, ListComplete());
  if (!ids.empty() && id <= ids.back()) {
    return absl::FailedPreconditionError("checkpoint id " + std::to_string(id) +
                                         " is not above the latest complete checkpoint " +
                                         std::to_string(ids.back()));
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine::state::internal
