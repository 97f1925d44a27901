#include "admin/auth_token.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vigil::admin {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string p = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

TEST(ReadTokenFileTest, StripsTrailingNewlinesOnly) {
  EXPECT_EQ(*ReadTokenFile(WriteTemp("t1", "abc\n")), "abc");
  EXPECT_EQ(*ReadTokenFile(WriteTemp("t2", "abc\r\n")), "abc");
  EXPECT_EQ(*ReadTokenFile(WriteTemp("t3", "abc")), "abc");
  EXPECT_EQ(*ReadTokenFile(WriteTemp("t4", "a.b-c_d~e+f/g=\n\n")), "a.b-c_d~e+f/g=");
}

TEST(ReadTokenFileTest, RefusesWhatCannotBeAToken) {
  for (const char* text : {"", "\n", " abc", "abc ", "a\tb", "a\nb", "caf\xc3\xa9", "a\x01"}) {
    absl::StatusOr<std::string> t = ReadTokenFile(WriteTemp("bad", text));
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_FALSE(ReadTokenFile(WriteTemp("long", std::string(kMaxTokenBytes + 1, 'x'))).ok());
  EXPECT_TRUE(ReadTokenFile(WriteTemp("max", std::string(kMaxTokenBytes, 'x') + "\n")).ok());
  absl::StatusOr<std::string> missing = ReadTokenFile("/nonexistent/dir/token");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/token"), std::string::npos);
}

TEST(ReadTokenFileTest, ErrorsNeverContainTheToken) {
  absl::StatusOr<std::string> t = ReadTokenFile(WriteTemp("sp", "secret value\n"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()).find("secret"), std::string::npos);
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(BearerTokenMatchesTest, SchemeIgnoresCaseTokenDoesNot) {
  EXPECT_TRUE(BearerTokenMatches("Bearer tok", "tok"));
  EXPECT_TRUE(BearerTokenMatches("bEaReR tok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Bearer TOK", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Bearertok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("tok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ", "tok"));
  EXPECT_FALSE(BearerTokenMatches("", "tok"));
}

}  // namespace
}  // namespace vigil::admin
