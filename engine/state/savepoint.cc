#include "engine/state/savepoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "engine/state/codec.h"
#include "engine/state/file_util.h"

namespace vigil::engine::state {
namespace {

constexpr std::string_view kMagic = "VIGILSP1";
constexpr uint32_t kVersion = 1;
constexpr char kHeaderBlock = 1;
constexpr char kEntriesBlock = 2;
constexpr char kEndBlock = 3;
constexpr size_t kTargetBlockBytes = 1 << 20;

absl::Status Corrupt(const std::string& path, std::string_view why) {
  return absl::DataLossError("savepoint " + path + ": " + std::string(why));
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return internal::ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Reads exactly n bytes; false at a clean or unclean end of file.
absl::StatusOr<bool> ReadExactly(std::FILE* f, size_t n, std::string* out,
                                 const std::string& path) {
  out->resize(n);
  size_t got = n == 0 ? 0 : std::fread(out->data(), 1, n, f);
  if (got == n) return true;
  if (std::ferror(f)) return internal::ErrnoStatus(errno, "read", path);
  return false;
}

}  // namespace

KeyFilter KeyGroupFilter(KeyGroupRange range) {
  return [range](std::string_view key) {
    auto kg = KeyGroupOf(key);
    return !kg || range.Contains(*kg);
  };
}

absl::StatusOr<std::unique_ptr<SavepointWriter>> SavepointWriter::Create(
    const std::string& path, std::string_view backend_name, std::string_view metadata) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return internal::ErrnoStatus(errno, "open", tmp);
  std::unique_ptr<SavepointWriter> w(new SavepointWriter(path, fd));
  VIGIL_RETURN_IF_ERROR(WriteAll(fd, kMagic, tmp));
  Encoder e(&w->block_);
  e.U32(kVersion);
  e.Str(backend_name);
  e.Str(metadata);
  VIGIL_RETURN_IF_ERROR(w->FlushBlock(kHeaderBlock));
  return w;
}

SavepointWriter::~SavepointWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink((path_ + ".tmp").c_str());
}

absl::Status SavepointWriter::FlushBlock(char kind) {
  std::string payload;
  payload.reserve(block_.size() + 11);
  payload.push_back(kind);
  if (kind == kEntriesBlock) {
    Encoder(&payload).U64(block_entries_);
  }
  payload.append(block_);
  std::string frame;
  Encoder e(&frame);
  e.Fixed32(static_cast<uint32_t>(payload.size()));
  e.Fixed32(Crc32c(payload));
  frame.append(payload);
  block_.clear();
  block_entries_ = 0;
  return WriteAll(fd_, frame, path_ + ".tmp");
}

absl::Status SavepointWriter::Add(std::string_view key, std::string_view value) {
  Encoder e(&block_);
  e.Str(key);
  e.Str(value);
  ++block_entries_;
  ++total_;
  if (block_.size() >= kTargetBlockBytes) return FlushBlock(kEntriesBlock);
  return absl::OkStatus();
}

absl::Status SavepointWriter::Finish() {
  const std::string tmp = path_ + ".tmp";
  if (block_entries_ > 0) VIGIL_RETURN_IF_ERROR(FlushBlock(kEntriesBlock));
  Encoder(&block_).U64(total_);
  VIGIL_RETURN_IF_ERROR(FlushBlock(kEndBlock));
  if (::fsync(fd_) != 0) return internal::ErrnoStatus(errno, "fsync", tmp);
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return internal::ErrnoStatus(errno, "close", tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return internal::ErrnoStatus(errno, "rename", tmp);
  }
  finished_ = true;
  std::string parent = std::filesystem::path(path_).parent_path().string();
  return internal::SyncDir(parent.empty() ? "." : parent);
}

absl::StatusOr<SavepointHeader> ReadSavepoint(
    const std::string& path,
    const std::function<absl::Status(std::string_view key, std::string_view value)>& fn) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) return internal::ErrnoStatus(errno, "open", path);
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  std::fseek(f, 0, SEEK_END);
  const long file_size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);

  std::string buf;
  VIGIL_ASSIGN_OR_RETURN(bool ok, ReadExactly(f, kMagic.size(), &buf, path));
  if (!ok || buf != kMagic) return Corrupt(path, "not a savepoint (bad magic)");

  SavepointHeader header;
  bool have_header = false;
  uint64_t total = 0;
  std::string last_key;
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(ok, ReadExactly(f, 8, &buf, path));
    if (!ok) return Corrupt(path, "truncated (no end block)");
    Decoder fd(buf);
    uint32_t len, crc;
    VIGIL_RETURN_IF_ERROR(fd.Fixed32(&len));
    VIGIL_RETURN_IF_ERROR(fd.Fixed32(&crc));
    if (len == 0 || static_cast<long>(len) > file_size - std::ftell(f)) {
      return Corrupt(path, "block length beyond end of file");
    }
    VIGIL_ASSIGN_OR_RETURN(ok, ReadExactly(f, len, &buf, path));
    if (!ok) return Corrupt(path, "truncated block");
    if (Crc32c(buf) != crc) return Corrupt(path, "block checksum mismatch");
    const char kind = buf[0];
    Decoder d(std::string_view(buf).substr(1));
    if (!have_header) {
      if (kind != kHeaderBlock) return Corrupt(path, "missing header");
      uint32_t version;
      VIGIL_RETURN_IF_ERROR(d.U32(&version));
      if (version != kVersion) return Corrupt(path, "unsupported version");
      VIGIL_RETURN_IF_ERROR(d.Str(&header.backend));
      VIGIL_RETURN_IF_ERROR(d.Str(&header.metadata));
      VIGIL_RETURN_IF_ERROR(d.ExpectDone());
      have_header = true;
      continue;
    }
    if (kind == kEntriesBlock) {
      uint64_t n;
      VIGIL_RETURN_IF_ERROR(d.U64(&n));
      for (uint64_t i = 0; i < n; ++i) {
        std::string_view key, value;
        VIGIL_RETURN_IF_ERROR(d.StrView(&key));
        VIGIL_RETURN_IF_ERROR(d.StrView(&value));
        if (total > 0 && key <= last_key) return Corrupt(path, "keys out of order");
        last_key.assign(key);
        ++total;
        if (fn) VIGIL_RETURN_IF_ERROR(fn(key, value));
      }
      VIGIL_RETURN_IF_ERROR(d.ExpectDone());
    } else if (kind == kEndBlock) {
      uint64_t n;
      VIGIL_RETURN_IF_ERROR(d.U64(&n));
      VIGIL_RETURN_IF_ERROR(d.ExpectDone());
      if (n != total) return Corrupt(path, "entry count mismatch");
      if (std::ftell(f) != file_size) return Corrupt(path, "bytes after the end block");
      return header;
    } else {
      return Corrupt(path, "unknown block kind");
    }
  }
}

absl::Status WriteSavepoint(StateBackend& backend, const std::string& path,
                            const std::string& metadata) {
  VIGIL_ASSIGN_OR_RETURN(auto writer, SavepointWriter::Create(path, backend.name(), metadata));
  absl::Status add_status;
  VIGIL_RETURN_IF_ERROR(backend.Scan("", [&](std::string_view k, std::string_view v) {
    add_status = writer->Add(k, v);
    return add_status.ok();
  }));
  VIGIL_RETURN_IF_ERROR(add_status);
  return writer->Finish();
}

absl::StatusOr<std::string> RestoreSavepoint(StateBackend& backend, const std::string& path,
                                             const KeyFilter& filter) {
  // Validate everything first so a corrupt file never half-replaces the live state.
  VIGIL_RETURN_IF_ERROR(ReadSavepoint(path, nullptr).status());
  VIGIL_RETURN_IF_ERROR(backend.Clear());
  WriteBatch batch;
  size_t batch_bytes = 0;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    absl::Status st = backend.Write(batch);
    batch = WriteBatch();
    batch_bytes = 0;
    return st;
  };
  VIGIL_ASSIGN_OR_RETURN(
      SavepointHeader header,
      ReadSavepoint(path, [&](std::string_view k, std::string_view v) -> absl::Status {
        if (filter && !filter(k)) return absl::OkStatus();
        batch.Put(std::string(k), std::string(v));
        batch_bytes += k.size() + v.size();
        if (batch_bytes >= (4u << 20)) return flush();
        return absl::OkStatus();
      }));
  VIGIL_RETURN_IF_ERROR(flush());
  return std::move(header.metadata);
}

}  // namespace vigil::engine::state
