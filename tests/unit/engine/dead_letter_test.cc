#include "engine/io/dead_letter.h"

#include <string>

#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

TEST(DeadLetter, InvalidRecord) {
  std::string out;
  DeadLetterWriter w(&out);
  ASSERT_TRUE(w.WriteInvalid("txn", "line 3: not a JSON object", RecordOrigin{{}, -1, 3}, "[1, \"a\"]").ok());
  EXPECT_EQ(out,
            "{\"kind\":\"invalid\",\"stream\":\"txn\",\"reason\":\"line 3: not a JSON object\","
            "\"line\":3,\"input\":\"[1, \\\"a\\\"]\"}\n");
}

TEST(DeadLetter, InvalidUtf8IsReplaced) {
  std::string out;
  DeadLetterWriter w(&out);
  ASSERT_TRUE(w.WriteInvalid("s", "r", RecordOrigin{{}, -1, 1},
                             "a\xff"
                             "b\xc3")
                  .ok());
  EXPECT_NE(out.find("\"input\":\"a\xEF\xBF\xBD"
                     "b\xEF\xBF\xBD\""),
            std::string::npos)
      << out;
}

TEST(DeadLetter, LateRecord) {
  std::string out;
  DeadLetterWriter w(&out);
  Event e;
  e.raw = R"({"at":1000,"x":1})";
  e.time = EventTime(1000);
  e.seq = 9;
  ASSERT_TRUE(w.WriteLate("txn", e, Watermark(4999), RecordOrigin{{}, -1, 9}).ok());
  EXPECT_EQ(out,
            "{\"kind\":\"late\",\"stream\":\"txn\",\"time\":1000,\"watermark\":4999,\"line\":9,"
            "\"event\":{\"at\":1000,\"x\":1}}\n");
}

TEST(DeadLetter, KafkaOriginNamesTopicPartitionOffset) {
  std::string out;
  DeadLetterWriter w(&out);
  ASSERT_TRUE(w.WriteInvalid("txn", "not JSON", RecordOrigin{"payments", 2, 1234}, "x").ok());
  EXPECT_EQ(out,
            "{\"kind\":\"invalid\",\"stream\":\"txn\",\"reason\":\"not JSON\","
            "\"topic\":\"payments\",\"partition\":2,\"offset\":1234,\"input\":\"x\"}\n");
}

}  // namespace
}  // namespace vigil::engine
