#include "pipeline/sink_runner.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "state/sqlite_state_store.h"

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
    bool bad = false;
    for (uint32_t i : idx) bad = bad || failing_.count(i) != 0;
    if (bad) {
      done(Status::Retryable("refused " + std::to_string(idx.front())));
    } else if (fail_remaining_ > 0) {
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
  // Writes holding any of these commit_idx values fail.
  void FailIdx(std::set<uint32_t> idx) {
    std::lock_guard lock(mu_);
    failing_ = std::move(idx);
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
  std::set<uint32_t> failing_;
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
    if (thread_.joinable()) thread_.join();
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

class FailedStoreTest : public SinkRunnerTest {
 protected:
  FailedStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-failed-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = state::SqliteStateStore::Open((dir_ / "state.db").string());
    if (opened.ok()) store_ = std::move(*opened);
  }
  ~FailedStoreTest() override {
    if (runner_) runner_->Stop();
    work_.reset();
    io_.stop();
    thread_.join();
    runner_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  SinkRunnerOptions Options(std::optional<uint32_t> max_retry = std::nullopt) {
    SinkRunnerOptions o{
        "s",       0,
        1,         std::chrono::milliseconds(0),
        max_retry, BackoffPolicy{std::chrono::milliseconds(1), std::chrono::milliseconds(4), 2},
        nullptr};
    o.failed_store = store_.get();
    o.attempts_before_store = 2;
    return o;
  }
  std::vector<state::FailedMessage> Stored() {
    return *store_->LoadFailedMessages("s", /*with_bodies=*/true);
  }
  template <typename F>
  bool Eventually(F f) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  // Writes that carried commit_idx `idx` and succeeded (the last write of it).
  std::vector<uint32_t> DeliveredOrder() {
    std::vector<uint32_t> out;
    for (const auto& w : sink_.writes()) {
      for (uint32_t i : w) out.push_back(i);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqliteStateStore> store_;
};

TEST_F(FailedStoreTest, AFailingMessageGoesToTheStoreAndOtherGroupsFlow) {
  sink_.FailIdx({0});
  StartRunner(Options());
  Add("bad", 0);
  Add("good", 1);
  Add("bad", 2);  // behind the failed one: must wait, in order
  Add("good", 3);
  // Everything is acknowledged (the slot can advance), although 0 never
  // reached the sink.
  ASSERT_TRUE(WaitAcked({200, 3}));
  ASSERT_TRUE(Eventually([&] { return Stored().size() == 2; }));
  auto stored = Stored();
  EXPECT_EQ(stored[0].position, (Position{200, 0}));
  EXPECT_GE(stored[0].attempts, 2u);
  EXPECT_EQ(stored[0].last_error, "refused 0");
  EXPECT_EQ(stored[0].json, "{}");
  EXPECT_EQ(stored[1].position, (Position{200, 2}));
  EXPECT_EQ(stored[1].attempts, 0u);  // never tried: waiting behind 0
  EXPECT_EQ(runner_->stats().failed_messages.load(), 2u);
  // 2 never went to the sink while 0 fails.
  for (uint32_t i : DeliveredOrder()) EXPECT_NE(i, 2u);
  // The sink heals: 0 then 2 are delivered, in order, and the store empties.
  sink_.FailIdx({});
  ASSERT_TRUE(Eventually([&] { return Stored().empty(); }));
  auto order = DeliveredOrder();
  auto last0 = std::find(order.rbegin(), order.rend(), 0u);
  auto first2 = std::find(order.begin(), order.end(), 2u);
  ASSERT_NE(first2, order.end());
  EXPECT_LT(std::distance(order.begin(), last0.base()) - 1, std::distance(order.begin(), first2));
  EXPECT_TRUE(Eventually([&] { return runner_->stats().failed_messages.load() == 0; }));
  EXPECT_EQ(runner_->stats().delivered.load(), 4u);
  // A new message of the group flows normally again.
  Add("bad", 4);
  ASSERT_TRUE(Eventually([&] { return DeliveredOrder().back() == 4u; }));
  EXPECT_TRUE(Stored().empty());
}

TEST_F(FailedStoreTest, MaxRetryCountDiscardsFromTheStoreAndUnblocksTheGroup) {
  sink_.FailIdx({0});
  StartRunner(Options(5u));
  Add("g", 0);
  Add("g", 1);
  ASSERT_TRUE(Eventually([&] { return runner_->stats().discarded.load() == 1; }));
  ASSERT_TRUE(Eventually([&] { return Stored().empty(); }));
  auto order = DeliveredOrder();
  EXPECT_EQ(std::count(order.begin(), order.end(), 0u), 6);  // first + 5 retries
  EXPECT_EQ(order.back(), 1u);
  EXPECT_EQ(runner_->stats().delivered.load(), 1u);
}

TEST_F(FailedStoreTest, DiscardAndRetryThroughTheRunner) {
  sink_.FailIdx({0, 5});
  auto o = Options();
  o.backoff = BackoffPolicy{std::chrono::milliseconds(60000), std::chrono::milliseconds(60000), 2};
  o.attempts_before_store = 1;
  StartRunner(o);
  Add("a", 0);
  Add("a", 1);
  Add("b", 5);
  ASSERT_TRUE(WaitAcked({200, 5}));
  ASSERT_TRUE(Eventually([&] { return Stored().size() == 3; }));
  // Discard the head of group a: 1 becomes the head and is sent at once.
  std::promise<FailedMessageActionResult> discarded;
  runner_->DiscardFailed({Stored()[0].id, 999},
                         [&](FailedMessageActionResult r) { discarded.set_value(r); });
  auto d = discarded.get_future().get();
  EXPECT_EQ(d.matched, 1u);
  EXPECT_EQ(d.unknown_ids, std::vector<uint64_t>{999});
  ASSERT_TRUE(Eventually([&] { return Stored().size() == 1; }));
  EXPECT_EQ(Stored()[0].position, (Position{200, 5}));
  EXPECT_EQ(runner_->stats().discarded.load(), 1u);
  // 5 waits a minute for its next retry; retry it now once the sink heals.
  sink_.FailIdx({});
  std::promise<FailedMessageActionResult> retried;
  runner_->RetryFailed({}, [&](FailedMessageActionResult r) { retried.set_value(r); });
  EXPECT_EQ(retried.get_future().get().matched, 1u);
  ASSERT_TRUE(Eventually([&] { return Stored().empty(); }));
  EXPECT_EQ(runner_->stats().delivered.load(), 2u);
}

TEST_F(FailedStoreTest, FailedMessagesSurviveARestart) {
  sink_.FailIdx({0});
  auto o = Options();
  o.backoff = BackoffPolicy{std::chrono::milliseconds(60000), std::chrono::milliseconds(60000), 2};
  o.attempts_before_store = 1;
  StartRunner(o);
  Add("g", 0);
  Add("g", 1);
  ASSERT_TRUE(Eventually([&] { return Stored().size() == 2; }));
  runner_->Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // A new runner (a restart) over the same store; the stream brings 1 again
  // (not yet checkpointed): it must not be stored twice.
  sink_.FailIdx({});
  auto o2 = Options();
  runner_ = std::make_shared<SinkRunner>(io_, o2, sink_, queue_, acks_);
  runner_->Start();
  Add("g", 1);
  // The stored schedule survives the restart (next retry in a minute): ask
  // for the retry now.
  runner_->RetryFailed({}, [](FailedMessageActionResult) {});
  ASSERT_TRUE(Eventually([&] { return Stored().empty(); }));
  auto order = DeliveredOrder();
  // After the restart: 0 then 1, each once.
  std::vector<uint32_t> tail(order.end() - 2, order.end());
  EXPECT_EQ(tail, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(runner_->stats().delivered.load(), 2u);
}

TEST_F(FailedStoreTest, ProcessFiltersTransformsAndFailsMessagesBeforeTheSink) {
  auto o = Options();
  o.attempts_before_store = 1;
  o.backoff = BackoffPolicy{std::chrono::milliseconds(60000), std::chrono::milliseconds(60000), 2};
  o.process = [](Message& m) -> Result<bool> {
    if (m.position.commit_idx == 1) return false;  // filtered out
    if (m.position.commit_idx == 3) return Status::Permanent("function slim failed: boom");
    m.json = "{\"t\":" + std::to_string(m.position.commit_idx) + "}";
    return true;
  };
  StartRunner(o);
  for (uint32_t i = 0; i < 4; ++i) Add(std::string(1, static_cast<char>('a' + i)), i);
  ASSERT_TRUE(WaitAcked({200, 3}));
  ASSERT_TRUE(Eventually([&] { return Stored().size() == 1; }));
  EXPECT_EQ(DeliveredOrder(), (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(runner_->stats().filtered.load(), 1u);
  auto stored = Stored();
  EXPECT_EQ(stored[0].position, (Position{200, 3}));
  EXPECT_EQ(stored[0].last_error, "function slim failed: boom");
  EXPECT_EQ(stored[0].json, "{}");  // as it arrived, not as processed
}

TEST_F(FailedStoreTest, HeldMessagesWaitForAPersonToRetryThem) {
  auto o = Options();
  o.attempts_before_store = 1;
  StartRunner(o);
  auto m = std::make_unique<QueuedMessage>();
  m->message.group_key = "g";
  m->message.position = Position{200, 0};
  m->message.json = "{}";
  m->message.hold_error = "filter could not be evaluated: bad cast";
  m->ticket = acks_.Track(0, m->message.position);
  ASSERT_TRUE(queue_.Push(m, std::chrono::seconds(1)));
  ASSERT_TRUE(WaitAcked({200, 0}));
  ASSERT_TRUE(Eventually([&] { return Stored().size() == 1; }));
  EXPECT_EQ(Stored()[0].hold_error, "filter could not be evaluated: bad cast");
  EXPECT_TRUE(sink_.writes().empty());  // never sent on its own
  std::promise<FailedMessageActionResult> retried;
  runner_->RetryFailed({}, [&](FailedMessageActionResult r) { retried.set_value(r); });
  EXPECT_EQ(retried.get_future().get().matched, 1u);
  ASSERT_TRUE(Eventually([&] { return Stored().empty(); }));
  EXPECT_EQ(DeliveredOrder(), std::vector<uint32_t>{0});
}

}  // namespace
}  // namespace sluice::pipeline
