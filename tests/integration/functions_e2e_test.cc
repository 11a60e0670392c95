// SQL filters and Lua functions end to end: a real Postgres, Sluice in
// process, a webhook receiver; and `sluice config check` on bad ones.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"
#include "testing/http_receiver.h"

namespace sluice::itest {
namespace {

class FunctionsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "fn_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    CreateDatabase(db_);
    Sql("CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, total numeric, "
        "customer jsonb, note text)");
    dir_ = TempDir("fn");
    ASSERT_TRUE(receiver_.Start().ok());
  }
  void TearDown() override {
    sluice_.Stop();
    receiver_.Stop();
    std::filesystem::remove_all(dir_);
  }
  void Start(const std::string& functions, const std::string& sink_extra) {
    std::string y = "data_dir: " + dir_ + "\nserver: {listen: \"127.0.0.1:0\"}\n" + functions;
    y += "databases:\n  - name: " + db_ + "\n    url: " + SharedCluster().Url(db_) + "\n";
    y += "    slot: {name: " + db_ + "_slot, create_if_not_exists: true}\n";
    y += "    publication: {name: " + db_ + "_pub, create_if_not_exists: true}\n";
    y += "sinks:\n  - name: hook\n    database: " + db_ + "\n" + sink_extra;
    y += "    retry_initial_ms: 20\n    retry_max_ms: 100\n";
    y += "    destination: {type: webhook, url: \"" + receiver_.url() + "/hooks\", batch: false}\n";
    Status st = sluice_.Start(LoadYaml(y));
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void Sql(const std::string& sql) { ASSERT_TRUE(SharedCluster().Exec(sql, db_).ok()) << sql; }
  // Inserts a marker row that every sink below lets through, and waits for
  // it: everything committed before it has been routed by then.
  void Barrier(int id) {
    Sql("INSERT INTO orders VALUES (" + std::to_string(id) +
        ", 'paid', 1000, '{\"tier\": \"gold\"}', 'barrier')");
    ASSERT_TRUE(receiver_.WaitFor(
        [&](const std::vector<testing::ReceivedRequest>& rs) {
          for (const auto& r : rs) {
            if (r.body.find("barrier") != std::string::npos) return true;
          }
          return false;
        },
        30s));
  }
  std::vector<json> Bodies() {
    std::vector<json> out;
    for (const auto& r : receiver_.Requests()) out.push_back(json::parse(r.body, nullptr, false));
    return out;
  }

  std::string db_;
  std::string dir_;
  testing::HttpReceiver receiver_;
  InProcessSluice sluice_;
};

TEST_F(FunctionsE2eTest, SqlFilterSendsOnlyMatchingChanges) {
  Start("",
        "    actions: [insert, update, delete]\n"
        "    filter: \"status = 'paid' AND total > 100 AND customer->>'tier' IN ('gold', 'vip')"
        " OR (action = 'delete')\"\n");
  Sql("INSERT INTO orders VALUES (1, 'paid', 150, '{\"tier\": \"gold\"}', NULL)");   // yes
  Sql("INSERT INTO orders VALUES (2, 'paid', 50, '{\"tier\": \"gold\"}', NULL)");    // total
  Sql("INSERT INTO orders VALUES (3, 'open', 500, '{\"tier\": \"vip\"}', NULL)");    // status
  Sql("INSERT INTO orders VALUES (4, 'paid', 500, '{\"tier\": \"basic\"}', NULL)");  // tier
  Sql("INSERT INTO orders VALUES (5, 'paid', NULL, '{\"tier\": \"vip\"}', NULL)");   // NULL
  Sql("UPDATE orders SET total = 200 WHERE id = 2");                                 // now yes
  Sql("DELETE FROM orders WHERE id = 3");                                            // action
  Barrier(100);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const json& m : Bodies()) {
    if (m["record"]["note"] == "barrier") continue;
    got.emplace_back(m["record"]["id"].get<int64_t>(), m["action"].get<std::string>());
  }
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{
                     {1, "insert"}, {2, "update"}, {3, "delete"}}));
}

TEST_F(FunctionsE2eTest, LuaFilterRoutingAndTransformShapeWhatIsSent) {
  Start(
      "functions:\n"
      "  - name: big\n    type: filter\n    lua: \"return record.status ~= 'void'\"\n"
      "  - name: by_status\n    type: route\n    lua: |\n"
      "      return {path = '/orders/' .. record.status, headers = {['X-Order'] = "
      "tostring(record.id)}}\n"
      "  - name: slim\n    type: transform\n    lua: |\n"
      "      function transform(action, record, changes, metadata)\n"
      "        return {id = record.id, kind = action, table = metadata.table_name}\n"
      "      end\n",
      "    filter: big\n    routing: by_status\n    transform: slim\n");
  Sql("INSERT INTO orders VALUES (9223372036854775807, 'paid', 1, NULL, NULL)");
  Sql("INSERT INTO orders VALUES (2, 'void', 1, NULL, NULL)");
  Sql("INSERT INTO orders VALUES (3, 'open', 1, NULL, NULL)");
  Sql("INSERT INTO orders VALUES (100, 'paid', 1, NULL, NULL)");
  ASSERT_TRUE(receiver_.WaitFor(
      [](const std::vector<testing::ReceivedRequest>& rs) {
        for (const auto& r : rs) {
          if (json::parse(r.body, nullptr, false)["id"] == 100) return true;
        }
        return false;
      },
      30s));
  auto requests = receiver_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  // int64 max survives Lua exactly; the route picks the path and a header.
  EXPECT_EQ(requests[0].target, "/hooks/orders/paid");
  EXPECT_EQ(requests[0].Header("X-Order"), "9223372036854775807");
  EXPECT_EQ(json::parse(requests[0].body),
            json::parse(R"({"id": 9223372036854775807, "kind": "insert", "table": "orders"})"));
  EXPECT_EQ(requests[1].target, "/hooks/orders/open");
  EXPECT_EQ(json::parse(requests[1].body)["id"], 3);
  EXPECT_EQ(requests[2].target, "/hooks/orders/paid");  // row 100
}

TEST_F(FunctionsE2eTest, AFailingFunctionFailsThatMessageNotTheDaemon) {
  Start(
      "functions:\n"
      "  - name: picky\n    type: transform\n    lua: |\n"
      "      if record.note == 'boom' then error('cannot shape order ' .. record.id) end\n"
      "      if record.note == 'spin' then while true do end end\n"
      "      return {id = record.id}\n",
      "    transform: picky\n");
  Sql("INSERT INTO orders VALUES (1, 'paid', 1, NULL, 'boom')");
  Sql("INSERT INTO orders VALUES (2, 'paid', 1, NULL, 'spin')");
  Sql("INSERT INTO orders VALUES (3, 'paid', 1, NULL, NULL)");
  // Row 3 arrives although 1 and 2 keep failing (they go to the store).
  ASSERT_TRUE(receiver_.WaitFor(
      [](const std::vector<testing::ReceivedRequest>& rs) {
        for (const auto& r : rs) {
          if (json::parse(r.body, nullptr, false) == json::parse(R"({"id": 3})")) return true;
        }
        return false;
      },
      60s));
  for (const auto& r : receiver_.Requests()) {
    EXPECT_EQ(json::parse(r.body, nullptr, false), json::parse(R"({"id": 3})")) << r.body;
  }
  // Still alive and streaming.
  Sql("INSERT INTO orders VALUES (4, 'paid', 1, NULL, NULL)");
  ASSERT_TRUE(receiver_.WaitForRequests(2, 30s));
}

TEST(FunctionsConfigCheck, BadFiltersAndFunctionsAreReportedWithFileAndLine) {
  const std::string dir = TempDir("fncheck");
  const std::string path = WriteFile(dir, "sluice.yaml",
                                     "databases:\n"
                                     "  - name: app\n"
                                     "    url: postgres://u@127.0.0.1/app\n"
                                     "    slot: {name: s}\n"
                                     "    publication: {name: p}\n"
                                     "functions:\n"
                                     "  - name: broken\n"
                                     "    type: transform\n"
                                     "    lua: |\n"
                                     "      local x = 1\n"
                                     "      return {x = }\n"
                                     "sinks:\n"
                                     "  - name: a\n"
                                     "    database: app\n"
                                     "    filter: \"total > now()\"\n"
                                     "    transform: broken\n"
                                     "    destination: {type: stdout}\n"
                                     "  - name: b\n"
                                     "    database: app\n"
                                     "    filter: \"status = 'paid' AND\"\n"
                                     "    destination: {type: stdout}\n");
  std::string out;
  EXPECT_NE(RunSluice({"config", "check", path}, &out), 0);
  EXPECT_NE(out.find("sluice.yaml:9:"), std::string::npos) << out;   // the lua block
  EXPECT_NE(out.find(":2:"), std::string::npos) << out;              // line 2 of the code
  EXPECT_NE(out.find("sluice.yaml:15:"), std::string::npos) << out;  // sinks[0].filter
  EXPECT_NE(out.find("now()"), std::string::npos) << out;
  EXPECT_NE(out.find("sluice.yaml:20:"), std::string::npos) << out;  // sinks[1].filter
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::itest
