// The failed-message store end to end: a webhook that refuses one row's
// messages does not hold back the other rows nor the slot, and the messages
// can be listed, retried and discarded through the API.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <set>

#include "harness.h"
#include "sinks/common/curl_http_client.h"
#include "testing/http_receiver.h"

namespace sluice::itest {
namespace {

class FailedMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "failed_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    CreateDatabase(db_);
    Sql("CREATE TABLE rows (id int PRIMARY KEY, version int NOT NULL)");
    dir_ = TempDir("failed");
    port_ = testing::FreePort();
    receiver_.SetResponder([this](const testing::ReceivedRequest& r) {
      const json m = json::parse(r.body, nullptr, false);
      const int id =
          m.is_object() && m["record"]["id"].is_number() ? m["record"]["id"].get<int>() : 0;
      std::lock_guard lock(mu_);
      if (refused_.count(id) != 0) return 500;
      accepted_.push_back(m);
      return 200;
    });
    ASSERT_TRUE(receiver_.Start().ok());
  }
  void TearDown() override {
    sluice_.Stop();
    receiver_.Stop();
    http_.Shutdown();
    std::filesystem::remove_all(dir_);
  }
  void Start() {
    std::string y =
        "data_dir: " + dir_ + "\nserver: {listen: \"127.0.0.1:" + std::to_string(port_) + "\"}\n";
    y += "api_tokens: [{name: ops, token: s3cret}]\n";
    y += "databases:\n  - name: " + db_ + "\n    url: " + SharedCluster().Url(db_) + "\n";
    y += "    slot: {name: " + db_ + "_slot, create_if_not_exists: true}\n";
    y += "    publication: {name: " + db_ + "_pub, create_if_not_exists: true}\n";
    y += "    status_interval_ms: 300\n";
    y += "sinks:\n  - name: hook\n    database: " + db_ + "\n";
    y += "    retry_initial_ms: 20\n    retry_max_ms: 200\n";
    y += "    destination: {type: webhook, url: \"" + receiver_.url() + "/hooks\", batch: false}\n";
    Status st = sluice_.Start(LoadYaml(y));
    ASSERT_TRUE(st.ok()) << st.message();
  }
  std::string Metrics() {
    HttpRequest req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/metrics";
    req.headers = {{"Authorization", "Bearer s3cret"}};
    std::promise<Result<HttpResponse>> p;
    http_.Send(req, [&](Result<HttpResponse> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    return r.ok() ? r->body : "";
  }
  std::pair<long, json> Call(const std::string& method, const std::string& path,
                             const std::string& body = "", bool token = true) {
    HttpRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    if (token) req.headers.push_back({"Authorization", "Bearer s3cret"});
    std::promise<Result<HttpResponse>> p;
    http_.Send(req, [&](Result<HttpResponse> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    if (!r.ok()) return {0, r.status().message()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  void Sql(const std::string& sql) { ASSERT_TRUE(SharedCluster().Exec(sql, db_).ok()) << sql; }
  void SetRefused(std::set<int> ids) {
    std::lock_guard lock(mu_);
    refused_ = std::move(ids);
  }
  std::vector<json> Accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::vector<int> VersionsOf(int id) {
    std::vector<int> out;
    for (const json& m : Accepted()) {
      if (m["record"]["id"] == id) out.push_back(m["record"]["version"].get<int>());
    }
    return out;
  }
  json FailedList() { return Call("GET", "/api/sinks/hook/failed_messages").second; }
  bool SlotPast(const std::string& lsn) {
    auto v = SharedCluster().QueryValue("SELECT confirmed_flush_lsn >= '" + lsn +
                                            "'::pg_lsn FROM pg_replication_slots WHERE "
                                            "slot_name = '" +
                                            db_ + "_slot'",
                                        db_);
    return v.ok() && v->has_value() && **v == "t";
  }

  std::string db_;
  std::string dir_;
  int port_ = 0;
  std::set<int> refused_;  // guarded by mu_
  std::mutex mu_;
  std::vector<json> accepted_;
  testing::HttpReceiver receiver_;
  InProcessSluice sluice_;
  CurlHttpClient http_;
};

TEST_F(FailedMessagesTest, OneFailingRowHoldsNeitherOtherRowsNorTheSlot) {
  SetRefused({7});
  Start();
  for (int i = 1; i <= 20; ++i) Sql("INSERT INTO rows VALUES (" + std::to_string(i) + ", 1)");
  Sql("UPDATE rows SET version = 2");
  // Every other row arrives, in order.
  ASSERT_TRUE(Eventually([&] { return Accepted().size() == 38; }, 60s)) << Accepted().size();
  for (int i = 1; i <= 20; ++i) {
    if (i != 7) {
      EXPECT_EQ(VersionsOf(i), (std::vector<int>{1, 2})) << "row " << i;
    }
  }
  EXPECT_TRUE(VersionsOf(7).empty());
  // Row 7's insert failed and went to the store; its update waits behind it.
  ASSERT_TRUE(Eventually([&] { return FailedList()["total"] == 2; }, 30s)) << FailedList().dump();
  json failed = FailedList()["data"];
  EXPECT_EQ(failed[0]["message"]["record"]["version"], 1);
  EXPECT_EQ(failed[0]["action"], "insert");
  EXPECT_GE(failed[0]["attempts"].get<int>(), 3);
  EXPECT_NE(failed[0]["last_error"].get<std::string>().find("500"), std::string::npos)
      << failed[0]["last_error"];
  EXPECT_EQ(failed[1]["message"]["record"]["version"], 2);
  EXPECT_EQ(failed[1]["attempts"], 0);
  auto [st, sink] = Call("GET", "/api/sinks/hook");
  EXPECT_EQ(st, 200);
  EXPECT_EQ(sink["status"], "failing");
  EXPECT_EQ(sink["failed_messages"], 2);
  EXPECT_FALSE(sink["last_error"].is_null());
  const std::string metrics = Metrics();
  EXPECT_NE(metrics.find("sluice_failed_messages{sink=\"hook\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_messages_failed_total{sink=\"hook\"} 2"), std::string::npos);

  // The slot keeps advancing past new writes although row 7 is undelivered.
  for (int i = 21; i <= 30; ++i) Sql("INSERT INTO rows VALUES (" + std::to_string(i) + ", 1)");
  auto lsn = SharedCluster().QueryValue("SELECT pg_current_wal_lsn()::text", db_);
  ASSERT_TRUE(lsn.ok() && lsn->has_value());
  EXPECT_TRUE(Eventually([&] { return SlotPast(**lsn); }, 30s)) << "slot stuck before " << **lsn;
  ASSERT_TRUE(Eventually([&] { return Accepted().size() == 48; }, 30s));

  // The endpoint heals; retry now: row 7's versions arrive in order.
  SetRefused({});
  auto [rst, retried] = Call("POST", "/api/sinks/hook/failed_messages/retry", R"({"all": true})");
  EXPECT_EQ(rst, 200) << retried.dump();
  EXPECT_EQ(retried["matched"], 2);
  ASSERT_TRUE(Eventually([&] { return VersionsOf(7).size() == 2; }, 30s));
  EXPECT_EQ(VersionsOf(7), (std::vector<int>{1, 2}));
  EXPECT_TRUE(Eventually([&] { return FailedList()["total"] == 0; }, 30s));
  EXPECT_EQ(Call("GET", "/api/sinks/hook").second["failed_messages"], 0);
}

TEST_F(FailedMessagesTest, DiscardThroughTheApiUnblocksTheRow) {
  SetRefused({3});
  Start();
  Sql("INSERT INTO rows VALUES (3, 1)");
  ASSERT_TRUE(Eventually([&] { return FailedList()["total"] == 1; }, 30s));
  const uint64_t id = FailedList()["data"][0]["id"].get<uint64_t>();
  auto [st, body] = Call("POST", "/api/sinks/hook/failed_messages/discard",
                         R"({"ids": [)" + std::to_string(id) + R"(, 424242]})");
  EXPECT_EQ(st, 200) << body.dump();
  EXPECT_EQ(body["matched"], 1);
  EXPECT_EQ(body["unknown_ids"], json::array({424242}));
  EXPECT_TRUE(Eventually([&] { return FailedList()["total"] == 0; }, 30s));
  EXPECT_EQ(Call("GET", "/api/sinks/hook").second["discarded"], 1);
  // The next change of the row is delivered normally.
  SetRefused({});
  Sql("UPDATE rows SET version = 2 WHERE id = 3");
  ASSERT_TRUE(Eventually([&] { return VersionsOf(3) == std::vector<int>{2}; }, 30s));
}

TEST_F(FailedMessagesTest, BadRequestsGetTheDocumentedErrors) {
  Start();
  EXPECT_EQ(Call("GET", "/api/sinks/nope").first, 404);
  EXPECT_EQ(Call("GET", "/api/sinks/nope/failed_messages").first, 404);
  EXPECT_EQ(Call("GET", "/api/sinks/hook/failed_messages", "", false).first, 401);
  auto [st, body] = Call("GET", "/api/sinks/hook/failed_messages?limit=0");
  EXPECT_EQ(st, 400);
  EXPECT_EQ(body["error"]["code"], "invalid_argument");
  EXPECT_EQ(Call("GET", "/api/sinks/hook/failed_messages?bogus=1").first, 400);
  // Retry and discard need an explicit selection.
  auto [est, empty] = Call("POST", "/api/sinks/hook/failed_messages/discard", "{}");
  EXPECT_EQ(est, 400);
  EXPECT_EQ(empty["error"]["code"], "invalid_argument");
  auto [mst, malformed] = Call("POST", "/api/sinks/hook/failed_messages/retry", "{nope");
  EXPECT_EQ(mst, 400);
  EXPECT_EQ(malformed["error"]["code"], "malformed_json");
  EXPECT_EQ(Call("POST", "/api/sinks/hook/failed_messages/retry", R"({"ids": ["x"]})").first, 400);
  EXPECT_EQ(Call("POST", "/api/sinks/nope/failed_messages/retry", R"({"all": true})").first, 404);
  auto [ok, list] = Call("GET", "/api/sinks/hook/failed_messages?limit=10&offset=0");
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(list["total"], 0);
}

}  // namespace
}  // namespace sluice::itest
