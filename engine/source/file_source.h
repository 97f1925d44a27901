#pragma once
// The `file` and `stdin` sources (language.md §2 `from file(path ...)`, `from stdin`; cli.md
// `--input STREAM=PATH`, `-` = standard input): JSON Lines read by a JsonlSource, one
// partition, seq = the 1-based line number, Position = byte offset and line count.
//
// Never blocks in Poll(): a pipe or standard input with nothing to read, or a followed file
// (`--follow`, like `tail -f`) at its current end, returns kWait; the job then waits on
// wait_fd() (pipes) or polls again on its tick (followed files, whose descriptor is always
// readable). Lines returned by one Poll() are views into the reader's buffer, all valid until
// the next Poll() (no copy).
//
// With watermark lines enabled (SetWatermarkLines), a line that starts like
// `{"$watermark"` is returned as an explicit watermark record (SourceRecord::watermark),
// parsed by watermark_line.h; other lines cost one comparison more.
//
// Thread-compatible.
#include <memory>
#include <string>

#include "engine/source/jsonl_source.h"
#include "engine/source/source.h"

namespace vigil::engine {

class FileSource final : public Source {
 public:
  // Opens `path` ("-" = standard input). Errors as JsonlSource::Open.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path,
                                                          bool follow = false);
  explicit FileSource(std::unique_ptr<JsonlSource> reader);

  const std::string& name() const override { return reader_->name(); }
  int partitions() const override { return 1; }
  absl::StatusOr<PollState> Poll(size_t max_records, std::vector<SourceRecord>* out) override;
  int wait_fd() const override { return reader_->following() ? -1 : reader_->fd(); }
  bool bounded() const override { return !reader_->following(); }
  bool live() const override { return !reader_->seekable() || reader_->following(); }
  bool caught_up(int partition) const override { return waiting_; }
  std::string Position() const override;
  // Errors: Unimplemented for pipes and standard input (they cannot rewind); DataLoss for a
  // malformed position; Internal if lseek fails.
  absl::Status Seek(std::string_view position) override;
  RecordOrigin Origin(const SourceRecord& r) const override { return {{}, -1, r.seq}; }

  // `{"$watermark": T}` lines are explicit watermarks, not events (off by default, so that
  // ordinary data with a `$watermark` key is never misread).
  void SetWatermarkLines(bool on) { watermark_lines_ = on; }
  bool watermark_lines() const { return watermark_lines_; }

  // The reader's byte/line offset (tests, and the legacy checkpoint format).
  SourceOffset offset() const { return reader_->offset(); }

 private:
  std::unique_ptr<JsonlSource> reader_;
  bool waiting_ = false;  // the last Poll found no data (a live input at its current end)
  bool watermark_lines_ = false;
};

}  // namespace vigil::engine
