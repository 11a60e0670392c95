// A 1,000,000-row transaction streams through with bounded memory: Postgres
// streams it in progress (logical_decoding_work_mem is small on the test
// cluster), Sluice spills it to disk past its in-memory cap, and sink queues
// apply back-pressure.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "harness.h"

namespace sluice::itest {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST(LargeTransactionTest, MillionRowTransactionArrivesWithBoundedMemory) {
  constexpr int kRows = 1000000;
  const std::string db = "large_" + std::to_string(::getpid());
  CreateDatabase(db);
  ASSERT_TRUE(SharedCluster()
                  .Exec("CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL)", db)
                  .ok());
  testing::HttpReceiver receiver;
  std::vector<uint8_t> seen(kRows + 1, 0);
  std::atomic<uint64_t> received{0}, duplicates{0};
  std::mutex mu;
  receiver.SetReplyFunction([&](const testing::ReceivedRequest& req) {
    json body = json::parse(req.body, nullptr, false);
    std::lock_guard lock(mu);
    for (const json& m : body["data"]) {
      const int64_t id = m["record"]["id"].get<int64_t>();
      if (id < 1 || id > kRows) continue;
      if (seen[static_cast<size_t>(id)]++) ++duplicates;
      ++received;
    }
    return testing::HttpReply{200, "ok"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  const std::string dir = TempDir("large");
  SinkSpec s;
  s.url = receiver.url() + "/hooks";
  s.extra = "    batch_size: 1000\n    batch_timeout_ms: 20\n    max_queue_bytes: 16777216\n";
  const std::string config = WriteFile(dir, "sluice.yaml",
                                       ConfigYaml(dir + "/data", SharedCluster().Url(db), db, {s},
                                                  "    stream_buffer_bytes: 33554432\n"));
  SluiceProcess sluice(config, dir + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  // Rows inserted from now on are in the slot's stream.
  ASSERT_TRUE(WaitForSlotHeld(SharedCluster(), db, db + "_slot"));
  ASSERT_TRUE(SharedCluster()
                  .Exec("INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM "
                        "generate_series(1, " +
                            std::to_string(kRows) + ") g",
                        db)
                  .ok());
  ASSERT_TRUE(Eventually([&] { return received.load() >= kRows; }, 900s))
      << "received " << received.load();
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
  EXPECT_EQ(duplicates.load(), 0u);
  for (int i = 1; i <= kRows; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], 1) << "row " << i;
  const long rss_mb = sluice.peak_rss_kb() / 1024;
  std::printf("1M-row transaction: peak RSS %ld MiB%s\n", rss_mb,
              kSanitized ? " (AddressSanitizer build: not representative)" : "");
  if (!kSanitized) {
    EXPECT_LT(rss_mb, 256) << "peak RSS is not bounded";
  }
  receiver.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::itest
