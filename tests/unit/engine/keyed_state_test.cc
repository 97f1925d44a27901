#include "engine/operator/keyed_state.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/operator/key_group.h"
#include "gtest/gtest.h"

namespace vigil::engine {
namespace {

// A key's state in these tests: one number, encoded as a U64.
struct Counter {
  uint64_t n = 0;
  bool cleared = false;
  void Clear() {
    n = 0;
    cleared = true;
  }
};
using Keys = KeyedState<Counter>;

KeyedStateOptions Options() {
  KeyedStateOptions o;
  o.key_slots = {1};  // events: (other, key, ...)
  o.format = 7;
  o.name = "test state";
  return o;
}

Event Ev(const std::string& key, uint64_t seq = 0) {
  Event e;
  e.values = {Value::Int(99), Value::String(key)};
  e.seq = seq;
  return e;
}

// Creates a key that is not live yet (Create follows a Find that found nothing).
uint32_t NewKey(Keys* keys, const std::string& key, uint64_t order) {
  const Event e = Ev(key, order);
  EXPECT_EQ(keys->Find(e), Keys::kNone);
  return keys->Create(e, order);
}

// Finds or creates the key of `e`.
uint32_t Upsert(Keys* keys, const Event& e) {
  uint32_t slot = keys->Find(e);
  return slot != Keys::kNone ? slot : keys->Create(e, e.seq);
}

// Keeps the latest state of every key, as the job's state backend does, and logs the calls.
class MapWriter : public SnapshotWriter {
 public:
  void Put(uint16_t key_group, std::string_view key, std::string_view value) override {
    state[{key_group, std::string(key)}] = std::string(value);
    log.push_back("put " + std::string(key));
  }
  void Delete(uint16_t key_group, std::string_view key) override {
    EXPECT_EQ(state.erase({key_group, std::string(key)}), 1u) << "delete of an absent key";
    log.push_back("del " + std::string(key));
  }
  std::map<std::pair<uint16_t, std::string>, std::string> state;
  std::vector<std::string> log;
};

std::string Encoded(const std::string& key) {
  std::string out;
  AppendKeyEncoding(Value::String(key), &out);
  return out;
}

const auto kEncode = [](const Counter& c, Encoder* enc) { enc->U64(c.n); };
const auto kDecode = [](Decoder* dec, Counter* c) { return dec->U64(&c->n); };

TEST(KeyedState, KeysAreFoundCreatedAndFreedWithSlotReuse) {
  Keys keys(Options());
  EXPECT_EQ(keys.Find(Ev("a")), Keys::kNone);
  const uint32_t a = NewKey(&keys, "a", 5);
  const uint32_t b = Upsert(&keys, Ev("b", 6));
  EXPECT_NE(a, b);
  EXPECT_EQ(keys.Find(Ev("a")), a);
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.key(a), std::vector<Value>{Value::String("a")});
  EXPECT_EQ(keys.encoded_key(a), Encoded("a"));
  EXPECT_EQ(keys.key_group(a), KeyGroupOfValues({Value::String("a")}));
  // The key group the job routes by: the hash of the event's partition slots.
  const Event e = Ev("a");
  EXPECT_EQ(keys.key_group(a), KeyGroupOf(PartitionKeyHash({1}, e)));
  EXPECT_EQ(keys.order(a), 5u);

  keys.state(a).n = 3;
  keys.Free(a);
  EXPECT_TRUE(keys.state(a).cleared);
  EXPECT_FALSE(keys.live(a));
  EXPECT_EQ(keys.Find(Ev("a")), Keys::kNone);
  EXPECT_EQ(keys.size(), 1u);
  // The freed slot is reused, with a cleared state.
  const uint32_t c = NewKey(&keys, "c", 7);
  EXPECT_EQ(c, a);
  EXPECT_EQ(keys.state(c).n, 0u);
  EXPECT_EQ(keys.key(c), std::vector<Value>{Value::String("c")});
}

TEST(KeyedState, LiveSlotsByOrderThenKey) {
  Keys keys(Options());
  const uint32_t x = NewKey(&keys, "x", 2);
  const uint32_t b = NewKey(&keys, "b", 1);
  const uint32_t a = NewKey(&keys, "a", 2);
  EXPECT_EQ(keys.LiveSlotsByOrder(), (std::vector<uint32_t>{b, a, x}));
}

TEST(KeyedState, TimersFireInDeadlineOrderThenOrderThenSlot) {
  Keys keys(Options());
  const uint32_t a = NewKey(&keys, "a", 3);
  const uint32_t b = NewKey(&keys, "b", 1);
  const uint32_t c = NewKey(&keys, "c", 3);
  keys.ArmTimer(a, 10);
  keys.ArmTimer(b, 10);
  keys.ArmTimer(c, 5);
  EXPECT_EQ(keys.timer(a), 10);
  EXPECT_FALSE(keys.TimerDue(4));
  EXPECT_TRUE(keys.TimerDue(5));
  uint32_t slot;
  int64_t deadline;
  std::vector<std::pair<uint32_t, int64_t>> fired;
  while (keys.PopDueTimer(100, &slot, &deadline)) fired.emplace_back(slot, deadline);
  EXPECT_EQ(fired, (std::vector<std::pair<uint32_t, int64_t>>{{c, 5}, {b, 10}, {a, 10}}));
  // Popped timers leave their slot unarmed.
  EXPECT_EQ(keys.timer(a), Keys::kNoTimer);
}

TEST(KeyedState, AnEarlierDeadlineSupersedesALaterOneNotTheReverse) {
  Keys keys(Options());
  const uint32_t a = NewKey(&keys, "a", 0);
  keys.ArmTimer(a, 20);
  keys.ArmTimer(a, 30);  // later: the entry at 20 stays (the owner re-arms when it pops)
  EXPECT_EQ(keys.timer(a), 20);
  keys.ArmTimer(a, 10);  // earlier: a new entry; the one at 20 is stale
  EXPECT_EQ(keys.timer(a), 10);
  uint32_t slot;
  int64_t deadline;
  ASSERT_TRUE(keys.PopDueTimer(100, &slot, &deadline));
  EXPECT_EQ(deadline, 10);
  EXPECT_FALSE(keys.PopDueTimer(100, &slot, &deadline));  // 20 and 30 were superseded
}

TEST(KeyedState, TimersOfFreedKeysNeverFireForTheSlotsNextKey) {
  Keys keys(Options());
  const uint32_t a = NewKey(&keys, "a", 0);
  keys.ArmTimer(a, 10);
  keys.Free(a);
  uint32_t slot;
  int64_t deadline;
  EXPECT_FALSE(keys.PopDueTimer(100, &slot, &deadline));

  const uint32_t b = NewKey(&keys, "b", 0);
  keys.ArmTimer(b, 10);
  keys.Free(b);
  const uint32_t c = NewKey(&keys, "c", 0);
  ASSERT_EQ(c, b);
  keys.ArmTimer(c, 10);  // the same slot and deadline as b's stale entry: fires once
  int pops = 0;
  while (keys.PopDueTimer(100, &slot, &deadline)) ++pops;
  EXPECT_EQ(pops, 1);
  keys.ArmTimer(c, 50);
  keys.ClearTimers();
  EXPECT_FALSE(keys.PopDueTimer(100, &slot, &deadline));
  EXPECT_EQ(keys.timer(c), Keys::kNoTimer);
}

TEST(KeyedState, IncrementalSnapshotsWriteDirtyKeysAndDeleteStoredFreedOnes) {
  Keys keys(Options());
  MapWriter store;
  const uint32_t a = Upsert(&keys, Ev("a"));
  const uint32_t b = Upsert(&keys, Ev("b"));
  keys.MarkDirty(a);
  keys.MarkDirty(b);
  keys.MarkDirty(a);  // twice: one put
  keys.state(a).n = 1;
  keys.Snapshot(&store, false, kEncode);
  EXPECT_EQ(store.log, (std::vector<std::string>{"put " + Encoded("a"), "put " + Encoded("b")}));

  // Nothing changed: nothing written.
  store.log.clear();
  keys.Snapshot(&store, false, kEncode);
  EXPECT_TRUE(store.log.empty());

  // b stored and freed: a delete. t created and freed between snapshots: nothing. a freed
  // and back: a put over the stored entry, no delete.
  store.log.clear();
  keys.Free(b);
  const uint32_t t = Upsert(&keys, Ev("t"));
  keys.MarkDirty(t);
  keys.Free(t);
  keys.Free(a);
  const uint32_t a2 = Upsert(&keys, Ev("a"));
  keys.MarkDirty(a2);
  keys.state(a2).n = 2;
  keys.Snapshot(&store, false, kEncode);
  EXPECT_EQ(store.log, (std::vector<std::string>{"del " + Encoded("b"), "put " + Encoded("a")}));
  ASSERT_EQ(store.state.size(), 1u);

  // Deletes come sorted by key whatever the hash table's order.
  store.log.clear();
  for (const char* k : {"m", "d", "z"}) keys.MarkDirty(Upsert(&keys, Ev(k)));
  keys.Snapshot(&store, false, kEncode);
  store.log.clear();
  for (const char* k : {"z", "m", "d"}) keys.Free(keys.Find(Ev(k)));
  keys.Snapshot(&store, false, kEncode);
  EXPECT_EQ(store.log, (std::vector<std::string>{"del " + Encoded("d"), "del " + Encoded("m"),
                                                 "del " + Encoded("z")}));

  // A full snapshot writes every live key, dirty or not; a null writer forgets the changes.
  store.log.clear();
  keys.Snapshot(&store, true, kEncode);
  EXPECT_EQ(store.log, (std::vector<std::string>{"put " + Encoded("a")}));
  keys.MarkDirty(keys.Find(Ev("a")));
  keys.Snapshot(nullptr, false, kEncode);
  store.log.clear();
  keys.Snapshot(&store, false, kEncode);
  EXPECT_TRUE(store.log.empty());
  keys.MarkDirty(keys.Find(Ev("a")));
  keys.DiscardChanges();
  keys.Snapshot(&store, false, kEncode);
  EXPECT_TRUE(store.log.empty());
}

TEST(KeyedState, RestoreRoundTripsTheEnvelope) {
  Keys keys(Options());
  MapWriter store;
  const uint32_t a = NewKey(&keys, "a", 42);
  keys.state(a).n = 1234;
  keys.Snapshot(&store, true, kEncode);
  ASSERT_EQ(store.state.size(), 1u);
  const auto& [gk, value] = *store.state.begin();
  EXPECT_EQ(gk.first, KeyGroupOfValues({Value::String("a")}));
  EXPECT_EQ(gk.second, Encoded("a"));
  EXPECT_EQ(static_cast<uint8_t>(value[0]), Keys::kEnvelopeVersion);

  Keys restored(Options());
  auto slot = restored.Restore(gk.first, gk.second, value, kDecode);
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(restored.state(*slot).n, 1234u);
  EXPECT_EQ(restored.order(*slot), 42u);
  EXPECT_EQ(restored.key(*slot), std::vector<Value>{Value::String("a")});
  EXPECT_EQ(restored.Find(Ev("a")), *slot);
  EXPECT_EQ(restored.timer(*slot), Keys::kNoTimer);
  // Restored keys are stored: freeing one logs a delete.
  restored.Free(*slot);
  MapWriter after;
  after.state = store.state;
  restored.Snapshot(&after, false, kEncode);
  EXPECT_EQ(after.log, (std::vector<std::string>{"del " + Encoded("a")}));
}

TEST(KeyedState, RestoreRejectsForeignOrCorruptEntriesAndChangesNothing) {
  Keys keys(Options());
  MapWriter store;
  NewKey(&keys, "a", 1);
  keys.Snapshot(&store, true, kEncode);
  const auto [gk, value] = *store.state.begin();
  const auto [group, key] = gk;

  auto restore = [&](uint16_t g, const std::string& k, const std::string& v) {
    Keys fresh(Options());
    absl::Status st = fresh.Restore(g, k, v, kDecode).status();
    if (!st.ok()) {
      EXPECT_EQ(fresh.size(), 0u);
      EXPECT_NE(std::string(st.message()).find("test state: "), std::string::npos) << st;
    }
    return st.code();
  };
  EXPECT_EQ(restore(group, key, value), absl::StatusCode::kOk);
  EXPECT_EQ(restore(static_cast<uint16_t>(group + 1), key, value), absl::StatusCode::kDataLoss);
  EXPECT_EQ(restore(group, Encoded("b"), value), absl::StatusCode::kDataLoss);
  EXPECT_EQ(restore(group, key, value + "x"), absl::StatusCode::kDataLoss);
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_EQ(restore(group, key, value.substr(0, n)), absl::StatusCode::kDataLoss) << n;
  }
  std::string bad_version = value;
  bad_version[0] = 1;
  EXPECT_EQ(restore(group, key, bad_version), absl::StatusCode::kDataLoss);
  KeyedStateOptions other = Options();
  other.format = 8;
  Keys other_format(other);
  EXPECT_EQ(other_format.Restore(group, key, value, kDecode).status().code(),
            absl::StatusCode::kDataLoss);
  // The body's decoder's errors are the restore's.
  Keys failing(Options());
  auto st = failing.Restore(group, key, value, [](Decoder*, Counter*) {
    return absl::DataLossError("body says no");
  });
  EXPECT_EQ(st.status().message(), "test state: body says no");
  EXPECT_EQ(failing.size(), 0u);
  // Twice: the store is corrupt.
  Keys twice(Options());
  ASSERT_TRUE(twice.Restore(group, key, value, kDecode).ok());
  EXPECT_EQ(twice.Restore(group, key, value, kDecode).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(twice.size(), 1u);
}

}  // namespace
}  // namespace vigil::engine
