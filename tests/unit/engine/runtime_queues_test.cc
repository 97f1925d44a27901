#include "engine/runtime/queues.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace vigil::engine::runtime {
namespace {

using namespace std::chrono_literals;

TEST(BoundedQueue, PushBlocksWhenFullUntilAPop) {
  BoundedQueue<int> q(2);
  ASSERT_TRUE(q.Push(1));
  ASSERT_TRUE(q.Push(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    q.Push(3);
    pushed = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(pushed.load());  // backpressure: the producer waits
  int v = 0;
  ASSERT_TRUE(q.Pop(&v));
  EXPECT_EQ(v, 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  ASSERT_TRUE(q.Pop(&v));
  EXPECT_EQ(v, 2);
  ASSERT_TRUE(q.Pop(&v));
  EXPECT_EQ(v, 3);
}

TEST(BoundedQueue, CloseWakesWaitersAndDrains) {
  BoundedQueue<int> q(1);
  ASSERT_TRUE(q.Push(7));
  std::thread producer([&] { EXPECT_FALSE(q.Push(8)); });
  std::this_thread::sleep_for(20ms);
  q.Close();
  producer.join();
  int v = 0;
  ASSERT_TRUE(q.Pop(&v));  // what was queued is still delivered
  EXPECT_EQ(v, 7);
  EXPECT_FALSE(q.Pop(&v));
}

TEST(LaneQueue, PausedLanesAreNotServedUntilResumed) {
  LaneQueue<int> q(3, 4);
  q.Push(0, 10);
  q.Push(0, 11);
  q.Push(1, 20);
  q.Push(2, 30);
  int v = 0, lane = -1;
  // Barrier alignment: lane 0 delivered its barrier, so only lanes 1 and 2 are served.
  q.Pause(0);
  std::vector<int> got;
  while (q.TryPop(&v, &lane)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{20, 30}));
  q.ResumeAll();
  ASSERT_TRUE(q.Pop(&v, &lane));
  EXPECT_EQ(v, 10);
  EXPECT_EQ(lane, 0);
}

TEST(LaneQueue, PausedFullLaneBlocksItsProducerOnly) {
  LaneQueue<int> q(2, 1);
  q.Push(0, 1);
  q.Pause(0);
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    q.Push(0, 2);
    pushed = true;
  });
  q.Push(1, 5);  // the other lane still flows
  int v = 0, lane = -1;
  ASSERT_TRUE(q.Pop(&v, &lane));
  EXPECT_EQ(lane, 1);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(pushed.load());
  q.ResumeAll();
  ASSERT_TRUE(q.Pop(&v, &lane));
  EXPECT_EQ(v, 1);
  producer.join();
  ASSERT_TRUE(q.Pop(&v, &lane));
  EXPECT_EQ(v, 2);
}

TEST(LaneQueue, RoundRobinAcrossLanes) {
  LaneQueue<int> q(2, 8);
  for (int i = 0; i < 3; ++i) {
    q.Push(0, i);
    q.Push(1, 100 + i);
  }
  int v = 0, lane = -1;
  std::vector<int> lanes;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(q.Pop(&v, &lane));
    lanes.push_back(lane);
  }
  EXPECT_EQ(lanes, (std::vector<int>{0, 1, 0, 1, 0, 1}));
}

}  // namespace
}  // namespace vigil::engine::runtime
