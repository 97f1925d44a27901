#include "engine/decode/event_decoder.h"

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

cep::StreamDef TxnStream() {
  cep::StreamDef s;
  s.name = "txn";
  s.schema = Schema("txn");
  s.schema.AddField(FieldDef{"card", {"card"}, Type::kString});
  s.schema.AddField(FieldDef{"amount", {"amount"}, Type::kFloat});
  s.schema.AddField(FieldDef{"n", {"n"}, Type::kInt});
  s.schema.AddField(FieldDef{"ok", {"ok"}, Type::kBool});
  s.schema.AddField(FieldDef{"geo.country", {"geo", "country"}, Type::kString});
  s.schema.AddField(FieldDef{"geo.city", {"geo", "city"}, Type::kString});
  s.schema.AddField(FieldDef{"at", {"at"}, Type::kTimestamp});
  s.event_time_slot = 6;
  return s;
}

class DecoderTest : public ::testing::Test {
 protected:
  DecoderTest() : stream_(TxnStream()), decoder_(stream_, 2) {}
  absl::Status Decode(const std::string& line, uint64_t n = 3) {
    event_ = Event();
    return decoder_.Decode(line, n, /*padded=*/false, &event_);
  }
  std::string Reason(const std::string& line, uint64_t n = 3) {
    absl::Status st = Decode(line, n);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << line;
    return std::string(st.message());
  }
  cep::StreamDef stream_;
  EventDecoder decoder_;
  Event event_;
};

TEST_F(DecoderTest, DecodesAllTypes) {
  ASSERT_TRUE(Decode(R"({"card":"4111","amount":12.5,"n":-7,"ok":true,"at":1700000000000})").ok());
  EXPECT_EQ(event_.values[0], Value::String("4111"));
  EXPECT_EQ(event_.values[1], Value::Float(12.5));
  EXPECT_EQ(event_.values[2], Value::Int(-7));
  EXPECT_EQ(event_.values[3], Value::Bool(true));
  EXPECT_TRUE(event_.values[4].is_null());
  EXPECT_EQ(event_.values[6], Value::Timestamp(EventTime(1700000000000)));
  EXPECT_EQ(event_.time, EventTime(1700000000000));
  EXPECT_EQ(event_.seq, 3u);
  EXPECT_EQ(event_.stream, 2u);
}

TEST_F(DecoderTest, FloatAcceptsInteger) {
  ASSERT_TRUE(Decode(R"({"amount":12,"at":1})").ok());
  EXPECT_EQ(event_.values[1].type(), Type::kFloat);
  EXPECT_EQ(event_.values[1].as_float(), 12.0);
}

TEST_F(DecoderTest, MissingAndNullAreNull) {
  ASSERT_TRUE(Decode(R"({"card":null,"at":5})").ok());
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(event_.values[i].is_null()) << i;
}

TEST_F(DecoderTest, NestedFields) {
  ASSERT_TRUE(Decode(R"({"geo":{"country":"FR","city":"Paris","zip":"75001"},"at":5})").ok());
  EXPECT_EQ(event_.values[4], Value::String("FR"));
  EXPECT_EQ(event_.values[5], Value::String("Paris"));
  ASSERT_TRUE(Decode(R"({"geo":null,"at":5})").ok());
  EXPECT_TRUE(event_.values[4].is_null());
  EXPECT_EQ(Reason(R"({"geo":"FR","at":5})"),
            "line 3: field 'geo.country': expected an object at 'geo', got string");
}

TEST_F(DecoderTest, UndeclaredKeysKeptInRaw) {
  ASSERT_TRUE(Decode("  {\"card\":\"x\",\"extra\":[1,{\"y\":2}],\"at\":5}  \r").ok());
  EXPECT_EQ(event_.raw, R"({"card":"x","extra":[1,{"y":2}],"at":5})");
}

TEST_F(DecoderTest, WrongTypes) {
  EXPECT_EQ(Reason(R"({"amount":"12","at":1})"),
            "line 3: field 'amount': expected float, got string");
  EXPECT_EQ(Reason(R"({"card":12,"at":1})"), "line 3: field 'card': expected string, got int");
  EXPECT_EQ(Reason(R"({"ok":"true","at":1})"), "line 3: field 'ok': expected bool, got string");
  EXPECT_EQ(Reason(R"({"n":true,"at":1})"), "line 3: field 'n': expected int, got bool");
  EXPECT_EQ(Reason(R"({"n":[1],"at":1})"), "line 3: field 'n': expected int, got array");
  EXPECT_EQ(Reason(R"({"card":{},"at":1})"), "line 3: field 'card': expected string, got object");
}

TEST_F(DecoderTest, FractionInIntField) {
  EXPECT_EQ(Reason(R"({"n":2.5,"at":1})"), "line 3: field 'n': expected int, got float");
  EXPECT_EQ(Reason(R"({"n":2.0,"at":1})"), "line 3: field 'n': expected int, got float");
  EXPECT_EQ(Reason(R"({"n":18446744073709551615,"at":1})"),
            "line 3: field 'n': integer out of range for int");
}

TEST_F(DecoderTest, NotAnObject) {
  EXPECT_EQ(Reason("[1,2]", 7), "line 7: not a JSON object");
  EXPECT_EQ(Reason("42", 7), "line 7: not a JSON object");
  EXPECT_EQ(Reason("\"s\"", 7), "line 7: not a JSON object");
  std::string r = Reason("{\"card\":", 8);
  EXPECT_EQ(r.rfind("line 8: invalid JSON: ", 0), 0u) << r;
  r = Reason("hello", 9);
  EXPECT_EQ(r.rfind("line 9: invalid JSON: ", 0), 0u) << r;
}

TEST_F(DecoderTest, MissingEventTime) {
  EXPECT_EQ(Reason(R"({"card":"x"})", 6), "line 6: missing event time field 'at'");
  EXPECT_EQ(Reason(R"({"card":"x","at":null})", 6), "line 6: missing event time field 'at'");
}

TEST_F(DecoderTest, TimestampForms) {
  ASSERT_TRUE(Decode(R"({"at":"2023-11-14T22:13:20Z"})").ok());
  EXPECT_EQ(event_.time, EventTime(1700000000000));
  ASSERT_TRUE(Decode(R"({"at":"2023-11-14T22:13:20.123Z"})").ok());
  EXPECT_EQ(event_.time, EventTime(1700000000123));
  ASSERT_TRUE(Decode(R"({"at":"2023-11-15T00:13:20.5+02:00"})").ok());
  EXPECT_EQ(event_.time, EventTime(1700000000500));
  EXPECT_EQ(Reason(R"({"at":"yesterday"})"),
            "line 3: field 'at': invalid RFC 3339 timestamp \"yesterday\"");
  EXPECT_EQ(Reason(R"({"at":1.5})"),
            "line 3: field 'at': expected timestamp (integer milliseconds or RFC 3339 string), "
            "got float");
  EXPECT_EQ(Reason(R"({"at":true})"),
            "line 3: field 'at': expected timestamp (integer milliseconds or RFC 3339 string), "
            "got bool");
}

TEST(Rfc3339Test, Parses) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseRfc3339("1970-01-01T00:00:00Z", &ms));
  EXPECT_EQ(ms, 0);
  EXPECT_TRUE(ParseRfc3339("1970-01-01t00:00:01z", &ms));
  EXPECT_EQ(ms, 1000);
  EXPECT_TRUE(ParseRfc3339("1970-01-01 00:00:00.001Z", &ms));
  EXPECT_EQ(ms, 1);
  EXPECT_TRUE(ParseRfc3339("1969-12-31T23:59:59.999Z", &ms));
  EXPECT_EQ(ms, -1);
  EXPECT_TRUE(ParseRfc3339("2000-02-29T12:00:00-05:30", &ms));
  EXPECT_EQ(ms, 951825600000 + 5 * 3600000 + 30 * 60000);
  EXPECT_TRUE(ParseRfc3339("2024-01-02T03:04:05.123456789Z", &ms));
  EXPECT_EQ(ms, 1704164645123);
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-13-01T00:00:00Z", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-01-01T24:00:00Z", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-01-01T00:00:00", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-01-01T00:00:00.Z", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-01-01T00:00:00+0100", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-01-01", &ms));
  EXPECT_FALSE(ParseRfc3339("2023-01-01T00:00:00Zjunk", &ms));
}

// Decode takes a fast path for flat objects; a declared nested parent ("geo") in the line
// sends it down the simdjson path. Both must agree on every line.
TEST_F(DecoderTest, FastPathMatchesSimdjsonPath) {
  const std::vector<std::string> lines = {
      R"({"card":"4111","amount":0.03,"n":-7,"ok":false,"at":1700000000000})",
      R"({ "card" : "x" ,	"amount" : 12 , "at" : 1 })",
      R"({"amount":-0,"at":1})",
      R"({"amount":-0.0,"at":1})",
      R"({"n":-0,"at":1})",
      R"({"n":0,"amount":0,"at":0})",
      R"({"n":123456789012345678,"at":1})",
      R"({"n":-123456789012345678,"at":1})",
      R"({"n":1234567890123456789,"at":1})",
      R"({"n":12345678901234567890,"at":1})",
      R"({"n":-9223372036854775808,"at":1})",
      R"({"amount":12345678901234567890123,"at":1})",
      R"({"amount":1e400,"at":1})",
      R"({"amount":1e-400,"at":1})",
      R"({"amount":1.5E+3,"at":1})",
      R"({"amount":2.5e-3,"at":1})",
      R"({"amount":0.1,"at":1})",
      R"({"amount":01,"at":1})",
      R"({"amount":1.,"at":1})",
      R"({"amount":1e,"at":1})",
      R"({"amount":.5,"at":1})",
      R"({"amount":+1,"at":1})",
      R"({"amount":-,"at":1})",
      R"({"card":"a\"b","at":1})",
      R"({"card":"é","at":1})",
      R"({"card":"\u00e9","at":1})",
      "{\"card\":\"tab\there\",\"at\":1}",
      R"({"card":"0123456789abcde","at":1})",
      R"({"card":"0123456789abcdef","at":1})",
      R"({"card":"0123456789abcdef0","at":1})",
      R"({"card":"0123456789abcdef0123456789abcdef","at":1})",
      R"({"card":"","at":1})",
      R"({"card":"x","card":"y","at":1})",
      R"({"card":1,"card":"y","at":1})",
      R"({"card":"y","card":1,"at":1})",
      R"({"card":null,"amount":null,"n":null,"ok":null,"at":1})",
      R"({"ok":true,"at":1})",
      R"({"ok":1,"at":1})",
      R"({"n":1.5,"at":1})",
      R"({"n":"1","at":1})",
      R"({"at":"2024-01-02T03:04:05.123Z"})",
      R"({"at":"yesterday"})",
      R"({"at":true})",
      R"({"at":null})",
      R"({"at":18446744073709551615})",
      R"({"ok":truex,"at":1})",
      R"({"ok":nul,"at":1})",
      R"({"ok":true"at":1})",
      R"({"x":[1,2],"at":1})",
      R"({"x":{"a":1},"at":1})",
      R"({"x":"\\","at":1})",
      R"({"at":1,})",
      R"({"at":1}x)",
      R"({"at":1} {"at":2})",
      R"({"at":1)",
      R"({"at" 1})",
      R"({at:1})",
      R"({"card":"unterminated,"at":1})",
  };
  auto compare = [&](const std::string& line) {
    SCOPED_TRACE(line);
    Event fast;
    absl::Status fast_st = decoder_.Decode(line, 3, /*padded=*/false, &fast);
    std::string slow_line = R"({"geo":null,)" + line.substr(1);
    Event slow;
    absl::Status slow_st = decoder_.Decode(slow_line, 3, /*padded=*/false, &slow);
    ASSERT_EQ(fast_st.ok(), slow_st.ok()) << fast_st << " vs " << slow_st;
    if (!fast_st.ok()) {
      if (fast_st.message().find("invalid JSON") == std::string_view::npos) {
        EXPECT_EQ(fast_st.message(), slow_st.message());
      }
      return;
    }
    ASSERT_EQ(fast.values.size(), slow.values.size());
    for (size_t i = 0; i < fast.values.size(); ++i) {
      EXPECT_EQ(fast.values[i], slow.values[i]) << "slot " << i;
    }
    EXPECT_EQ(fast.time, slow.time);
  };
  for (const std::string& line : lines) compare(line);

  // Random mutations of the lines (a byte replaced, inserted or deleted; the opening brace
  // kept so that the simdjson variant stays comparable): the fast path must agree with
  // simdjson on every one, accepting nothing simdjson rejects.
  std::mt19937 rng(20261124);
  const std::string alphabet = "{}[]\",:0123456789.eE+-truefalsn \t\\xé";
  for (int n = 0; n < 20000; ++n) {
    std::string line = lines[rng() % lines.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && line.size() > 2; ++k) {
      size_t pos = 1 + rng() % (line.size() - 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          line[pos] = c;
          break;
        case 1:
          line.insert(line.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        default:
          line.erase(pos, 1);
          break;
      }
    }
    if (line.size() < 2 || line[1] == '}') continue;  // `{"geo":null,}` is not comparable
    compare(line);
    if (HasFatalFailure()) return;
  }
}

TEST_F(DecoderTest, ReusedEventIsOverwritten) {
  Event e;
  ASSERT_TRUE(
      decoder_.Decode(R"({"card":"0123456789abcdef0123","amount":1.5,"n":3,"at":5})", 1, false, &e)
          .ok());
  ASSERT_TRUE(decoder_.Decode(R"({"n":4,"at":6})", 2, false, &e).ok());
  EXPECT_TRUE(e.values[0].is_null());
  EXPECT_TRUE(e.values[1].is_null());
  EXPECT_EQ(e.values[2], Value::Int(4));
  EXPECT_EQ(e.time, EventTime(6));
  EXPECT_EQ(e.raw, R"({"n":4,"at":6})");
  EXPECT_EQ(e.seq, 2u);
}

TEST(EventPoolTest, EventsAreRecycledAndMayOutliveTheDecoder) {
  cep::StreamDef s = TxnStream();
  std::vector<std::shared_ptr<Event>> kept;
  {
    EventDecoder d(s, 0);
    std::shared_ptr<Event> a = d.NewEvent();
    ASSERT_TRUE(d.Decode(R"({"card":"0123456789abcdef0123","at":5})", 1, false, a.get()).ok());
    const Event* addr = a.get();
    a.reset();
    std::shared_ptr<Event> b = d.NewEvent();
    EXPECT_EQ(b.get(), addr);  // recycled
    ASSERT_TRUE(d.Decode(R"({"n":1,"at":7})", 2, false, b.get()).ok());
    EXPECT_TRUE(b->values[0].is_null());
    EXPECT_EQ(b->time, EventTime(7));
    // Released on other threads, some after the decoder is gone.
    for (int i = 0; i < 64; ++i) {
      std::shared_ptr<Event> e = d.NewEvent();
      ASSERT_TRUE(d.Decode(R"({"n":2,"at":8})", 3, false, e.get()).ok());
      kept.push_back(std::move(e));
    }
    std::thread t([half = std::vector<std::shared_ptr<Event>>(
                       kept.begin(), kept.begin() + 32)]() mutable { half.clear(); });
    t.join();
    kept.erase(kept.begin(), kept.begin() + 32);
    kept.push_back(std::move(b));
  }
  EXPECT_EQ(kept.back()->time, EventTime(7));
  std::thread t([k = std::move(kept)]() mutable { k.clear(); });
  t.join();
}

// A released node goes to the releasing thread's cache: a worker that decodes next reuses
// memory it touched last (parallel decoding), even when another decoder created the node.
// Nodes outlive every decoder and thread without leaking or double-freeing (run under ASan
// by tests/fuzz builds; here: no crash, and the contents are right).
TEST(EventPoolTest, AThreadReusesTheNodesItReleased) {
  cep::StreamDef s = TxnStream();
  auto owner = std::make_unique<EventDecoder>(s, 0);
  std::shared_ptr<Event> e = owner->NewEvent();
  ASSERT_TRUE(owner->Decode(R"({"card":"c","at":5})", 1, false, e.get()).ok());
  const Event* addr = e.get();
  std::shared_ptr<Event> reused;
  std::thread worker([&] {
    EventDecoder mine(s, 0);
    std::shared_ptr<Event> local = std::move(e);
    local.reset();  // released here: into this thread's cache
    reused = mine.NewEvent();
    ASSERT_TRUE(mine.Decode(R"({"n":9,"at":6})", 2, false, reused.get()).ok());
  });
  worker.join();
  EXPECT_EQ(reused.get(), addr);
  EXPECT_TRUE(reused->values[0].is_null());
  EXPECT_EQ(reused->time, EventTime(6));
  owner.reset();   // the node's owner goes away while the node is still in use
  reused.reset();  // released on a thread whose cache takes it; freed at thread exit
  std::shared_ptr<Event> fresh;
  {
    EventDecoder again(s, 0);
    fresh = again.NewEvent();  // from this thread's cache: the orphaned pool's node
    EXPECT_EQ(fresh.get(), addr);
    ASSERT_TRUE(again.Decode(R"({"card":"z","at":7})", 3, false, fresh.get()).ok());
  }
  EXPECT_EQ(fresh->values[0], Value::String("z"));
}

TEST(DecoderProcessingTime, NoEventTimeField) {
  cep::StreamDef s;
  s.name = "m";
  s.schema.AddField(FieldDef{"v", {"v"}, Type::kInt});
  EventDecoder d(s, 0);
  Event e;
  e.time = EventTime(77);
  ASSERT_TRUE(d.Decode(R"({"v":1})", 1, false, &e).ok());
  EXPECT_EQ(e.time, EventTime(77));  // left for the caller
}

}  // namespace
}  // namespace vigil::engine
