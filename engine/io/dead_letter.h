#pragma once
// The dead-letter output (cli.md `--dead-letter`, default standard error): one JSON object per
// line for every invalid event, and for late events of streams without `late to`:
//   {"kind":"invalid","stream":"txn","reason":"line 3: ...","line":3,"input":"<the line>"}
//   {"kind":"late","stream":"txn","time":1000,"watermark":4999,"line":9,"event":{...}}
// Records read from Kafka name their origin as "topic":"txn","partition":2,"offset":1234
// instead of "line".
// and for output records a sink gave up on (after its last retry, a queue overflow, an
// endpoint that rejected them):
//   {"kind":"undeliverable","sink":"hook","reason":"webhook http://...: HTTP 500 after 6
//    attempts","record":{...the record as engine::RecordToJson renders it...}}
// Invalid UTF-8 in an echoed input line or a reason is replaced by U+FFFD so the output stays
// JSON.
//
// Buffered; Flush() writes through. Thread-safe: every method may be called from any thread
// (sinks dead-letter from their delivery threads while the job writes invalid events); a
// mutex keeps each line whole.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"
#include "engine/source/source.h"

namespace vigil::engine {

struct Record;

class DeadLetterWriter {
 public:
  // "" = standard error (flushed after every record so it interleaves with logs). A file is
  // truncated, or with `append` (a restored run: the file was cut back to its checkpointed
  // size) appended to. Errors: Internal when the file cannot be opened (path and strerror).
  static absl::StatusOr<std::unique_ptr<DeadLetterWriter>> Open(const std::string& path,
                                                                bool append = false);
  // Writes into a caller-owned string (tests).
  explicit DeadLetterWriter(std::string* sink);
  ~DeadLetterWriter();

  absl::Status WriteInvalid(std::string_view stream, std::string_view reason,
                            const RecordOrigin& origin, std::string_view input);
  absl::Status WriteLate(std::string_view stream, const Event& e, Watermark wm,
                         const RecordOrigin& origin);
  // A record the sink named `sink` gave up on, with the reason (which must not contain
  // secrets: sinks redact header values before they get here).
  absl::Status WriteUndeliverable(std::string_view sink, std::string_view reason,
                                  const Record& r);
  absl::Status Flush();

  // A regular file: the job records its size at each checkpoint and a restore truncates it
  // back to that size, so that it is exactly-once like the file sinks.
  bool durable() const { return durable_; }
  const std::string& path() const { return path_; }
  // The file's size including everything written so far (after Flush or Sync).
  uint64_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  // Flush, then fsync(2) the file (when durable and anything was written since the last
  // Sync). Errors: Internal with the path and strerror.
  absl::Status Sync();
  // Cuts a durable file back to `bytes` (a restore: what was written after the checkpoint is
  // written again); later records are appended. Errors: Internal with the path and strerror.
  absl::Status TruncateTo(uint64_t bytes);

 private:
  DeadLetterWriter(std::FILE* f, bool own, bool line_buffered, std::string path);
  // Writes line_ and a newline. Caller holds mu_.
  absl::Status Put();
  absl::Status FlushLocked();

  mutable std::mutex mu_;  // guards everything below but the constant file_/own_/path_

  std::FILE* file_ = nullptr;
  bool own_ = false;
  bool line_buffered_ = false;
  std::string path_;
  bool durable_ = false;
  uint64_t bytes_ = 0;
  uint64_t synced_ = 0;
  std::string* string_sink_ = nullptr;
  std::string line_;
};

// Appends `s` as a JSON string, replacing invalid UTF-8 sequences with U+FFFD.
void AppendJsonStringSanitized(std::string_view s, std::string* out);

}  // namespace vigil::engine
