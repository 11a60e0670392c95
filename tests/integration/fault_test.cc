// Fault tests: the check is always the same: every change committed in
// Postgres arrives, in order per row, nothing lost.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "harness.h"

namespace sluice::itest {
namespace {

// Commits small transactions continuously: inserts of new rows (version 1)
// and updates that bump a row's version. Each row's versions must reach the
// sink as 1, 2, 3, ... in that order.
class Writer {
 public:
  Writer(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~Writer() {
    Stop();
    PQfinish(conn_);
  }
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t commits() const { return commits_.load(); }
  std::string error() const { return error_; }

 private:
  void Loop() {
    std::mt19937 rng(12345);
    int next_id = 1;
    while (!stop_) {
      std::string sql = "BEGIN;";
      const int statements = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < statements; ++i) {
        if (next_id <= 20 || rng() % 3 == 0) {
          sql += "INSERT INTO rows(id, version) VALUES (" + std::to_string(next_id++) + ", 1);";
        } else {
          sql += "UPDATE rows SET version = version + 1 WHERE id = " +
                 std::to_string(1 + rng() % (next_id - 1)) + ";";
        }
      }
      sql += "COMMIT;";
      PGresult* r = PQexec(conn_, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) error_ = PQresultErrorMessage(r);
      PQclear(r);
      ++commits_;
      // Paced at about 150 commits/s: load, not a flood that a sanitizer
      // build of the sink path on a busy machine would need minutes to drain.
      std::this_thread::sleep_for(std::chrono::microseconds(6600));
    }
  }
  PGconn* conn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> commits_{0};
  std::string error_;
};

// Per row, versions in order of first arrival (redeliveries after a crash
// are dropped by idempotency key, as a consumer would).
std::map<int, std::vector<int>> FirstArrivals(const std::vector<json>& ms, size_t* duplicates) {
  std::set<std::string> seen;
  std::map<int, std::vector<int>> rows;
  *duplicates = 0;
  for (const json& m : ms) {
    if (!seen.insert(m["metadata"]["idempotency_key"].get<std::string>()).second) {
      ++*duplicates;
      continue;
    }
    rows[m["record"]["id"].get<int>()].push_back(m["record"]["version"].get<int>());
  }
  return rows;
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "fault_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    CreateDatabase(db_);
    ASSERT_TRUE(SharedCluster()
                    .Exec("CREATE TABLE rows (id int PRIMARY KEY, version int NOT NULL)", db_)
                    .ok());
    ASSERT_TRUE(receiver_.Start().ok());
    dir_ = TempDir("fault");
  }
  void TearDown() override {
    receiver_.Stop();
    std::filesystem::remove_all(dir_);
  }
  std::string WriteConfig(const std::string& sink_extra = "") {
    SinkSpec s;
    s.url = receiver_.url() + "/hooks";
    s.extra = sink_extra;
    return WriteFile(dir_, "sluice.yaml",
                     ConfigYaml(dir_ + "/data", SharedCluster().Url(db_), db_, {s}));
  }
  // Changes committed before the slot exists are not in its stream (that is
  // what backfills are for), so writers start once Sluice holds the slot.
  void WaitForSlot() { ASSERT_TRUE(WaitForSlotHeld(SharedCluster(), db_, db_ + "_slot")); }
  std::string LogTail() const {
    std::ifstream in(dir_ + "/sluice.log");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }
  std::map<int, int> FinalVersions() {
    auto rows = SharedCluster().Query("SELECT id, version FROM rows", db_);
    EXPECT_TRUE(rows.ok());
    std::map<int, int> out;
    for (const auto& r : *rows) out[std::stoi(r[0])] = std::stoi(r[1]);
    return out;
  }
  // Waits until every committed version of every row has arrived, then
  // checks order. Returns the number of duplicate deliveries.
  size_t ExpectEverythingInOrder() {
    const std::map<int, int> expected = FinalVersions();
    size_t total = 0;
    for (const auto& [id, v] : expected) total += static_cast<size_t>(v);
    size_t duplicates = 0;
    const bool complete = collector_.WaitUntil(
        [&](const std::vector<json>& ms) {
          if (ms.size() < total) return false;
          size_t dups = 0;
          auto rows = FirstArrivals(ms, &dups);
          for (const auto& [id, v] : expected) {
            if (rows[id].size() < static_cast<size_t>(v)) return false;
          }
          return true;
        },
        600s);
    auto rows = FirstArrivals(collector_.Messages(), &duplicates);
    EXPECT_TRUE(complete) << "not every committed change arrived; Sluice's log ends with:\n"
                          << LogTail();
    for (const auto& [id, v] : expected) {
      std::vector<int> want(static_cast<size_t>(v));
      for (int i = 0; i < v; ++i) want[static_cast<size_t>(i)] = i + 1;
      EXPECT_EQ(rows[id], want) << "row " << id;
    }
    EXPECT_EQ(rows.size(), expected.size());
    return duplicates;
  }

  std::string db_;
  std::string dir_;
  testing::HttpReceiver receiver_;
  MessageCollector collector_{receiver_};
};

TEST_F(FaultTest, SigkillAtRandomMomentsUnderLoadLosesNothing) {
  SluiceProcess sluice(WriteConfig(), dir_ + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  WaitForSlot();
  Writer writer(SharedCluster().ConnInfo(db_));
  writer.Start();
  std::mt19937 rng(std::random_device{}());
  constexpr int kKills = 22;
  for (int i = 0; i < kKills; ++i) {
    // Let it run for a random moment: mid-batch, mid-checkpoint, idle...
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 900));
    sluice.Kill9();
    EXPECT_EQ(sluice.Wait(), -SIGKILL);
    ASSERT_TRUE(sluice.Start().ok());
  }
  writer.Stop();
  ASSERT_TRUE(sluice.Alive()) << LogTail();
  EXPECT_EQ(writer.error(), "");
  EXPECT_GT(writer.commits(), 100u);
  const size_t duplicates = ExpectEverythingInOrder();
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
  std::printf("kills=%d commits=%llu delivered=%zu duplicates=%zu\n", kKills,
              static_cast<unsigned long long>(writer.commits()), collector_.Count(), duplicates);
}

TEST_F(FaultTest, SigkillWithBatchesAndAFlakyReceiverLosesNothing) {
  SluiceProcess sluice(WriteConfig("    batch_size: 20\n    batch_timeout_ms: 20\n"),
                       dir_ + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  WaitForSlot();
  Writer writer(SharedCluster().ConnInfo(db_));
  writer.Start();
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 10; ++i) {
    collector_.SetFailing(i % 3 == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 600));
    sluice.Kill9();
    sluice.Wait();
    ASSERT_TRUE(sluice.Start().ok());
  }
  collector_.SetFailing(false);
  writer.Stop();
  ASSERT_TRUE(sluice.Alive()) << LogTail();
  ExpectEverythingInOrder();
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
}

}  // namespace
}  // namespace sluice::itest
