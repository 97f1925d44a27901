#include "engine/source/jsonl_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

std::string WriteTemp(const std::string& content) {
  char path[] = "/tmp/vigil_src_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

struct Got {
  std::string text;
  uint64_t offset, line;
};

std::vector<Got> ReadAll(const std::string& content, size_t block) {
  std::string path = WriteTemp(content);
  auto src = JsonlSource::Open(path, block);
  EXPECT_TRUE(src.ok());
  std::vector<Got> out;
  SourceLine l;
  while (true) {
    auto more = (*src)->Next(&l);
    EXPECT_TRUE(more.ok());
    if (!*more) break;
    // The padding promise: bytes after the line are readable.
    volatile char c = l.text.data()[l.text.size() + JsonlSource::kLinePadding - 1];
    (void)c;
    out.push_back({std::string(l.text), l.byte_offset, l.line_number});
  }
  EXPECT_TRUE((*src)->at_end());
  unlink(path.c_str());
  return out;
}

class SourceTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SourceTest, LinesCrlfBlankAndFinalLine) {
  std::string content = "{\"a\":1}\r\n\n   \n{\"a\":2}\n\r\n{\"a\":3}";
  auto got = ReadAll(content, GetParam());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].text, "{\"a\":1}");
  EXPECT_EQ(got[0].line, 1u);
  EXPECT_EQ(got[0].offset, 0u);
  EXPECT_EQ(got[1].text, "{\"a\":2}");
  EXPECT_EQ(got[1].line, 4u);
  EXPECT_EQ(got[1].offset, 14u);
  EXPECT_EQ(got[2].text, "{\"a\":3}");
  EXPECT_EQ(got[2].line, 6u);
  EXPECT_EQ(got[2].offset, 24u);
}

TEST_P(SourceTest, LongLinesGrowTheBuffer) {
  std::string big(1000, 'x');
  std::string content;
  for (int i = 0; i < 50; ++i) content += "{\"k\":\"" + big + std::to_string(i) + "\"}\n";
  auto got = ReadAll(content, GetParam());
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(got[i].text, "{\"k\":\"" + big + std::to_string(i) + "\"}");
    EXPECT_EQ(got[i].line, static_cast<uint64_t>(i + 1));
  }
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, SourceTest, ::testing::Values(16, 17, 100, 1 << 20));

TEST(Source, EmptyInput) {
  EXPECT_TRUE(ReadAll("", 64).empty());
  EXPECT_TRUE(ReadAll("\n\n\r\n", 64).empty());
}

TEST(Source, OffsetAndSeek) {
  std::string path = WriteTemp("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  auto src = *JsonlSource::Open(path, 16);
  SourceLine l;
  ASSERT_TRUE(*src->Next(&l));
  SourceOffset after_first = src->offset();
  EXPECT_EQ(after_first, (SourceOffset{8, 1}));
  ASSERT_TRUE(*src->Next(&l));
  ASSERT_TRUE(*src->Next(&l));
  EXPECT_FALSE(*src->Next(&l));
  ASSERT_TRUE(src->Seek(after_first).ok());
  ASSERT_TRUE(*src->Next(&l));
  EXPECT_EQ(l.text, "{\"a\":2}");
  EXPECT_EQ(l.line_number, 2u);
  unlink(path.c_str());
}

TEST(Source, MissingFile) {
  auto src = JsonlSource::Open("/nonexistent/vigil/input.jsonl");
  EXPECT_EQ(src.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(src.status().message().find("/nonexistent/vigil/input.jsonl"), std::string::npos);
}

TEST(Source, PipeCannotSeek) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "{}\n", 3), 3);
  close(fds[1]);
  JsonlSource src(fds[0], "pipe", true);
  SourceLine l;
  ASSERT_TRUE(*src.Next(&l));
  EXPECT_EQ(src.Seek(SourceOffset{}).code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace vigil::engine
