// Explicit watermark lines ({"$watermark": T}): the parser, the file source that recognises
// them when enabled, and the ways to enable them (file:// URI option, `from file(...,
// watermarks true)`, `vigil run --watermark-lines` through RunSpec).
#include "engine/source/watermark_line.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "cep/connectors/connector_options.h"
#include "engine/launcher.h"
#include "engine/source/file_source.h"
#include "engine/source/source_registry.h"
#include "gtest/gtest.h"
#include "rules/compiler.h"

namespace vigil::engine {
namespace {

std::string WriteTemp(const std::string& content) {
  char path[] = "/tmp/vigil_wmline_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

// Parses a line that must be a valid watermark line.
int64_t Ms(std::string_view line) {
  EXPECT_TRUE(LooksLikeWatermarkLine(line)) << line;
  int64_t ms = -12345;
  std::string_view err = ParseWatermarkLine(line, &ms);
  EXPECT_EQ(err, "") << line;
  return ms;
}

// The error for a line that looks like a watermark line but is malformed.
std::string Error(std::string_view line) {
  EXPECT_TRUE(LooksLikeWatermarkLine(line)) << line;
  int64_t ms = -12345;
  std::string err(ParseWatermarkLine(line, &ms));
  EXPECT_EQ(ms, -12345) << "set on error: " << line;
  return err;
}

TEST(WatermarkLine, CheapCheck) {
  EXPECT_TRUE(LooksLikeWatermarkLine(R"({"$watermark": 4})"));
  EXPECT_TRUE(LooksLikeWatermarkLine("  \t{ \"$watermark\":4}"));
  EXPECT_TRUE(LooksLikeWatermarkLine(R"({"$watermark")"));  // then malformed
  EXPECT_FALSE(LooksLikeWatermarkLine(R"({"$watermarks": 4})"));
  EXPECT_FALSE(LooksLikeWatermarkLine(R"({"a": 1, "$watermark": 4})"));
  EXPECT_FALSE(LooksLikeWatermarkLine(R"({"$Watermark": 4})"));
  EXPECT_FALSE(LooksLikeWatermarkLine(R"(["$watermark", 4])"));
  EXPECT_FALSE(LooksLikeWatermarkLine(""));
  EXPECT_FALSE(LooksLikeWatermarkLine("{"));
}

TEST(WatermarkLine, IntegersAndTimestamps) {
  EXPECT_EQ(Ms(R"({"$watermark": 4})"), 4);
  EXPECT_EQ(Ms(R"({"$watermark":0})"), 0);
  EXPECT_EQ(Ms(R"({"$watermark": -250})"), -250);
  EXPECT_EQ(Ms(" { \"$watermark\" :\t1714557604000 }  "), 1714557604000);
  EXPECT_EQ(Ms(R"({"$watermark": "2024-05-01T10:00:04Z"})"), 1714557604000);
  EXPECT_EQ(Ms(R"({"$watermark": "2024-05-01T12:00:04.250+02:00"})"), 1714557604250);
  EXPECT_EQ(Ms(R"({"$watermark": 9223372036854775807})"), INT64_MAX);
}

TEST(WatermarkLine, MalformedLinesSayWhy) {
  const std::string want = "$watermark must be integer milliseconds or an RFC 3339 string, got ";
  EXPECT_EQ(Error(R"({"$watermark": 4.5})"), want + "float");
  EXPECT_EQ(Error(R"({"$watermark": 4e3})"), want + "float");
  EXPECT_EQ(Error(R"({"$watermark": true})"), want + "bool");
  EXPECT_EQ(Error(R"({"$watermark": null})"), want + "null");
  EXPECT_EQ(Error(R"({"$watermark": {"t": 1}})"), want + "object");
  EXPECT_EQ(Error(R"({"$watermark": [1]})"), want + "array");
  EXPECT_EQ(Error(R"({"$watermark": "soon"})"), "$watermark: invalid RFC 3339 timestamp");
  EXPECT_EQ(Error(R"({"$watermark": "2024-05-01T10:00:04\u005a"})"),
            "$watermark: invalid RFC 3339 timestamp");
  EXPECT_EQ(Error(R"({"$watermark": 9223372036854775808})"), "$watermark: integer out of range");
  EXPECT_EQ(Error(R"({"$watermark": 4, "x": 1})"),
            "a watermark line must be an object with the single key \"$watermark\"");
  for (std::string_view bad : {R"({"$watermark"})", R"({"$watermark": })", R"({"$watermark" 4})",
                               R"({"$watermark": 4)", R"({"$watermark": 4} x)",
                               R"({"$watermark": 04})", R"({"$watermark": -})",
                               R"({"$watermark": "2024-05-01T10:00:04Z)", R"({"$watermark": x})"}) {
    EXPECT_EQ(Error(bad), "$watermark: invalid JSON") << bad;
  }
}

std::vector<SourceRecord> PollAll(Source& src, std::vector<std::string>* texts) {
  std::vector<SourceRecord> all, batch;
  while (true) {
    auto st = src.Poll(2, &batch);  // small polls: records cross Poll boundaries
    EXPECT_TRUE(st.ok());
    if (!st.ok() || *st == PollState::kEnd) break;
    for (const SourceRecord& r : batch) {
      all.push_back(r);
      texts->emplace_back(r.text);
    }
  }
  for (size_t i = 0; i < all.size(); ++i) all[i].text = (*texts)[i];
  return all;
}

constexpr char kInput[] =
    "{\"n\": 1, \"ts\": 5}\n"
    "{\"$watermark\": 4}\n"
    "\n"
    "{\"n\": 2, \"ts\": 2}\n"
    " {\"$watermark\": 4.5}\n"
    "{\"$watermarks\": 7}\n";

TEST(FileSourceWatermarks, OffByDefault) {
  std::string path = WriteTemp(kInput);
  auto src = FileSource::Open(path);
  ASSERT_TRUE(src.ok());
  EXPECT_FALSE((*src)->watermark_lines());
  std::vector<std::string> texts;
  for (const SourceRecord& r : PollAll(**src, &texts)) EXPECT_FALSE(r.watermark) << r.text;
  EXPECT_EQ(texts.size(), 5u);
  unlink(path.c_str());
}

TEST(FileSourceWatermarks, WatermarkRecordsKeepTheirLineNumbers) {
  std::string path = WriteTemp(kInput);
  auto src = FileSource::Open(path);
  ASSERT_TRUE(src.ok());
  (*src)->SetWatermarkLines(true);
  std::vector<std::string> texts;
  std::vector<SourceRecord> got = PollAll(**src, &texts);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_FALSE(got[0].watermark);
  EXPECT_EQ(got[0].seq, 1u);
  EXPECT_TRUE(got[1].watermark);
  EXPECT_EQ(got[1].seq, 2u);
  EXPECT_EQ(got[1].watermark_ms, 4);
  EXPECT_EQ(got[1].watermark_error, "");
  EXPECT_FALSE(got[2].watermark);
  EXPECT_EQ(got[2].seq, 4u);  // the blank line counts
  EXPECT_TRUE(got[3].watermark);
  EXPECT_EQ(got[3].seq, 5u);
  EXPECT_EQ(got[3].text, " {\"$watermark\": 4.5}");
  EXPECT_NE(got[3].watermark_error.find("got float"), std::string_view::npos);
  EXPECT_FALSE(got[4].watermark);  // another key: an ordinary line
  EXPECT_EQ((*src)->offset().line, 6u);
  unlink(path.c_str());
}

TEST(FileSourceWatermarks, SeekPastAWatermarkLine) {
  std::string path = WriteTemp(kInput);
  std::string position;
  {
    auto src = FileSource::Open(path);
    ASSERT_TRUE(src.ok());
    (*src)->SetWatermarkLines(true);
    std::vector<SourceRecord> batch;
    ASSERT_TRUE((*src)->Poll(2, &batch).ok());  // the event and the watermark
    ASSERT_EQ(batch.size(), 2u);
    position = (*src)->Position();
  }
  auto src = FileSource::Open(path);
  ASSERT_TRUE(src.ok());
  (*src)->SetWatermarkLines(true);
  ASSERT_TRUE((*src)->Seek(position).ok());
  std::vector<std::string> texts;
  std::vector<SourceRecord> got = PollAll(**src, &texts);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].seq, 4u);
  EXPECT_EQ(got[0].text, "{\"n\": 2, \"ts\": 2}");
  unlink(path.c_str());
}

bool OptionTrue(const cep::SourceSpec& spec, std::string_view name) {
  return cep::OptionReader(spec.options).Bool(name, false);
}

TEST(InputUri, FileQueryOptions) {
  auto spec = ParseInputUri("file:///tmp/in.jsonl?watermarks=true");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->kind, "file");
  EXPECT_EQ(cep::OptionReader(spec->options).String("path"), "/tmp/in.jsonl");
  EXPECT_TRUE(OptionTrue(*spec, "watermarks"));
  spec = ParseInputUri("file://in.jsonl?watermarks");  // a bare flag is true
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(OptionTrue(*spec, "watermarks"));
  spec = ParseInputUri("file://in.jsonl?watermarks=false");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(OptionTrue(*spec, "watermarks"));
  // A plain path is taken as is: '?' is part of the file name.
  spec = ParseInputUri("in.jsonl?watermarks=true");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(cep::OptionReader(spec->options).String("path"), "in.jsonl?watermarks=true");
  EXPECT_FALSE(OptionTrue(*spec, "watermarks"));
}

TEST(InputUri, FileQueryErrors) {
  auto spec = ParseInputUri("file://in.jsonl?watermarks=maybe");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("option 'watermarks=maybe' must be true or false"),
            std::string_view::npos)
      << spec.status();
  spec = ParseInputUri("file://in.jsonl?path=other");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("unknown option 'path' (options: watermarks)"),
            std::string_view::npos)
      << spec.status();
  spec = ParseInputUri("file://in.jsonl?watermarks=true&watermarks=false");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("given twice"), std::string_view::npos);
  EXPECT_FALSE(ParseInputUri("file://?watermarks=true").ok());  // empty path
}

// Opens a source through the registry and returns whether its second line (a watermark line)
// came back as a watermark.
bool SecondLineIsWatermark(const SourceParams& p) {
  auto src = SourceRegistry().Open(p);
  EXPECT_TRUE(src.ok()) << src.status();
  if (!src.ok()) return false;
  std::vector<std::string> texts;
  std::vector<SourceRecord> got = PollAll(**src, &texts);
  EXPECT_GE(got.size(), 2u);
  return got.size() >= 2 && got[1].watermark;
}

TEST(SourceRegistryWatermarks, OptionAndRunFlagEnableIt) {
  std::string path = WriteTemp(kInput);
  cep::StreamDef stream;
  SourceParams p;
  p.stream = &stream;
  p.spec.kind = "file";
  p.spec.options.emplace_back("path", Value::String(path));
  EXPECT_FALSE(SecondLineIsWatermark(p));
  p.watermark_lines = true;  // vigil run --watermark-lines
  EXPECT_TRUE(SecondLineIsWatermark(p));
  p.watermark_lines = false;
  p.spec.options.emplace_back("watermarks", Value::Bool(true));  // file(..., watermarks true)
  EXPECT_TRUE(SecondLineIsWatermark(p));
  unlink(path.c_str());
}

TEST(SourceRegistryWatermarks, RulesFileOptionIsInTheCatalogue) {
  auto compiled = rules::CompileSources({{"t.vgl", R"(
stream s (n int, ts timestamp) event time ts from file(path "in.jsonl", watermarks true)
stream u (n int, ts timestamp) event time ts from file(path "u.jsonl")
rule r from s when n > 0
rule q from u when n > 0
)"}});
  ASSERT_TRUE(compiled.ok());
  ASSERT_NE(compiled.rule_set, nullptr);
  const cep::StreamDef& s = compiled.rule_set->streams[0];
  EXPECT_TRUE(OptionTrue(s.source, "watermarks"));
  EXPECT_FALSE(OptionTrue(compiled.rule_set->streams[1].source, "watermarks"));

  // BindInputs passes --watermark-lines to every source.
  RunSpec spec;
  spec.rules = compiled.rule_set;
  spec.watermark_lines = true;
  auto bound = BindInputs(spec);
  ASSERT_TRUE(bound.ok()) << bound.status();
  ASSERT_EQ(bound->size(), 2u);
  for (const auto& [stream, params] : *bound) EXPECT_TRUE(params.watermark_lines);
  spec.watermark_lines = false;
  bound = BindInputs(spec);
  ASSERT_TRUE(bound.ok());
  for (const auto& [stream, params] : *bound) EXPECT_FALSE(params.watermark_lines);
}

}  // namespace
}  // namespace vigil::engine
