#include "engine/state/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace vigil::engine::state::internal {
namespace fs = std::filesystem;

absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  std::string msg = std::string(op) + " " + std::string(path) + ": " + std::strerror(err);
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == ENOSPC) return absl::ResourceExhaustedError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

namespace {

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string ParentOf(const std::string& path) {
  fs::path p(path);
  std::string parent = p.parent_path().string();
  return parent.empty() ? "." : parent;
}

}  // namespace

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync", dir);
  return absl::OkStatus();
}

absl::Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync", path);
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", tmp);
  absl::Status st = WriteAll(fd, data, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus(errno, "fsync", tmp);
  if (::close(fd) != 0 && st.ok()) st = ErrnoStatus(errno, "close", tmp);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = ErrnoStatus(errno, "rename", tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDir(ParentOf(path));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "mkdir", dir);
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return ErrnoStatus(ec.value(), "remove", path);
  return absl::OkStatus();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::Status CopyDir(const std::string& src, const std::string& dst,
                     bool (*link_ok)(std::string_view name), bool (*skip)(std::string_view name)) {
  std::error_code ec;
  if (!fs::create_directory(dst, ec) || ec) {
    return ErrnoStatus(ec ? ec.value() : EEXIST, "mkdir", dst);
  }
  for (const auto& entry : fs::directory_iterator(src, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (skip != nullptr && skip(name)) continue;
    const std::string from = entry.path().string();
    const std::string to = dst + "/" + name;
    if (link_ok != nullptr && link_ok(name) && ::link(from.c_str(), to.c_str()) == 0) continue;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return ErrnoStatus(ec.value(), "copy", from);
    VIGIL_RETURN_IF_ERROR(SyncFile(to));
  }
  if (ec) return ErrnoStatus(ec.value(), "list", src);
  VIGIL_RETURN_IF_ERROR(SyncDir(dst));
  return SyncDir(ParentOf(dst));
}

}  // namespace vigil::engine::state::internal
