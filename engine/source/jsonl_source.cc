#include "engine/source/jsonl_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace vigil::engine {

namespace {
bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}
}  // namespace

absl::StatusOr<std::unique_ptr<JsonlSource>> JsonlSource::Open(const std::string& path,
                                                               size_t block_size) {
  if (path == "-") return std::make_unique<JsonlSource>(0, "<stdin>", false, block_size);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = absl::StrCat("cannot open input '", path, "': ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  return std::make_unique<JsonlSource>(fd, path, true, block_size);
}

JsonlSource::JsonlSource(int fd, std::string name, bool own, size_t block_size)
    : fd_(fd), name_(std::move(name)), own_(own), block_size_(block_size < 16 ? 16 : block_size) {
  buf_.resize(block_size_ + kLinePadding);
  struct stat st;
  regular_ = fd_ >= 0 && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  if (regular_) {
    off_t pos = ::lseek(fd_, 0, SEEK_CUR);
    read_pos_ = pos > 0 ? static_cast<uint64_t>(pos) : 0;
  }
}

JsonlSource::~JsonlSource() {
  if (own_ && fd_ >= 0) ::close(fd_);
}

absl::StatusOr<bool> JsonlSource::Fill() {
  if (eof_) return false;
  // Move the partial line to the front; grow when it fills the whole buffer.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t capacity = buf_.size() - kLinePadding;
  if (end_ == capacity) {
    buf_.resize(capacity * 2 + kLinePadding);
    capacity = buf_.size() - kLinePadding;
  }
  if (wait_hook_ && !regular_) VIGIL_RETURN_IF_ERROR(wait_hook_(fd_));
  while (true) {
    ssize_t n = ::read(fd_, buf_.data() + end_, capacity - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      read_pos_ += static_cast<uint64_t>(n);
      return true;
    }
    if (n == 0 && following()) {
      // tail -f: wait for the file to grow, then read again.
      if (wait_hook_) {
        VIGIL_RETURN_IF_ERROR(wait_hook_(fd_));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      continue;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    return absl::InternalError(
        absl::StrCat("cannot read input '", name_, "': ", std::strerror(errno)));
  }
}

absl::StatusOr<bool> JsonlSource::Next(SourceLine* line) {
  while (true) {
    if (NextBuffered(line)) return true;
    if (eof_) return false;
    // The next line is not complete in the buffer: read more (Fill keeps the partial line).
    absl::StatusOr<bool> more = Fill();
    if (!more.ok()) return more.status();
  }
}

bool JsonlSource::NextBuffered(SourceLine* line) {
  while (true) {
    const char* base = buf_.data();
    const void* nl = begin_ < end_ ? std::memchr(base + begin_, '\n', end_ - begin_) : nullptr;
    size_t len;
    size_t consumed;
    if (nl != nullptr) {
      len = static_cast<const char*>(nl) - (base + begin_);
      consumed = len + 1;
    } else if (eof_ && begin_ < end_) {
      len = end_ - begin_;
      consumed = len;
    } else {
      return false;
    }
    std::string_view text(base + begin_, len);
    uint64_t byte_offset = offset_.byte;
    begin_ += consumed;
    offset_.byte += consumed;
    offset_.line += 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty() || IsBlank(text)) continue;
    line->text = text;
    line->byte_offset = byte_offset;
    line->line_number = offset_.line;
    return true;
  }
}

bool JsonlSource::HasNewData() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return true;  // let the read report the error
  return static_cast<uint64_t>(st.st_size) > read_pos_;
}

absl::Status JsonlSource::Seek(SourceOffset off) {
  if (::lseek(fd_, static_cast<off_t>(off.byte), SEEK_SET) < 0) {
    int err = errno;
    if (err == ESPIPE) {
      return absl::UnimplementedError(absl::StrCat("input '", name_, "' cannot seek"));
    }
    return absl::InternalError(
        absl::StrCat("cannot seek input '", name_, "': ", std::strerror(err)));
  }
  begin_ = end_ = 0;
  eof_ = false;
  offset_ = off;
  read_pos_ = off.byte;
  return absl::OkStatus();
}

}  // namespace vigil::engine
