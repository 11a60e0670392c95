#include "sinks/http_pull/pull_queue.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <filesystem>
#include <future>
#include <thread>

#include "state/sqlite_state_store.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;

class PullQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-pq-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    store_ = std::move(state::SqliteStateStore::Open((dir_ / "s.db").string())).value();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    queue_.reset();
    work_.reset();
    io_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }
  PullQueue& Queue(PullQueueOptions o = {}) {
    queue_ = std::make_unique<PullQueue>("orders", *store_, o, io_, [this] { return now_.load(); });
    EXPECT_TRUE(queue_->Load().ok());
    return *queue_;
  }
  void Append(std::vector<std::pair<std::string, uint32_t>> msgs) {
    std::vector<Message> owned(msgs.size());
    Batch b;
    for (size_t i = 0; i < msgs.size(); ++i) {
      owned[i].group_key = msgs[i].first;
      owned[i].position = {100, msgs[i].second};
      owned[i].json = "{\"idx\":" + std::to_string(msgs[i].second) + "}";
      b.messages.push_back(&owned[i]);
    }
    ASSERT_TRUE(queue_->Append(b).ok());
  }
  std::vector<PulledMessage> Receive(size_t max, std::chrono::milliseconds wait = 0ms) {
    std::promise<Result<std::vector<PulledMessage>>> p;
    queue_->Receive(max, wait, [&](Result<std::vector<PulledMessage>> r) { p.set_value(r); });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<PulledMessage>{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqliteStateStore> store_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::thread thread_;
  std::atomic<int64_t> now_{1000000};
  std::unique_ptr<PullQueue> queue_;
};

TEST_F(PullQueueTest, HandsOutOneMessagePerGroupAtATime) {
  Queue();
  Append({{"a", 0}, {"a", 1}, {"b", 2}});
  auto first = Receive(10);
  ASSERT_EQ(first.size(), 2u);  // heads of a and b only
  EXPECT_EQ(first[0].json, "{\"idx\":0}");
  EXPECT_EQ(first[1].json, "{\"idx\":2}");
  EXPECT_TRUE(Receive(10).empty());
  EXPECT_EQ(queue_->Ack({first[0].ack_id}).done, 1u);
  auto next = Receive(10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].json, "{\"idx\":1}");
  EXPECT_EQ(queue_->depth(), 2u);
}

TEST_F(PullQueueTest, UnacknowledgedMessageComesBackWithHigherDeliverCount) {
  Queue(PullQueueOptions{1000ms, 100, 10});
  Append({{"a", 0}});
  auto first = Receive(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].deliver_count, 1u);
  EXPECT_TRUE(Receive(1).empty());
  now_ += 1001;
  auto again = Receive(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].deliver_count, 2u);
  // The expired delivery's ack id is reported, not accepted.
  AckOutcome stale = queue_->Ack({first[0].ack_id});
  EXPECT_EQ(stale.done, 0u);
  EXPECT_EQ(stale.unknown, std::vector<std::string>{first[0].ack_id});
  EXPECT_EQ(queue_->Ack({again[0].ack_id}).done, 1u);
  EXPECT_EQ(queue_->depth(), 0u);
}

TEST_F(PullQueueTest, UnknownAndMalformedAckIdsAreReported) {
  Queue();
  Append({{"a", 0}});
  auto m = Receive(1);
  AckOutcome out = queue_->Ack({"nonsense", "99-abc", m[0].ack_id, m[0].ack_id});
  EXPECT_EQ(out.done, 1u);
  EXPECT_EQ(out.unknown.size(), 3u);  // the second use of the same id too
}

TEST_F(PullQueueTest, NackWithDelayRedeliversLater) {
  Queue();
  Append({{"a", 0}, {"a", 1}});
  auto m = Receive(5);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(queue_->Nack({m[0].ack_id}, 5000ms).done, 1u);
  EXPECT_TRUE(Receive(5).empty());  // the group waits for its head
  now_ += 5000;
  auto again = Receive(5);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].json, "{\"idx\":0}");
  EXPECT_EQ(again[0].deliver_count, 2u);
}

TEST_F(PullQueueTest, MaxAckPendingIsEnforced) {
  Queue(PullQueueOptions{30000ms, 2, 10});
  Append({{"a", 0}, {"b", 1}, {"c", 2}});
  EXPECT_EQ(Receive(10).size(), 2u);
  EXPECT_TRUE(Receive(10).empty());
  EXPECT_EQ(queue_->outstanding(), 2u);
}

TEST_F(PullQueueTest, LongPollReturnsAsSoonAsMessagesArrive) {
  Queue();
  std::promise<Result<std::vector<PulledMessage>>> p;
  queue_->Receive(10, 60000ms, [&](Result<std::vector<PulledMessage>> r) { p.set_value(r); });
  ASSERT_EQ(queue_->waiting(), 1u);
  Append({{"a", 7}});
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto r = f.get();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].json, "{\"idx\":7}");
}

TEST_F(PullQueueTest, LongPollTimesOutEmpty) {
  Queue();
  auto r = Receive(10, 50ms);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(queue_->waiting(), 0u);
}

TEST_F(PullQueueTest, MaxWaitingRefusesExtraLongPolls) {
  Queue(PullQueueOptions{30000ms, 100, 1});
  std::atomic<int> done{0};
  queue_->Receive(1, 60000ms, [&](Result<std::vector<PulledMessage>>) { ++done; });
  std::promise<Result<std::vector<PulledMessage>>> p;
  queue_->Receive(1, 60000ms, [&](Result<std::vector<PulledMessage>> r) { p.set_value(r); });
  auto r = p.get_future().get();
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_waiting"), std::string::npos);
  queue_->Shutdown();
  EXPECT_EQ(done.load(), 1);
}

TEST_F(PullQueueTest, BodiesBeyondTheMemoryBudgetAndRedeliveriesComeFromTheStore) {
  PullQueueOptions o;
  o.fresh_body_bytes = 20;  // two 9-byte bodies fit, the third does not
  Queue(o);
  Append({{"a", 1}, {"b", 2}, {"c", 3}});
  auto m = Receive(10);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].json, "{\"idx\":1}");
  EXPECT_EQ(m[1].json, "{\"idx\":2}");
  EXPECT_EQ(m[2].json, "{\"idx\":3}");  // read back from the store
  // Handed out again (nack): the body left memory with the first delivery.
  EXPECT_EQ(queue_->Nack({m[1].ack_id}, 0ms).done, 1u);
  auto again = Receive(10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].json, "{\"idx\":2}");
  EXPECT_EQ(again[0].deliver_count, 2u);
  // Memory freed by handing out takes new bodies again.
  Append({{"d", 4}});
  auto d = Receive(10);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].json, "{\"idx\":4}");
  EXPECT_EQ(queue_->Ack({m[0].ack_id, m[2].ack_id, again[0].ack_id, d[0].ack_id}).done, 4u);
  EXPECT_EQ(queue_->depth(), 0u);
}

TEST_F(PullQueueTest, LongGroupsStayInOrderAcrossAppendsAndARestart) {
  Queue();
  Append({{"a", 1}, {"b", 2}, {"a", 3}});
  Append({{"a", 4}, {"b", 5}, {"c", 6}});
  std::vector<std::string> order;
  auto drain_one_round = [&] {
    auto m = Receive(10);
    std::vector<std::string> ids;
    for (const auto& p : m) {
      order.push_back(p.json);
      ids.push_back(p.ack_id);
    }
    EXPECT_EQ(queue_->Ack(ids).done, ids.size());
    return m.size();
  };
  EXPECT_EQ(drain_one_round(), 3u);  // heads of a, b, c
  // Restart: a's 3 and 4 and b's 5 are left, 4 behind 3.
  queue_.reset();
  Queue();
  EXPECT_EQ(queue_->depth(), 3u);
  EXPECT_EQ(drain_one_round(), 2u);  // a:3, b:5
  Append({{"a", 7}});
  EXPECT_EQ(drain_one_round(), 1u);  // a:4
  EXPECT_EQ(drain_one_round(), 1u);  // a:7
  EXPECT_EQ(drain_one_round(), 0u);
  EXPECT_EQ(queue_->depth(), 0u);
  const std::vector<std::string> want = {"{\"idx\":1}", "{\"idx\":2}", "{\"idx\":6}", "{\"idx\":3}",
                                         "{\"idx\":5}", "{\"idx\":4}", "{\"idx\":7}"};
  EXPECT_EQ(order, want);
}

TEST_F(PullQueueTest, MessagesAndLeasesSurviveARestart) {
  Queue();
  Append({{"a", 0}, {"a", 1}, {"b", 2}});
  auto m = Receive(10);
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(queue_->Ack({m[1].ack_id}).done, 1u);  // b done
  Queue();                                         // restart: reload from the store
  EXPECT_EQ(queue_->depth(), 2u);
  EXPECT_EQ(queue_->outstanding(), 1u);
  // The worker that holds a's head may still acknowledge it.
  EXPECT_EQ(queue_->Ack({m[0].ack_id}).done, 1u);
  auto next = Receive(10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].json, "{\"idx\":1}");
}

TEST_F(PullQueueTest, DeliveriesAndAcksAreWrittenBehindInOneFlush) {
  PullQueueOptions o;
  o.flush_interval = 3600s;  // only the explicit Flush below writes
  Queue(o);
  Append({{"a", 1}, {"b", 2}});
  auto m = Receive(10);
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(queue_->Ack({m[1].ack_id}).done, 1u);
  // In the store: both messages, neither delivery yet.
  auto before = store_->LoadStreamIndex("orders");
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 2u);
  EXPECT_EQ((*before)[0].deliver_count, 0u);
  EXPECT_TRUE((*before)[0].ack_token.empty());
  // A second process on this store (as after a crash) would hand both out
  // again: at least once.
  {
    PullQueue other("orders", *store_, PullQueueOptions{}, io_, [this] { return now_.load(); });
    ASSERT_TRUE(other.Load().ok());
    EXPECT_EQ(other.depth(), 2u);
    EXPECT_EQ(other.outstanding(), 0u);
  }
  ASSERT_TRUE(queue_->Flush().ok());
  auto after = store_->LoadStreamIndex("orders");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);  // b's ack removed it
  EXPECT_EQ((*after)[0].deliver_count, 1u);
  EXPECT_EQ(m[0].ack_id, std::to_string((*after)[0].seq) + "-" + (*after)[0].ack_token);
}

TEST_F(PullQueueTest, TheFlushThreadWritesWithinItsInterval) {
  PullQueueOptions o;
  o.flush_interval = 20ms;
  Queue(o);
  Append({{"a", 1}});
  auto m = Receive(10);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(queue_->Ack({m[0].ack_id}).done, 1u);
  // Waits for the thread (no timing asserted: a generous bound).
  size_t left = 1;
  for (int i = 0; i < 1000 && left != 0; ++i) {
    std::this_thread::sleep_for(10ms);
    left = store_->LoadStreamIndex("orders").value().size();
  }
  EXPECT_EQ(left, 0u);
}

TEST_F(PullQueueTest, FlushIntervalZeroWritesBeforeAnswering) {
  PullQueueOptions o;
  o.flush_interval = 0ms;
  Queue(o);
  Append({{"a", 1}, {"b", 2}});
  auto m = Receive(10);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(store_->LoadStreamIndex("orders").value()[0].deliver_count, 1u);
  ASSERT_EQ(queue_->Ack({m[0].ack_id}).done, 1u);
  EXPECT_EQ(store_->LoadStreamIndex("orders").value().size(), 1u);
}

TEST_F(PullQueueTest, CloseWritesWhatIsLeftAndLaterAcksGoStraightToTheStore) {
  PullQueueOptions o;
  o.flush_interval = 3600s;
  Queue(o);
  Append({{"a", 1}, {"b", 2}});
  auto m = Receive(10);
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(queue_->Ack({m[0].ack_id}).done, 1u);
  queue_->Close();
  auto index = store_->LoadStreamIndex("orders").value();
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].deliver_count, 1u);
  ASSERT_EQ(queue_->Ack({m[1].ack_id}).done, 1u);
  EXPECT_EQ(store_->LoadStreamIndex("orders").value().size(), 0u);
}

}  // namespace
}  // namespace sluice
