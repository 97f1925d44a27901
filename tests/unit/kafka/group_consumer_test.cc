// GroupConsumer against librdkafka's mock cluster: partitions split between members,
// offsets from the assignment callback, failover when a member leaves or its process is
// killed, cooperative (incremental) and eager rebalances.
//
// The mock's group coordinator (librdkafka 2.0.2) waits 3 s for more members when a group
// forms, and session.timeout.ms - 1000 ms for members to rejoin at every later rebalance; it
// notices a dead member within session.timeout.ms (+ up to 1 s). The tests use a 3 s session
// timeout, so a rebalance takes ~2 s here.
#include "engine/kafka/group_consumer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "tests/unit/kafka/kafka_test_util.h"

extern char** environ;

namespace vigil::kafka_test {
namespace {

using engine::kafka::ConsumedRecord;
using engine::kafka::GroupConsumer;
using engine::kafka::GroupConsumerOptions;
using engine::kafka::TopicPartition;
using Clock = std::chrono::steady_clock;

constexpr int kSessionTimeoutMs = 3000;
constexpr int kHeartbeatMs = 300;

std::string Value(int p, int i) {
  return "{\"p\":" + std::to_string(p) + ",\"i\":" + std::to_string(i) + "}";
}

GroupConsumerOptions Options(const std::string& brokers, const std::string& group,
                             const std::string& topic, const std::string& instance) {
  GroupConsumerOptions o;
  o.client.brokers = brokers;
  o.group = group;
  o.instance = instance;
  o.topics = {topic};
  o.session_timeout_ms = kSessionTimeoutMs;
  o.heartbeat_interval_ms = kHeartbeatMs;
  o.log = [](std::string_view) {};
  return o;
}

// A member of a group driven by the test: what its callbacks said, what it read.
struct Member {
  explicit Member(std::string n) : name(std::move(n)) {}
  Member(const Member&) = delete;  // its callbacks point at it
  Member& operator=(const Member&) = delete;

  std::string name;
  std::unique_ptr<GroupConsumer> consumer;
  std::set<int> owned;  // partitions, per the callbacks
  std::vector<std::vector<int>> assigns, revokes;
  std::function<int64_t(int)> start = [](int) { return RD_KAFKA_OFFSET_BEGINNING; };
  std::map<int, std::vector<int64_t>> offsets;  // partition -> offsets read, in order
  std::map<std::pair<int, int64_t>, std::string> values;
  int outside_assignment = 0;  // records of partitions the callbacks did not give it
  int bad_padding = 0;

  static std::vector<int> Partitions(const std::vector<TopicPartition>& tps) {
    std::vector<int> out;
    for (const TopicPartition& tp : tps) out.push_back(tp.partition);
    std::sort(out.begin(), out.end());
    return out;
  }

  void Open(const GroupConsumerOptions& o) {
    auto c = GroupConsumer::Open(
        o,
        [this](const std::vector<TopicPartition>& tps) -> absl::StatusOr<std::vector<int64_t>> {
          std::vector<int64_t> starts;
          for (const TopicPartition& tp : tps) {
            EXPECT_FALSE(owned.count(tp.partition)) << name << " assigned twice " << tp.partition;
            owned.insert(tp.partition);
            starts.push_back(start(tp.partition));
          }
          assigns.push_back(Partitions(tps));
          return starts;
        },
        [this](const std::vector<TopicPartition>& tps) {
          for (const TopicPartition& tp : tps) {
            EXPECT_TRUE(owned.count(tp.partition)) << name << " revoked " << tp.partition;
            owned.erase(tp.partition);
          }
          revokes.push_back(Partitions(tps));
          return absl::OkStatus();
        },
        5000);
    ASSERT_TRUE(c.ok()) << c.status();
    consumer = std::move(*c);
  }

  void PollOnce(int timeout_ms = 0) {
    std::vector<ConsumedRecord> out;
    absl::Status st = consumer->Poll(1000, timeout_ms, &out);
    ASSERT_TRUE(st.ok()) << name << ": " << st;
    for (const ConsumedRecord& r : out) {
      if (!owned.count(r.partition)) ++outside_assignment;
      for (size_t i = 0; i < GroupConsumer::kPadding; ++i) {
        if (r.value.data()[r.value.size() + i] != 0) ++bad_padding;
      }
      offsets[r.partition].push_back(r.offset);
      values[{r.partition, r.offset}] = std::string(r.value);
    }
    // The consumer's own view agrees with the callbacks.
    EXPECT_EQ(Partitions(consumer->assignment()), std::vector<int>(owned.begin(), owned.end()));
  }
  size_t records() const {
    size_t n = 0;
    for (const auto& [p, v] : offsets) n += v.size();
    return n;
  }
};

// Polls every member until `done()` holds or `timeout` passes; returns whether it held.
bool PollUntil(const std::vector<Member*>& members, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    for (Member* m : members) m->PollOnce();
    if (::testing::Test::HasFatalFailure()) return false;
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Whether the members' partitions are disjoint, cover 0..n-1 and none is empty.
bool Split(const std::vector<Member*>& members, int n) {
  std::set<int> all;
  size_t total = 0;
  for (const Member* m : members) {
    if (m->owned.empty()) return false;
    total += m->owned.size();
    all.insert(m->owned.begin(), m->owned.end());
  }
  return total == static_cast<size_t>(n) && all.size() == static_cast<size_t>(n);
}

class GroupConsumerTest : public KafkaTest {
 protected:
  GroupConsumerOptions Opts(const std::string& group, const std::string& topic,
                            const std::string& instance) {
    return Options(cluster_->bootstrap(), group, topic, instance);
  }
};

TEST_F(GroupConsumerTest, TwoMembersSplitThePartitionsAndStartWhereTheCallbackSays) {
  CreateTopic("gc-split", 4);
  ProduceMany("gc-split", 4, 40);  // offsets 0..9 in each partition
  Member a{"a"}, b{"b"};
  a.start = b.start = [](int) { return int64_t{5}; };
  a.Open(Opts("g-split", "gc-split", "a"));
  b.Open(Opts("g-split", "gc-split", "b"));
  ASSERT_TRUE(PollUntil({&a, &b},
                        [&] {
                          return Split({&a, &b}, 4) && a.records() + b.records() == 20;
                        }))
      << "a owns " << a.owned.size() << ", b " << b.owned.size() << "; read " << a.records() << "+"
      << b.records();
  for (Member* m : {&a, &b}) {
    EXPECT_EQ(m->outside_assignment, 0) << m->name;
    EXPECT_EQ(m->bad_padding, 0) << m->name;
    EXPECT_TRUE(m->revokes.empty()) << m->name;
    for (int p : m->owned) {
      EXPECT_EQ(m->offsets[p], (std::vector<int64_t>{5, 6, 7, 8, 9}))
          << m->name << " partition " << p;
      for (int64_t o = 5; o < 10; ++o) {
        EXPECT_EQ((m->values[{p, o}]), Value(p, static_cast<int>(o) * 4 + p));
      }
    }
  }
}

TEST_F(GroupConsumerTest, WhenAMemberLeavesTheOtherGetsItsPartitions) {
  CreateTopic("gc-leave", 4);
  ProduceMany("gc-leave", 4, 8);  // offsets 0..1 in each partition
  Member a{"a"}, b{"b"};
  a.Open(Opts("g-leave", "gc-leave", "a"));
  b.Open(Opts("g-leave", "gc-leave", "b"));
  ASSERT_TRUE(PollUntil({&a, &b}, [&] {
    return Split({&a, &b}, 4) && a.records() + b.records() == 8;
  }));
  const std::set<int> b_had = b.owned;

  const auto left = Clock::now();
  b.consumer.reset();  // leaves the group
  ASSERT_TRUE(PollUntil({&a}, [&] { return a.owned.size() == 4; }))
      << "a owns " << a.owned.size() << " partitions";
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - left).count();
  std::printf("[ failover ] a member that left cleanly: its partitions moved in %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_LT(ms, kSessionTimeoutMs + 3000);
  EXPECT_EQ(a.assigns.size(), 2u);
  EXPECT_EQ(a.assigns.back(), std::vector<int>(b_had.begin(), b_had.end()));
  EXPECT_TRUE(a.revokes.empty()) << "cooperative: a keeps what it had";

  // a reads b's partitions from their start (the callback's offset), and the new records.
  ProduceMany("gc-leave", 4, 4, 8);  // offset 2 in each partition
  ASSERT_TRUE(PollUntil(
      {&a}, [&] { return a.records() == 12; }, std::chrono::seconds(10)))
      << a.records();
  for (int p = 0; p < 4; ++p) EXPECT_EQ(a.offsets[p], (std::vector<int64_t>{0, 1, 2})) << p;
  EXPECT_EQ(a.outside_assignment, 0);
}

TEST_F(GroupConsumerTest, AThirdMemberTakesPartitionsWithoutRevokingTheOthers) {
  CreateTopic("gc-third", 4);
  ProduceMany("gc-third", 4, 40);  // offsets 0..9
  Member a{"a"}, b{"b"}, c{"c"};
  a.Open(Opts("g-third", "gc-third", "a"));
  b.Open(Opts("g-third", "gc-third", "b"));
  ASSERT_TRUE(PollUntil({&a, &b}, [&] {
    return Split({&a, &b}, 4) && a.records() + b.records() == 40;
  }));
  const std::set<int> a_had = a.owned, b_had = b.owned;
  a.assigns.clear();
  b.assigns.clear();

  c.start = [](int) { return int64_t{10}; };  // only what is produced from now on
  c.Open(Opts("g-third", "gc-third", "c"));
  ASSERT_TRUE(PollUntil({&a, &b, &c},
                        [&] {
                          return Split({&a, &b, &c}, 4);
                        }))
      << "a " << a.owned.size() << ", b " << b.owned.size() << ", c " << c.owned.size();
  // Balanced: 2, 1, 1 (sticky: c takes one partition from a member that had two).
  EXPECT_EQ(c.owned.size(), 1u);
  EXPECT_EQ(a.owned.size() + b.owned.size(), 3u);
  for (Member* m : {&a, &b}) {
    const std::set<int>& had = m == &a ? a_had : b_had;
    EXPECT_TRUE(m->assigns.empty()) << m->name << " was assigned something new";
    std::set<int> revoked;
    for (const auto& r : m->revokes) revoked.insert(r.begin(), r.end());
    for (int p : revoked)
      EXPECT_TRUE(c.owned.count(p)) << m->name << " lost " << p << " but c does not have it";
    std::set<int> kept;
    std::set_difference(had.begin(), had.end(), revoked.begin(), revoked.end(),
                        std::inserter(kept, kept.begin()));
    EXPECT_EQ(kept, m->owned) << m->name << ": only partitions that moved are revoked";
  }
  EXPECT_EQ(c.revokes.size(), 0u);
  ASSERT_EQ(c.assigns.size(), 1u);

  // New records of the moved partition reach c only; a and b read their own.
  const int moved = *c.owned.begin();
  const size_t a_before = a.offsets[moved].size() + b.offsets[moved].size();
  ProduceMany("gc-third", 4, 20, 40);  // offsets 10..14
  ASSERT_TRUE(PollUntil(
      {&a, &b, &c}, [&] { return a.records() + b.records() + c.records() == 40 + 20; },
      std::chrono::seconds(10)))
      << a.records() << "+" << b.records() << "+" << c.records();
  EXPECT_EQ(c.offsets[moved], (std::vector<int64_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(a.offsets[moved].size() + b.offsets[moved].size(), a_before)
      << "the old owner still read the moved partition";
  for (Member* m : {&a, &b, &c}) EXPECT_EQ(m->outside_assignment, 0) << m->name;
}

TEST_F(GroupConsumerTest, EagerStrategyRevokesAndReassignsEverything) {
  CreateTopic("gc-eager", 4);
  Member a{"a"}, b{"b"};
  GroupConsumerOptions oa = Opts("g-eager", "gc-eager", "a"), ob = Opts("g-eager", "gc-eager", "b");
  oa.assignment_strategy = ob.assignment_strategy = "range";
  a.Open(oa);
  ASSERT_TRUE(PollUntil({&a}, [&] { return a.owned.size() == 4; }));
  b.Open(ob);
  ASSERT_TRUE(PollUntil({&a, &b}, [&] { return Split({&a, &b}, 4); }));
  // Eager: a gave everything back, then got its new share in one assignment.
  ASSERT_EQ(a.revokes.size(), 1u);
  EXPECT_EQ(a.revokes[0], (std::vector<int>{0, 1, 2, 3}));
  ASSERT_EQ(a.assigns.size(), 2u);
  EXPECT_EQ(a.assigns[1].size(), 2u);
  ProduceMany("gc-eager", 4, 8);
  ASSERT_TRUE(PollUntil(
      {&a, &b}, [&] { return a.records() + b.records() == 8; }, std::chrono::seconds(10)));
  EXPECT_EQ(a.outside_assignment + b.outside_assignment, 0);
  EXPECT_EQ(a.records(), 4u);
}

TEST_F(GroupConsumerTest, AnAssignmentCallbackErrorFailsPollAndTheRecordsAreNotReturned) {
  CreateTopic("gc-cberr", 2);
  ProduceMany("gc-cberr", 2, 4);
  auto c = GroupConsumer::Open(
      Opts("g-cberr", "gc-cberr", "x"),
      [](const std::vector<TopicPartition>&) -> absl::StatusOr<std::vector<int64_t>> {
        return absl::DataLossError("no checkpoint");
      },
      [](const std::vector<TopicPartition>&) { return absl::OkStatus(); }, 5000);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::Status st;
  std::vector<ConsumedRecord> out;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  size_t read = 0;
  while (st.ok() && Clock::now() < deadline) {
    st = (*c)->Poll(100, 50, &out);
    read += out.size();
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*c)->Poll(100, 50, &out).ok());
    read += out.size();
  }
  EXPECT_EQ(read, 0u);
  EXPECT_TRUE((*c)->assignment().empty());
}

TEST_F(GroupConsumerTest, OpenRejectsBadOptionsAndMissingTopics) {
  CreateTopic("gc-open", 1);
  auto noop_assign =
      [](const std::vector<TopicPartition>& tps) -> absl::StatusOr<std::vector<int64_t>> {
    return std::vector<int64_t>(tps.size(), RD_KAFKA_OFFSET_BEGINNING);
  };
  auto noop_revoke = [](const std::vector<TopicPartition>&) { return absl::OkStatus(); };
  GroupConsumerOptions o = Opts("g-open", "gc-open", "x");
  o.group.clear();
  EXPECT_EQ(GroupConsumer::Open(o, noop_assign, noop_revoke).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Opts("g-open", "gc-open", "x");
  o.heartbeat_interval_ms = o.session_timeout_ms;
  EXPECT_EQ(GroupConsumer::Open(o, noop_assign, noop_revoke).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Opts("g-open", "gc-open", "x");
  o.assignment_strategy = "no-such-strategy";
  EXPECT_EQ(GroupConsumer::Open(o, noop_assign, noop_revoke).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Opts("g-open", "gc-missing", "x");
  auto missing = GroupConsumer::Open(o, noop_assign, noop_revoke);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("gc-missing"), std::string::npos) << missing.status();
  EXPECT_NE(missing.status().message().find(cluster_->bootstrap()), std::string::npos);

  o = Options("127.0.0.1:1", "g", "t", "x");
  const auto start = Clock::now();
  auto unreachable = GroupConsumer::Open(o, noop_assign, noop_revoke, 1000);
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable) << unreachable.status();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_F(GroupConsumerTest, WaitFdBecomesReadableWhenRecordsArrive) {
  CreateTopic("gc-fd", 1);
  Member a{"a"};
  a.Open(Opts("g-fd", "gc-fd", "a"));
  ASSERT_TRUE(PollUntil({&a}, [&] { return a.owned.size() == 1; }));
  a.PollOnce();
  pollfd pfd{a.consumer->wait_fd(), POLLIN, 0};
  ASSERT_GE(pfd.fd, 0);
  Produce("gc-fd", 0, "{\"x\":1}");
  EXPECT_EQ(::poll(&pfd, 1, 5000), 1);
  ASSERT_TRUE(PollUntil(
      {&a}, [&] { return a.records() == 1; }, std::chrono::seconds(5)));
  EXPECT_EQ((a.values[{0, 0}]), "{\"x\":1}");
  EXPECT_EQ(a.consumer->high_watermark({"gc-fd", 0}), 1);
  EXPECT_EQ(a.consumer->high_watermark({"gc-fd", 7}), -1);

  // Paused: nothing is fetched; resumed: the record arrives.
  ASSERT_TRUE(a.consumer->Pause({"gc-fd", 0}).ok());
  Produce("gc-fd", 0, "{\"x\":2}");
  PollUntil(
      {&a}, [] { return false; }, std::chrono::milliseconds(700));
  EXPECT_EQ(a.records(), 1u);
  ASSERT_TRUE(a.consumer->Resume({"gc-fd", 0}).ok());
  ASSERT_TRUE(PollUntil(
      {&a}, [&] { return a.records() == 2; }, std::chrono::seconds(5)));
}

// A suite of its own, so a cluster of its own: injected errors reach no other test's client.
class GroupConsumerFailureTest : public GroupConsumerTest {};

TEST_F(GroupConsumerFailureTest, ARefusedSessionTimeoutFailsPoll) {
  CreateTopic("gcf-session", 1);
  constexpr int16_t kApiJoinGroup = 11;
  // What a real broker answers below its group.min.session.timeout.ms.
  rd_kafka_mock_push_request_errors(cluster_->raw(), kApiJoinGroup, 1,
                                    RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT);
  Member a{"a"};
  a.Open(Opts("gf-session", "gcf-session", "a"));
  std::vector<ConsumedRecord> out;
  absl::Status st;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (st.ok() && Clock::now() < deadline) st = a.consumer->Poll(10, 50, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("INVALID_SESSION_TIMEOUT"), std::string::npos) << st;
}

// --- A member in another process, killed ---------------------------------------------------

// The environment variable that makes ChildMember run (brokers, group, topic, '|'-separated).
constexpr const char* kChildEnv = "VIGIL_KAFKA_TEST_CHILD_MEMBER";

// Not a test of its own: the process KilledMembersPartitionsMove starts and kills. It joins
// the group and prints "owned N" on standard output whenever its assignment changes.
TEST(GroupConsumerChild, DISABLED_ChildMember) {
  const char* spec = std::getenv(kChildEnv);
  if (spec == nullptr) return;
  std::string s(spec);
  size_t bar1 = s.find('|'), bar2 = s.find('|', bar1 + 1);
  Member m{"child"};
  m.Open(
      Options(s.substr(0, bar1), s.substr(bar1 + 1, bar2 - bar1 - 1), s.substr(bar2 + 1), "child"));
  size_t reported = SIZE_MAX;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    m.PollOnce(50);
    if (m.owned.size() != reported) {
      reported = m.owned.size();
      std::printf("owned %zu\n", reported);
      std::fflush(stdout);
    }
  }
}

TEST_F(GroupConsumerTest, AKilledMembersPartitionsMoveWithinTheSessionTimeout) {
  CreateTopic("gc-kill", 4);
  Member a{"a"};
  a.Open(Opts("g-kill", "gc-kill", "a"));

  // The child: this test program again, running only ChildMember.
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::string env_entry = std::string(kChildEnv) + "=" + cluster_->bootstrap() + "|g-kill|gc-kill";
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(env_entry.data());
  env.push_back(nullptr);
  std::string self = "/proc/self/exe",
              filter = "--gtest_filter=GroupConsumerChild.DISABLED_ChildMember",
              disabled = "--gtest_also_run_disabled_tests";
  char* argv[] = {self.data(), filter.data(), disabled.data(), nullptr};
  pid_t child = -1;
  ASSERT_EQ(posix_spawn(&child, self.c_str(), &actions, nullptr, argv, env.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  std::string child_out;
  auto child_owns = [&]() -> int {
    char buf[256];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) child_out.append(buf, n);
    size_t at = child_out.rfind("owned ");
    return at == std::string::npos ? -1 : std::atoi(child_out.c_str() + at + 6);
  };

  bool split = PollUntil({&a}, [&] { return a.owned.size() == 2 && child_owns() == 2; });
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(out[0]);
  ASSERT_TRUE(split) << "a owns " << a.owned.size() << "; the child said:\n" << child_out;

  const auto killed = Clock::now();
  ASSERT_TRUE(PollUntil({&a}, [&] { return a.owned.size() == 4; })) << a.owned.size();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count();
  std::printf(
      "[ failover ] a killed member (session timeout %d ms): its partitions moved in %lld ms\n",
      kSessionTimeoutMs, static_cast<long long>(ms));
  // The mock notices the death within session timeout + 1 s, then waits session timeout - 1 s
  // for the survivors to rejoin.
  EXPECT_LT(ms, 2 * kSessionTimeoutMs + 3000);
  EXPECT_TRUE(a.revokes.empty());
}

}  // namespace
}  // namespace vigil::kafka_test
