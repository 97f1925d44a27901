#include "engine/io/dead_letter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/record.h"
#include "simdjson.h"

namespace vigil::engine {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void AppendJsonStringSanitized(std::string_view s, std::string* out) {
  if (simdjson::validate_utf8(s.data(), s.size())) {
    AppendJsonString(s, out);
    return;
  }
  std::string clean;
  clean.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SeqLen(s, i);
    if (n == 0) {
      clean.append("\xEF\xBF\xBD");
      ++i;
    } else {
      clean.append(s.substr(i, n));
      i += n;
    }
  }
  AppendJsonString(clean, out);
}

absl::StatusOr<std::unique_ptr<DeadLetterWriter>> DeadLetterWriter::Open(const std::string& path,
                                                                         bool append) {
  if (path.empty()) {
    return std::unique_ptr<DeadLetterWriter>(new DeadLetterWriter(stderr, false, true, "<stderr>"));
  }
  std::FILE* f = std::fopen(path.c_str(), append ? "a" : "w");
  if (f == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot open dead-letter output '", path, "': ", std::strerror(errno)));
  }
  std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
  std::unique_ptr<DeadLetterWriter> w(new DeadLetterWriter(f, true, false, path));
  struct stat st;
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
    w->durable_ = true;
    w->bytes_ = w->synced_ = static_cast<uint64_t>(st.st_size);
  }
  return w;
}

absl::Status DeadLetterWriter::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(FlushLocked());
  if (!durable_ || bytes_ == synced_) return absl::OkStatus();
  if (::fsync(::fileno(file_)) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot sync dead-letter output '", path_, "': ", std::strerror(errno)));
  }
  synced_ = bytes_;
  return absl::OkStatus();
}

absl::Status DeadLetterWriter::TruncateTo(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!durable_) return absl::OkStatus();
  VIGIL_RETURN_IF_ERROR(FlushLocked());
  if (::ftruncate(::fileno(file_), static_cast<off_t>(bytes)) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot truncate dead-letter output '", path_, "': ", std::strerror(errno)));
  }
  bytes_ = synced_ = bytes;
  return absl::OkStatus();
}

DeadLetterWriter::DeadLetterWriter(std::FILE* f, bool own, bool line_buffered, std::string path)
    : file_(f), own_(own), line_buffered_(line_buffered), path_(std::move(path)) {}

DeadLetterWriter::DeadLetterWriter(std::string* sink) : string_sink_(sink) {}

DeadLetterWriter::~DeadLetterWriter() {
  if (own_ && file_ != nullptr) std::fclose(file_);
}

absl::Status DeadLetterWriter::Put() {
  line_.push_back('\n');
  if (string_sink_ != nullptr) {
    string_sink_->append(line_);
    return absl::OkStatus();
  }
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
    return absl::InternalError(
        absl::StrCat("cannot write dead-letter output '", path_, "': ", std::strerror(errno)));
  }
  bytes_ += line_.size();
  if (line_buffered_) std::fflush(file_);
  return absl::OkStatus();
}

namespace {
// ,"line":N  or  ,"topic":"t","partition":P,"offset":O
void AppendOrigin(const RecordOrigin& o, std::string* out) {
  if (o.topic.empty()) {
    absl::StrAppend(out, ",\"line\":", o.position);
    return;
  }
  out->append(",\"topic\":");
  AppendJsonStringSanitized(o.topic, out);
  absl::StrAppend(out, ",\"partition\":", o.partition, ",\"offset\":", o.position);
}
}  // namespace

absl::Status DeadLetterWriter::WriteInvalid(std::string_view stream, std::string_view reason,
                                            const RecordOrigin& origin, std::string_view input) {
  std::lock_guard<std::mutex> lock(mu_);
  line_.assign("{\"kind\":\"invalid\",\"stream\":");
  AppendJsonString(stream, &line_);
  line_.append(",\"reason\":");
  AppendJsonStringSanitized(reason, &line_);
  AppendOrigin(origin, &line_);
  line_.append(",\"input\":");
  AppendJsonStringSanitized(input, &line_);
  line_.push_back('}');
  return Put();
}

absl::Status DeadLetterWriter::WriteLate(std::string_view stream, const Event& e, Watermark wm,
                                         const RecordOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  line_.assign("{\"kind\":\"late\",\"stream\":");
  AppendJsonString(stream, &line_);
  absl::StrAppend(&line_, ",\"time\":", e.time.ms, ",\"watermark\":", wm.ms);
  AppendOrigin(origin, &line_);
  line_.append(",\"event\":");
  line_.append(e.raw);
  line_.push_back('}');
  return Put();
}

absl::Status DeadLetterWriter::WriteUndeliverable(std::string_view sink,
                                                  std::string_view reason, const Record& r) {
  // Rendered before taking the lock: a large record does not hold up other writers.
  std::string record = RecordToJson(r);
  std::lock_guard<std::mutex> lock(mu_);
  line_.assign("{\"kind\":\"undeliverable\",\"sink\":");
  AppendJsonStringSanitized(sink, &line_);
  line_.append(",\"reason\":");
  AppendJsonStringSanitized(reason, &line_);
  line_.append(",\"record\":");
  line_.append(record);
  line_.push_back('}');
  return Put();
}

absl::Status DeadLetterWriter::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return FlushLocked();
}

absl::Status DeadLetterWriter::FlushLocked() {
  if (file_ != nullptr && std::fflush(file_) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot write dead-letter output '", path_, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace vigil::engine
