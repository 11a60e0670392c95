// SIGKILL of Sluice while HTTP workers pull under write load: after restarts,
// every committed change is acknowledged, each row's changes in commit order.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "harness.h"
#include "sinks/common/curl_http_client.h"

namespace sluice::itest {
namespace {

TEST(PullQueueFaultTest, SigkillWhileWorkersPullLosesNothing) {
  const std::string db = "pullfault_" + std::to_string(::getpid());
  CreateDatabase(db);
  ASSERT_TRUE(SharedCluster()
                  .Exec("CREATE TABLE rows (id int PRIMARY KEY, version int NOT NULL)", db)
                  .ok());
  const std::string dir = TempDir("pullfault");
  const int port = testing::FreePort();
  std::string y =
      "data_dir: " + dir + "/data\nserver: {listen: \"127.0.0.1:" + std::to_string(port) + "\"}\n";
  y += "databases:\n  - name: " + db + "\n    url: " + SharedCluster().Url(db) + "\n";
  y += "    slot: {name: " + db + "_slot, create_if_not_exists: true}\n";
  y += "    publication: {name: " + db + "_pub, create_if_not_exists: true}\n";
  y += "    status_interval_ms: 300\n";
  y += "sinks:\n  - name: jobs\n    database: " + db + "\n";
  y += "    destination: {type: http_pull, ack_wait_ms: 2000}\n";
  SluiceProcess sluice(WriteFile(dir, "sluice.yaml", y), dir + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  ASSERT_TRUE(WaitForSlotHeld(SharedCluster(), db, db + "_slot"));

  CurlHttpClient http;
  auto post = [&](const std::string& path,
                  const std::string& body) -> std::pair<long, std::string> {
    HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    req.body = body;
    req.timeout = std::chrono::milliseconds(10000);
    std::promise<Result<HttpResponse>> p;
    http.Send(req, [&](Result<HttpResponse> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    if (!r.ok()) return {0, r.status().message()};
    return {r->status, r->body};
  };

  // Processed changes: first delivery per idempotency key.
  std::mutex mu;
  std::set<std::string> keys;
  std::map<int, std::vector<int>> versions;  // row -> versions in first-ack order
  std::atomic<bool> stop_workers{false};
  auto worker = [&] {
    while (!stop_workers) {
      auto [status, body] =
          post("/api/streams/jobs/receive", R"({"batch_size": 10, "wait_for": 200})");
      if (status != 200) continue;  // Sluice is restarting
      json data = json::parse(body, nullptr, false);
      if (!data.contains("data")) continue;
      for (const json& m : data["data"]) {
        // Process, then acknowledge. A kill can swallow the answer to an ack
        // that Sluice already applied, so what counts is what a worker
        // processed (first time per idempotency key), as a real worker would.
        {
          std::lock_guard lock(mu);
          if (keys.insert(m["metadata"]["idempotency_key"].get<std::string>()).second) {
            versions[m["record"]["id"].get<int>()].push_back(m["record"]["version"].get<int>());
          }
        }
        post("/api/streams/jobs/ack", json{{"ack_ids", {m["ack_id"]}}}.dump());
      }
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) workers.emplace_back(worker);

  // Writer: paced inserts and updates.
  std::atomic<bool> stop_writer{false};
  std::thread writer([&] {
    PGconn* conn = PQconnectdb(SharedCluster().ConnInfo(db).c_str());
    std::mt19937 rng(7);
    int next_id = 1;
    while (!stop_writer) {
      std::string sql = next_id <= 10 || rng() % 3 == 0
                            ? "INSERT INTO rows VALUES (" + std::to_string(next_id++) + ", 1)"
                            : "UPDATE rows SET version = version + 1 WHERE id = " +
                                  std::to_string(1 + rng() % (next_id - 1));
      PQclear(PQexec(conn, sql.c_str()));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    PQfinish(conn);
  });

  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    sluice.Kill9();
    sluice.Wait();
    ASSERT_TRUE(sluice.Start().ok());
  }
  stop_writer = true;
  writer.join();

  std::map<int, int> expected;
  auto rows = SharedCluster().Query("SELECT id, version FROM rows", db);
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) expected[std::stoi(r[0])] = std::stoi(r[1]);
  const bool complete = Eventually(
      [&] {
        std::lock_guard lock(mu);
        for (const auto& [id, v] : expected) {
          if (versions[id].size() < static_cast<size_t>(v)) return false;
        }
        return true;
      },
      180s);
  stop_workers = true;
  for (auto& t : workers) t.join();
  EXPECT_TRUE(complete) << "not every committed change was delivered";
  for (const auto& [id, v] : expected) {
    std::vector<int> want;
    for (int i = 1; i <= v; ++i) want.push_back(i);
    EXPECT_EQ(versions[id], want) << "row " << id;
  }
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
  http.Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::itest
