#include "pipeline/sink_runner.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sluice::pipeline {
namespace {

// A sink that records writes and lets the test decide each outcome.
class FakeSink : public Sink {
 public:
  void Write(const Batch& batch, WriteDone done) override {
    std::lock_guard lock(mu_);
    std::vector<uint32_t> idx;
    for (const Message* m : batch.messages) idx.push_back(m->position.commit_idx);
    writes_.push_back(idx);
    if (fail_remaining_ > 0) {
      --fail_remaining_;
      done(Status::Retryable("boom"));
    } else if (corked_) {
      pending_.push_back(std::move(done));
    } else {
      done(Status::Ok());
    }
    cv_.notify_all();
  }
  int MaxInFlight() const override { return max_in_flight_; }

  void Cork() {
    std::lock_guard lock(mu_);
    corked_ = true;
  }
  void Uncork() {
    std::vector<WriteDone> pending;
    {
      std::lock_guard lock(mu_);
      corked_ = false;
      pending.swap(pending_);
    }
    for (auto& d : pending) d(Status::Ok());
  }
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    fail_remaining_ = n;
  }
  bool WaitForWrites(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return writes_.size() >= n; });
  }
  std::vector<std::vector<uint32_t>> writes() {
    std::lock_guard lock(mu_);
    return writes_;
  }
  size_t pending() {
    std::lock_guard lock(mu_);
    return pending_.size();
  }

  int max_in_flight_ = 1;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool corked_ = false;
  int fail_remaining_ = 0;
  std::vector<WriteDone> pending_;
  std::vector<std::vector<uint32_t>> writes_;
};

class SinkRunnerTest : public ::testing::Test {
 protected:
  SinkRunnerTest()
      : work_(boost::asio::make_work_guard(io_)), acks_(100, {Position{}}), queue_(1 << 20) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SinkRunnerTest() override {
    if (runner_) runner_->Stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  void StartRunner(SinkRunnerOptions options) {
    runner_ = std::make_shared<SinkRunner>(io_, options, sink_, queue_, acks_);
    runner_->Start();
  }
  void Add(const std::string& group, uint32_t idx) {
    auto m = std::make_unique<QueuedMessage>();
    m->message.group_key = group;
    m->message.position = Position{200, idx};
    m->message.json = "{}";
    m->ticket = acks_.Track(0, m->message.position);
    ASSERT_TRUE(queue_.Push(m, std::chrono::seconds(1)));
  }
  bool WaitAcked(Position pos) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (acks_.AckedThrough()[0] >= pos) return true;
      std::this_thread::yield();
    }
    return false;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  AckTracker acks_;
  SinkQueue queue_;
  FakeSink sink_;
  std::shared_ptr<SinkRunner> runner_;
};

TEST_F(SinkRunnerTest, DeliversAndAcknowledgesInOrder) {
  acks_.BeginTransaction(200);
  StartRunner({"s", 0, 1, std::chrono::milliseconds(0), std::nullopt, {}, nullptr});
  for (uint32_t i = 0; i < 5; ++i) Add("g", i);
  acks_.CommitTransaction(300);
  ASSERT_TRUE(WaitAcked({200, 4}));
  auto writes = sink_.writes();
  ASSERT_EQ(writes.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(writes[i], std::vector<uint32_t>{i});
  EXPECT_EQ(acks_.SafeLsn(), 300u);
}

TEST_F(SinkRunnerTest, RetriesAFailedBatchBeforeTheGroupMovesOn) {
  sink_.FailNext(3);
  SinkRunnerOptions o{"s",
                      0,
                      1,
                      std::chrono::milliseconds(0),
                      std::nullopt,
                      BackoffPolicy{std::chrono::milliseconds(1), std::chrono::milliseconds(5), 2},
                      nullptr};
  StartRunner(o);
  Add("g", 0);
  Add("g", 1);
  ASSERT_TRUE(WaitAcked({200, 1}));
  auto writes = sink_.writes();
  ASSERT_EQ(writes.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(writes[i], std::vector<uint32_t>{0});
  EXPECT_EQ(writes[4], std::vector<uint32_t>{1});
  EXPECT_EQ(runner_->stats().failed_attempts.load(), 3u);
}

TEST_F(SinkRunnerTest, MaxRetryCountDiscardsAndMovesOn) {
  sink_.FailNext(100);
  SinkRunnerOptions o{
      "s",    0,
      1,      std::chrono::milliseconds(0),
      2u,     BackoffPolicy{std::chrono::milliseconds(1), std::chrono::milliseconds(2), 2},
      nullptr};
  StartRunner(o);
  Add("g", 0);
  ASSERT_TRUE(WaitAcked({200, 0}));
  EXPECT_EQ(sink_.writes().size(), 3u);  // first attempt + 2 retries
  EXPECT_EQ(runner_->stats().discarded.load(), 1u);
}

TEST_F(SinkRunnerTest, GroupsRunInParallelUpToMaxInFlight) {
  sink_.max_in_flight_ = 2;
  sink_.Cork();
  StartRunner({"s", 0, 1, std::chrono::milliseconds(0), std::nullopt, {}, nullptr});
  Add("a", 0);
  Add("b", 1);
  Add("c", 2);
  ASSERT_TRUE(sink_.WaitForWrites(2));
  EXPECT_EQ(sink_.pending(), 2u);  // the third waits for a free slot
  EXPECT_EQ(sink_.writes().size(), 2u);
  sink_.Uncork();
  ASSERT_TRUE(WaitAcked({200, 2}));
  EXPECT_EQ(sink_.writes().size(), 3u);
}

TEST_F(SinkRunnerTest, BatchesUpToBatchSize) {
  sink_.Cork();
  StartRunner({"s", 0, 3, std::chrono::milliseconds(0), std::nullopt, {}, nullptr});
  Add("a", 0);  // dispatched alone: the sink is idle
  ASSERT_TRUE(sink_.WaitForWrites(1));
  for (uint32_t i = 1; i <= 4; ++i) Add(std::string(1, static_cast<char>('a' + i)), i);
  sink_.Uncork();
  ASSERT_TRUE(WaitAcked({200, 4}));
  auto writes = sink_.writes();
  ASSERT_GE(writes.size(), 2u);
  EXPECT_EQ(writes[1].size(), 3u);
}

}  // namespace
}  // namespace sluice::pipeline
