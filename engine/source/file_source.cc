#include "engine/source/file_source.h"

#include <poll.h>

#include "core/codec.h"
#include "engine/source/watermark_line.h"

namespace vigil::engine {

namespace {
constexpr uint32_t kPositionVersion = 1;
}

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path,
                                                             bool follow) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<JsonlSource> reader, JsonlSource::Open(path));
  reader->SetFollow(follow);
  return std::make_unique<FileSource>(std::move(reader));
}

FileSource::FileSource(std::unique_ptr<JsonlSource> reader) : reader_(std::move(reader)) {
  static_assert(JsonlSource::kLinePadding >= kSourcePadding);
  // Live inputs never block the job: before a read that could wait, the hook checks that data
  // is there (a readable pipe; a followed file that has grown) and otherwise aborts the read
  // with Unavailable, which Poll() turns into kWait. The reader keeps any partial line.
  if (live()) {
    JsonlSource* r = reader_.get();
    reader_->SetWaitHook([r](int fd) -> absl::Status {
      if (r->following()) {
        if (r->HasNewData()) return absl::OkStatus();
        return absl::UnavailableError("no data");
      }
      struct pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, 0);
      if (n != 0) return absl::OkStatus();  // readable, at its end, or an error: read
      return absl::UnavailableError("no data");
    });
  }
}

absl::StatusOr<PollState> FileSource::Poll(size_t max_records, std::vector<SourceRecord>* out) {
  out->clear();
  SourceLine line;
  // Lines already complete in the buffer first: they stay valid together. Only when none is
  // left is the input read (which may move the buffer), and then only before the first line.
  while (out->size() < max_records) {
    if (!reader_->NextBuffered(&line)) {
      if (!out->empty()) break;
      absl::StatusOr<bool> more = reader_->Next(&line);
      if (!more.ok()) {
        if (absl::IsUnavailable(more.status())) {
          waiting_ = true;
          return PollState::kWait;
        }
        return more.status();
      }
      if (!*more) return PollState::kEnd;
    }
    out->push_back(SourceRecord{line.text, 0, line.line_number});
    if (watermark_lines_ && LooksLikeWatermarkLine(line.text)) {
      SourceRecord& r = out->back();
      r.watermark = true;
      r.watermark_error = ParseWatermarkLine(line.text, &r.watermark_ms);
    }
  }
  waiting_ = false;
  return PollState::kData;
}

std::string FileSource::Position() const {
  Encoder enc;
  enc.U32(kPositionVersion);
  enc.U64(reader_->offset().byte);
  enc.U64(reader_->offset().line);
  return std::move(enc.buffer());
}

absl::Status FileSource::Seek(std::string_view position) {
  Decoder dec(position);
  uint32_t version = 0;
  SourceOffset off;
  VIGIL_RETURN_IF_ERROR(dec.U32(&version));
  if (version != kPositionVersion) {
    return absl::DataLossError("input '" + name() + "': unknown position version");
  }
  VIGIL_RETURN_IF_ERROR(dec.U64(&off.byte));
  VIGIL_RETURN_IF_ERROR(dec.U64(&off.line));
  VIGIL_RETURN_IF_ERROR(dec.ExpectDone());
  // A pipe that was checkpointed before it delivered anything has nothing to rewind.
  if (!reader_->seekable() && off.byte == 0) return absl::OkStatus();
  return reader_->Seek(off);
}

}  // namespace vigil::engine
