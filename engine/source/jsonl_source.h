#pragma once
// JSON Lines input: a file or standard input read in large blocks, split into lines.
//
// A line is handed out as a view into the source's own buffer, valid until the next call to
// Next(). The buffer always holds at least kLinePadding readable bytes after the end of the
// returned line, so a simdjson parser may parse the line in place (simdjson requires
// SIMDJSON_PADDING bytes of readable padding; their contents do not matter).
//
// Offsets (for checkpoints, a later issue): offset() is the position just after the last line
// returned; Seek() on a file restarts reading from a position previously reported by
// offset(). Standard input cannot seek.
//
// Thread-compatible: one thread at a time.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::engine {

// A position in a line-oriented input: the byte offset of the next unread line and the
// number of lines (including empty ones) before it.
struct SourceOffset {
  uint64_t byte = 0;
  uint64_t line = 0;
  friend bool operator==(const SourceOffset&, const SourceOffset&) = default;
};

struct SourceLine {
  std::string_view text;     // without the line terminator ("\n" or "\r\n"); never empty
  uint64_t byte_offset = 0;  // of the first byte of the line in the input
  uint64_t line_number = 0;  // 1-based physical line number (empty lines count)
};

class JsonlSource {
 public:
  // Bytes of readable padding guaranteed after every returned line (>= SIMDJSON_PADDING).
  static constexpr size_t kLinePadding = 64;
  static constexpr size_t kDefaultBlockSize = 1 << 20;

  // Opens `path` for reading; "-" is standard input (not owned: never closed).
  // Errors: NotFound / PermissionDenied / Internal with the path and strerror.
  static absl::StatusOr<std::unique_ptr<JsonlSource>> Open(const std::string& path,
                                                           size_t block_size = kDefaultBlockSize);
  // Reads from an already open descriptor (tests); `own` closes it on destruction.
  JsonlSource(int fd, std::string name, bool own, size_t block_size = kDefaultBlockSize);
  ~JsonlSource();
  JsonlSource(const JsonlSource&) = delete;
  JsonlSource& operator=(const JsonlSource&) = delete;

  // The next non-blank line. Returns true and fills *line, or false at the end of the input.
  // Blank lines (empty or only spaces, tabs and '\r') are skipped silently: they are not
  // events. A final line without a newline is returned like any other. A trailing '\r' is
  // stripped. Errors: Internal on a read error (with the path and strerror).
  absl::StatusOr<bool> Next(SourceLine* line);

  // Like Next(), but only returns a line that is already complete in the buffer (or the
  // final line at the end of input): it never reads, so lines returned by earlier calls stay
  // valid. Returns false when the next line needs more data (then call Next()).
  bool NextBuffered(SourceLine* line);

  // Position just after the last returned line (or the start).
  SourceOffset offset() const { return offset_; }
  // Continues reading at `off` (as returned by offset()). Errors: Unimplemented on pipes and
  // standard input; Internal if lseek fails.
  absl::Status Seek(SourceOffset off);

  // Called before each read(2) of an input that is not a regular file (a pipe, a terminal,
  // standard input), where the read may block: the hook may wait (e.g. poll(2) on `fd` while
  // doing other work) and returns OK to go on reading; an error aborts Next() with it. The
  // line returned by the previous Next() is no longer needed when the hook runs.
  void SetWaitHook(std::function<absl::Status(int fd)> hook) { wait_hook_ = std::move(hook); }
  // False for pipes, terminals and standard input (unless redirected from a file).
  bool seekable() const { return regular_; }

  // Follow a regular file like `tail -f`: at its end the input does not end; Fill() calls the
  // wait hook (or sleeps briefly without one) and reads again, so lines appended later are
  // returned. A partial last line stays buffered until its newline arrives. No effect on
  // inputs that are not regular files. The source stays seekable.
  void SetFollow(bool follow) { follow_ = follow; }
  // A regular file being followed.
  bool following() const { return follow_ && regular_; }
  // For a followed file: the file has grown past what has been read (fstat size > read
  // position). True on an fstat error (the next read reports it).
  bool HasNewData() const;

  // The descriptor read (for poll(2) by a caller waiting on several inputs).
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  bool at_end() const { return eof_ && begin_ == end_; }

 private:
  // Reads more data, compacting or growing the buffer. Returns false at end of input.
  absl::StatusOr<bool> Fill();

  int fd_ = -1;
  std::string name_;
  bool own_ = false;
  size_t block_size_;
  std::vector<char> buf_;  // data in [begin_, end_), plus kLinePadding spare bytes
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  SourceOffset offset_;
  bool regular_ = false;
  bool follow_ = false;
  uint64_t read_pos_ = 0;  // file position of end_ (followed files)
  std::function<absl::Status(int fd)> wait_hook_;
};

}  // namespace vigil::engine
