#include "pipeline/sink_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::pipeline {
namespace {

std::unique_ptr<QueuedMessage> Msg(std::string group, uint32_t idx, size_t body = 10) {
  auto m = std::make_unique<QueuedMessage>();
  m->message.group_key = std::move(group);
  m->message.position = Position{100, idx};
  m->message.json = std::string(body, 'x');
  m->ticket = idx;
  return m;
}

void Push(SinkQueue& q, std::unique_ptr<QueuedMessage> m) {
  ASSERT_TRUE(q.Push(m, std::chrono::milliseconds(0)));
}

TEST(SinkQueueTest, OneBatchInFlightPerGroup) {
  SinkQueue q(1 << 20);
  Push(q, Msg("a", 0));
  Push(q, Msg("a", 1));
  Push(q, Msg("b", 2));
  TakenBatch first = q.TakeBatch(1);
  ASSERT_EQ(first.messages.size(), 1u);
  EXPECT_EQ(first.messages[0]->message.position.commit_idx, 0u);
  // "a" is in flight, so only "b" is ready.
  EXPECT_EQ(q.ReadyCount(), 1u);
  TakenBatch second = q.TakeBatch(10);
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(second.messages[0]->message.group_key, "b");
  EXPECT_TRUE(q.TakeBatch(10).messages.empty());
  q.Complete(std::move(first));
  TakenBatch third = q.TakeBatch(10);
  ASSERT_EQ(third.messages.size(), 1u);
  EXPECT_EQ(third.messages[0]->message.position.commit_idx, 1u);
}

TEST(SinkQueueTest, CompletedMessagesComeBackThroughPushEmptied) {
  SinkQueue q(1 << 20);
  auto m = Msg("a", 0, 100);
  m->message.route = std::make_shared<MessageRoute>();
  m->message.hold_error = "bad cast";
  ASSERT_TRUE(q.Push(m, std::chrono::milliseconds(0)));
  EXPECT_EQ(m, nullptr);  // nothing completed yet: no message to reuse
  TakenBatch b = q.TakeBatch(10);
  const QueuedMessage* done = b.messages[0].get();
  q.Complete(std::move(b));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0u);

  auto next = Msg("b", 1);
  ASSERT_TRUE(q.Push(next, std::chrono::milliseconds(0)));
  ASSERT_EQ(next.get(), done);  // the completed one, to fill next
  const Message& r = next->message;
  EXPECT_TRUE(r.json.empty());
  EXPECT_GE(r.json.capacity(), 100u);  // its buffer kept for the next JSON
  EXPECT_TRUE(r.group_key.empty());
  EXPECT_EQ(r.route, nullptr);
  EXPECT_TRUE(r.hold_error.empty());
  EXPECT_EQ(r.position, Position{});
  EXPECT_EQ(next->ticket, 0u);
  EXPECT_EQ(next->next, nullptr);
  // The queued message is "b", untouched.
  TakenBatch taken = q.TakeBatch(10);
  ASSERT_EQ(taken.messages.size(), 1u);
  EXPECT_EQ(taken.messages[0]->message.group_key, "b");
}

TEST(SinkQueueTest, ALargeJsonIsFreedRatherThanKeptWithASpareMessage) {
  SinkQueue q(1 << 20);
  auto m = Msg("a", 0, 20000);
  ASSERT_TRUE(q.Push(m, std::chrono::milliseconds(0)));
  q.Complete(q.TakeBatch(10));
  auto next = Msg("b", 1);
  ASSERT_TRUE(q.Push(next, std::chrono::milliseconds(0)));
  ASSERT_NE(next, nullptr);
  EXPECT_TRUE(next->message.json.empty());
  EXPECT_LT(next->message.json.capacity(), 100u);
}

TEST(SinkQueueTest, BatchKeepsGroupOrder) {
  SinkQueue q(1 << 20);
  for (uint32_t i = 0; i < 5; ++i) Push(q, Msg(i % 2 ? "odd" : "even", i));
  TakenBatch b = q.TakeBatch(10);
  ASSERT_EQ(b.messages.size(), 5u);
  uint32_t last_even = 0, last_odd = 0;
  bool seen_even = false, seen_odd = false;
  for (const auto& m : b.messages) {
    uint32_t idx = m->message.position.commit_idx;
    if (idx % 2) {
      if (seen_odd) {
        EXPECT_GT(idx, last_odd);
      }
      last_odd = idx;
      seen_odd = true;
    } else {
      if (seen_even) {
        EXPECT_GT(idx, last_even);
      }
      last_even = idx;
      seen_even = true;
    }
  }
}

TEST(SinkQueueTest, FullQueueBlocksUntilCompletion) {
  const size_t one = Msg("a", 0, 1000)->message.ByteSize();
  SinkQueue q(one * 2);
  Push(q, Msg("a", 0, 1000));
  Push(q, Msg("b", 1, 1000));
  auto third = Msg("c", 2, 1000);
  EXPECT_FALSE(q.Push(third, std::chrono::milliseconds(20)));
  TakenBatch b = q.TakeBatch(1);
  std::thread completer([&] { q.Complete(std::move(b)); });
  EXPECT_TRUE(q.Push(third, std::chrono::seconds(10)));
  completer.join();
  EXPECT_EQ(q.size(), 2u);
}

TEST(SinkQueueTest, OversizedMessagePassesWhenEmpty) {
  SinkQueue q(10);
  auto big = Msg("a", 0, 100000);
  EXPECT_TRUE(q.Push(big, std::chrono::milliseconds(0)));
}

TEST(SinkQueueTest, InterruptWakesABlockedPush) {
  SinkQueue q(10);
  Push(q, Msg("a", 0, 100));
  auto m = Msg("b", 1, 100);
  std::thread t([&] { q.Interrupt(); });
  EXPECT_FALSE(q.Push(m, std::chrono::seconds(30)));
  t.join();
  EXPECT_NE(m, nullptr);
}

TEST(SinkQueueTest, OnReadyFiresWhenAGroupBecomesReady) {
  SinkQueue q(1 << 20);
  int fired = 0;
  size_t last_ready = 0;
  q.SetOnReady([&](size_t ready) {
    ++fired;
    last_ready = ready;
  });
  Push(q, Msg("a", 0));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(last_ready, 1u);
  TakenBatch b = q.TakeBatch(1);
  Push(q, Msg("a", 1));  // group in flight: not ready yet
  EXPECT_EQ(fired, 1);
  Push(q, Msg("b", 2));
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(last_ready, 1u);
  q.Complete(std::move(b));
  EXPECT_EQ(fired, 3);
  EXPECT_EQ(last_ready, 2u);
}

}  // namespace
}  // namespace sluice::pipeline
