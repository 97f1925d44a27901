// SharedBuffer: events stored once, nodes shared by prefix, everything released by count.
#include "cep/nfa/shared_buffer.h"

#include <memory>

#include "gtest/gtest.h"

namespace vigil::cep {
namespace {

EventPtr Ev(int64_t t) {
  auto e = std::make_shared<Event>();
  e->time = EventTime(t);
  return e;
}

TEST(SharedBuffer, EventStoredOnceAndReleasedWithLastNode) {
  SharedBuffer b;
  uint32_t e1 = b.Register(Ev(1));
  uint32_t n1 = b.AddNode(e1, SharedBuffer::kNil, 0);
  b.ReleaseEvent(e1);
  uint32_t e2 = b.Register(Ev(2));
  // Two runs take the same event after the same prefix: one event, two nodes.
  uint32_t n2a = b.AddNode(e2, n1, 1);
  uint32_t n2b = b.AddNode(e2, n1, 1);
  b.ReleaseEvent(e2);
  EXPECT_EQ(b.live_events(), 2u);
  EXPECT_EQ(b.live_nodes(), 3u);
  b.Release(n1);  // the run that only held the prefix ends; children keep it alive
  EXPECT_EQ(b.live_nodes(), 3u);
  b.Release(n2a);
  EXPECT_EQ(b.live_events(), 2u);
  EXPECT_EQ(b.node(n2b).prev, n1);
  EXPECT_EQ(b.entry(b.node(n2b).event).event->time, EventTime(2));
  b.Release(n2b);
  EXPECT_TRUE(b.empty());
}

TEST(SharedBuffer, UnusedRegistrationIsDropped) {
  SharedBuffer b;
  uint32_t e = b.Register(Ev(1));
  EXPECT_EQ(b.live_events(), 1u);
  b.ReleaseEvent(e);
  EXPECT_TRUE(b.empty());
}

TEST(SharedBuffer, SlotsAreReusedSoMemoryStaysFlat) {
  SharedBuffer b;
  for (int i = 0; i < 100000; ++i) {
    uint32_t e = b.Register(Ev(i));
    uint32_t n = b.AddNode(e, SharedBuffer::kNil, 0);
    b.ReleaseEvent(e);
    uint32_t e2 = b.Register(Ev(i));
    uint32_t n2 = b.AddNode(e2, n, 1);
    b.ReleaseEvent(e2);
    b.Release(n);
    b.Release(n2);
    ASSERT_LE(b.live_events(), 2u);
  }
  EXPECT_TRUE(b.empty());
}

TEST(SharedBuffer, EventIdsFollowRegistrationOrder) {
  SharedBuffer b;
  uint32_t e1 = b.Register(Ev(1));
  uint32_t n1 = b.AddNode(e1, SharedBuffer::kNil, 0);
  uint32_t e2 = b.Register(Ev(2));
  uint32_t n2 = b.AddNode(e2, n1, 0);
  EXPECT_LT(b.entry(e1).id, b.entry(e2).id);
  b.ReleaseEvent(e1);
  b.ReleaseEvent(e2);
  b.Release(n1);
  b.Release(n2);
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace vigil::cep
