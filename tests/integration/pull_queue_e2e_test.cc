// The HTTP pull queue end to end: a real Postgres, Sluice serving
// /api/streams/{name}/receive|ack|nack, and concurrent HTTP workers.
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

class PullQueueE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "pull_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    CreateDatabase(db_);
    ASSERT_TRUE(SharedCluster()
                    .Exec("CREATE TABLE rows (id int PRIMARY KEY, version int NOT NULL)", db_)
                    .ok());
    dir_ = TempDir("pull");
    port_ = testing::FreePort();
  }
  void TearDown() override {
    sluice_.Stop();
    http_.Shutdown();
    std::filesystem::remove_all(dir_);
  }
  void Start(const std::string& tokens = "") {
    std::string y = "data_dir: " + dir_ +
                    "\nserver: {listen: \"127.0.0.1:" + std::to_string(port_) + "\"}\n" + tokens;
    y += "databases:\n  - name: " + db_ + "\n    url: " + SharedCluster().Url(db_) + "\n";
    y += "    slot: {name: " + db_ + "_slot, create_if_not_exists: true}\n";
    y += "    publication: {name: " + db_ + "_pub, create_if_not_exists: true}\n";
    y += "    status_interval_ms: 300\n";
    y += "sinks:\n  - name: jobs\n    database: " + db_ + "\n";
    y += "    destination: {type: http_pull, ack_wait_ms: 1000}\n";
    Status st = sluice_.Start(LoadYaml(y));
    ASSERT_TRUE(st.ok()) << st.message();
  }
  // POST and wait for the reply: (status, body).
  std::pair<long, std::string> Post(const std::string& path, const std::string& body,
                                    const std::string& token = "") {
    HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    if (!token.empty()) req.headers.push_back({"Authorization", "Bearer " + token});
    req.timeout = std::chrono::milliseconds(60000);
    std::promise<Result<HttpResponse>> p;
    http_.Send(req, [&](Result<HttpResponse> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    if (!r.ok()) return {0, r.status().message()};
    return {r->status, r->body};
  }
  void Sql(const std::string& sql) { ASSERT_TRUE(SharedCluster().Exec(sql, db_).ok()) << sql; }

  std::string db_;
  std::string dir_;
  int port_ = 0;
  InProcessSluice sluice_;
  CurlHttpClient http_;
};

TEST_F(PullQueueE2eTest, ConcurrentWorkersAckEachChangeOnceInOrderPerRow) {
  Start();
  // Writer: 40 rows, each updated several times; 200 changes in all.
  for (int i = 1; i <= 40; ++i) Sql("INSERT INTO rows VALUES (" + std::to_string(i) + ", 1)");
  for (int v = 2; v <= 5; ++v) Sql("UPDATE rows SET version = " + std::to_string(v));
  constexpr size_t kTotal = 200;

  std::mutex mu;
  std::map<int, std::vector<int>> acked_versions;  // row -> versions in ack order
  std::set<std::string> acked_keys;
  std::atomic<size_t> acked{0}, redelivered{0}, nacked{0}, ignored{0};
  std::atomic<bool> duplicate_ack{false};
  auto worker = [&](int seed) {
    std::mt19937 rng(seed);
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (acked.load() < kTotal && std::chrono::steady_clock::now() < deadline) {
      auto [status, body] =
          Post("/api/streams/jobs/receive", R"({"batch_size": 5, "wait_for": 500})");
      ASSERT_EQ(status, 200) << body;
      json data = json::parse(body)["data"];
      for (const json& m : data) {
        if (m["deliver_count"].get<int>() > 1) ++redelivered;
        const int pick = static_cast<int>(rng() % 100);
        const std::string ack_id = m["ack_id"];
        if (pick < 15) {
          ++ignored;  // let the lease expire
          continue;
        }
        if (pick < 30) {
          auto [s, b] = Post("/api/streams/jobs/nack", json{{"ack_ids", {ack_id}}}.dump());
          ASSERT_EQ(s, 200) << b;
          ++nacked;
          continue;
        }
        // Record before acking so the order seen is the order handed out.
        std::lock_guard lock(mu);
        auto [s, b] = Post("/api/streams/jobs/ack", json{{"ack_ids", {ack_id}}}.dump());
        ASSERT_EQ(s, 200) << b;
        json out = json::parse(b)["data"];
        if (out["acked"] == 1) {
          if (!acked_keys.insert(m["metadata"]["idempotency_key"].get<std::string>()).second) {
            duplicate_ack = true;
          }
          acked_versions[m["record"]["id"].get<int>()].push_back(m["record"]["version"].get<int>());
          ++acked;
        }
      }
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(worker, i + 1);
  for (auto& t : workers) t.join();
  EXPECT_EQ(acked.load(), kTotal);
  EXPECT_FALSE(duplicate_ack.load());
  EXPECT_GT(redelivered.load(), 0u);  // nacked or expired messages came back
  ASSERT_EQ(acked_versions.size(), 40u);
  for (const auto& [id, versions] : acked_versions) {
    EXPECT_EQ(versions, (std::vector<int>{1, 2, 3, 4, 5})) << "row " << id;
  }
  std::printf("acked=%zu redelivered=%zu nacked=%zu ignored=%zu\n", acked.load(),
              redelivered.load(), nacked.load(), ignored.load());
}

TEST_F(PullQueueE2eTest, SlotAdvancesOnceMessagesAreDurablyQueued) {
  Start();
  for (int i = 1; i <= 20; ++i) Sql("INSERT INTO rows VALUES (" + std::to_string(i) + ", 1)");
  auto lsn = SharedCluster().QueryValue("SELECT pg_current_wal_lsn()::text", db_);
  ASSERT_TRUE(lsn.ok());
  // No worker has received anything, yet the slot moves past the changes.
  EXPECT_TRUE(Eventually(
      [&] {
        auto v = SharedCluster().QueryValue(
            "SELECT confirmed_flush_lsn >= '" + **lsn +
                "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + db_ + "_slot'",
            db_);
        return v.ok() && v->has_value() && **v == "t";
      },
      30s));
  auto [status, body] = Post("/api/streams/jobs/receive", R"({"batch_size": 100})");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(json::parse(body)["data"].size(), 20u);
}

TEST_F(PullQueueE2eTest, MessagesSurviveARestart) {
  Start();
  for (int i = 1; i <= 5; ++i) Sql("INSERT INTO rows VALUES (" + std::to_string(i) + ", 1)");
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = Post("/api/streams/jobs/receive", R"({"batch_size": 100})");
        // Peek then let them go again: nack at once.
        json data = json::parse(r.second)["data"];
        std::vector<std::string> ids;
        for (const json& m : data) ids.push_back(m["ack_id"]);
        if (!ids.empty()) Post("/api/streams/jobs/nack", json{{"ack_ids", ids}}.dump());
        return data.size() == 5;
      },
      30s));
  sluice_.Stop();
  Start();
  auto [status, body] = Post("/api/streams/jobs/receive", R"({"batch_size": 100})");
  ASSERT_EQ(status, 200) << body;
  json data = json::parse(body)["data"];
  ASSERT_EQ(data.size(), 5u);
  EXPECT_GE(data[0]["deliver_count"].get<int>(), 2);  // delivered before the restart
}

TEST_F(PullQueueE2eTest, BadRequestsGetDocumentedErrors) {
  Start("api_tokens: [{name: w, token: sekret}]\n");
  auto code = [](const std::string& body) {
    return json::parse(body)["error"]["code"].get<std::string>();
  };
  auto r = Post("/api/streams/jobs/receive", "{}");
  EXPECT_EQ(r.first, 401);
  EXPECT_EQ(code(r.second), "unauthorized");
  r = Post("/api/streams/jobs/receive", "{}", "wrong");
  EXPECT_EQ(r.first, 401);
  r = Post("/api/streams/jobs/receive", "{not json", "sekret");
  EXPECT_EQ(r.first, 400);
  EXPECT_EQ(code(r.second), "malformed_json");
  r = Post("/api/streams/jobs/receive", R"({"batch_size": 0})", "sekret");
  EXPECT_EQ(r.first, 400);
  EXPECT_EQ(code(r.second), "invalid_argument");
  r = Post("/api/streams/jobs/receive", R"({"batch_size": 5000})", "sekret");
  EXPECT_EQ(r.first, 400);
  r = Post("/api/streams/jobs/receive", R"({"wait_for": "soon"})", "sekret");
  EXPECT_EQ(r.first, 400);
  r = Post("/api/streams/nope/receive", "{}", "sekret");
  EXPECT_EQ(r.first, 404);
  EXPECT_EQ(code(r.second), "not_found");
  r = Post("/api/streams/jobs/ack", R"({"ack_ids": "x"})", "sekret");
  EXPECT_EQ(r.first, 400);
  r = Post("/api/streams/jobs/ack", R"({"ack_ids": ["1-deadbeef"]})", "sekret");
  EXPECT_EQ(r.first, 200);
  EXPECT_EQ(json::parse(r.second)["data"]["acked"], 0);
  EXPECT_EQ(json::parse(r.second)["data"]["failed"].size(), 1u);
  r = Post("/api/streams/jobs/receive", std::string(2 << 20, ' '), "sekret");
  EXPECT_EQ(r.first, 413);
  r = Post("/api/streams/jobs/receive", "{}", "sekret");
  EXPECT_EQ(r.first, 200);
}

}  // namespace
}  // namespace sluice::itest
