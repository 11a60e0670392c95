// End to end against a real Postgres and a real HTTP receiver: every insert,
// update, delete and truncate arrives once, in commit order per row, with the
// right values; outages of the receiver and of Postgres lose nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "harness.h"

namespace sluice::itest {
namespace {

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "e2e_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    CreateDatabase(db_);
    ASSERT_TRUE(Cluster()
                    .Exec("CREATE TABLE items (id int PRIMARY KEY, name text, qty int, "
                          "tags text[], doc jsonb);",
                          db_)
                    .ok());
    ASSERT_TRUE(receiver_.Start().ok());
    data_dir_ = TempDir("e2e-data");
  }
  void TearDown() override {
    sluice_.Stop();
    receiver_.Stop();
    std::filesystem::remove_all(data_dir_);
  }
  testing::PgCluster& Cluster() { return SharedCluster(); }
  void Sql(const std::string& sql) {
    Status st = Cluster().Exec(sql, db_);
    ASSERT_TRUE(st.ok()) << st.message() << "\n" << sql;
  }
  void StartSluice(const std::string& sink_extra = "", const std::string& dest_extra = "",
                   const std::string& db_extra = "") {
    SinkSpec s;
    s.url = receiver_.url() + "/hooks";
    s.extra = sink_extra;
    s.destination_extra = dest_extra;
    const std::string yaml = ConfigYaml(data_dir_, Cluster().Url(db_), db_, {s}, db_extra);
    Status st = sluice_.Start(LoadYaml(yaml));
    ASSERT_TRUE(st.ok()) << st.message();
  }
  // Per row id, the messages in arrival order.
  static std::map<std::string, std::vector<json>> ByRow(const std::vector<json>& messages) {
    std::map<std::string, std::vector<json>> rows;
    for (const json& m : messages) {
      const auto& pks = m["metadata"]["record_pks"];
      rows[pks.empty() ? "" : pks[0].get<std::string>()].push_back(m);
    }
    return rows;
  }
  static void ExpectCommitOrderPerRow(const std::vector<json>& messages) {
    for (const auto& [row, ms] : ByRow(messages)) {
      for (size_t i = 1; i < ms.size(); ++i) {
        auto prev = std::make_pair(ms[i - 1]["metadata"]["commit_lsn"].get<uint64_t>(),
                                   ms[i - 1]["metadata"]["commit_idx"].get<uint64_t>());
        auto cur = std::make_pair(ms[i]["metadata"]["commit_lsn"].get<uint64_t>(),
                                  ms[i]["metadata"]["commit_idx"].get<uint64_t>());
        EXPECT_LT(prev, cur) << "row " << row << " out of order at message " << i;
      }
    }
  }
  // Messages of different rows are delivered in parallel; this restores
  // commit order for checks that read the stream as a whole.
  static std::vector<json> InCommitOrder(std::vector<json> ms) {
    std::stable_sort(ms.begin(), ms.end(), [](const json& a, const json& b) {
      return std::make_pair(a["metadata"]["commit_lsn"].get<uint64_t>(),
                            a["metadata"]["commit_idx"].get<uint64_t>()) <
             std::make_pair(b["metadata"]["commit_lsn"].get<uint64_t>(),
                            b["metadata"]["commit_idx"].get<uint64_t>());
    });
    return ms;
  }
  static void ExpectNoDuplicates(const std::vector<json>& messages) {
    std::set<std::string> keys;
    for (const json& m : messages) {
      EXPECT_TRUE(keys.insert(m["metadata"]["idempotency_key"].get<std::string>()).second)
          << "duplicate " << m.dump();
    }
  }

  std::string db_;
  std::string data_dir_;
  testing::HttpReceiver receiver_;
  MessageCollector collector_{receiver_};
  InProcessSluice sluice_;
};

TEST_F(EndToEndTest, EveryChangeArrivesOnceInCommitOrderWithItsValues) {
  StartSluice("    actions: [insert, update, delete, truncate]\n");
  Sql("INSERT INTO items VALUES (1, 'one', 1, '{a,\"b c\"}', '{\"k\": [1, 2]}')");
  Sql("BEGIN; INSERT INTO items VALUES (2, 'two', 2, NULL, NULL); "
      "UPDATE items SET qty = 10 WHERE id = 1; INSERT INTO items VALUES (3, 'three', 3, '{}', "
      "'null'); COMMIT");
  Sql("UPDATE items SET name = 'uno' WHERE id = 1");
  Sql("DELETE FROM items WHERE id = 2");
  Sql("BEGIN; UPDATE items SET qty = qty + 1; DELETE FROM items WHERE id = 3; COMMIT");
  Sql("TRUNCATE items");
  ASSERT_TRUE(collector_.WaitForCount(10, 30s)) << collector_.Count();
  auto ms = collector_.Messages();
  ASSERT_EQ(ms.size(), 10u);
  ExpectNoDuplicates(ms);
  ExpectCommitOrderPerRow(ms);
  ms = InCommitOrder(ms);

  EXPECT_EQ(ms[0]["action"], "insert");
  EXPECT_EQ(ms[0]["record"], json::parse(R"({"id":1,"name":"one","qty":1,"tags":["a","b c"],
                                             "doc":{"k":[1,2]}})"));
  EXPECT_TRUE(ms[0]["changes"].is_null());
  EXPECT_EQ(ms[0]["metadata"]["table_name"], "items");
  EXPECT_EQ(ms[0]["metadata"]["sink"]["name"], "hook");
  EXPECT_EQ(ms[0]["metadata"]["database"]["name"], db_);

  // The multi-statement transaction: one commit_lsn, commit_idx 0, 1, 2.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(ms[i]["metadata"]["commit_lsn"], ms[1]["metadata"]["commit_lsn"]);
    EXPECT_EQ(ms[i]["metadata"]["commit_idx"], i - 1);
  }
  EXPECT_EQ(ms[2]["action"], "update");
  EXPECT_EQ(ms[2]["record"]["qty"], 10);
  EXPECT_EQ(ms[2]["changes"], json::object());  // REPLICA IDENTITY DEFAULT
  EXPECT_EQ(ms[3]["record"]["doc"], nullptr);   // jsonb 'null' is JSON null
  EXPECT_EQ(ms[4]["record"]["name"], "uno");
  EXPECT_EQ(ms[5]["action"], "delete");
  EXPECT_EQ(ms[5]["record"]["id"], 2);
  EXPECT_EQ(ms[5]["record"]["name"], nullptr);  // old key tuple only
  EXPECT_EQ(ms[6]["action"], "update");
  EXPECT_EQ(ms[8]["action"], "delete");
  EXPECT_EQ(ms[9]["action"], "truncate");
  EXPECT_TRUE(ms[9]["record"].is_null());
  EXPECT_EQ(ms[9]["metadata"]["truncated_tables"][0]["table_name"], "items");
}

TEST_F(EndToEndTest, AlterTableMidStreamChangesTheColumns) {
  StartSluice();
  Sql("INSERT INTO items(id, name, qty) VALUES (1, 'a', 1)");
  Sql("ALTER TABLE items ADD COLUMN color text DEFAULT 'red'");
  Sql("INSERT INTO items(id, name, color) VALUES (2, 'b', 'blue')");
  Sql("ALTER TABLE items DROP COLUMN qty");
  Sql("UPDATE items SET name = 'c' WHERE id = 1");
  // Schema change inside one transaction, between two changes.
  Sql("BEGIN; INSERT INTO items(id) VALUES (3); ALTER TABLE items ADD COLUMN size int; "
      "INSERT INTO items(id, size) VALUES (4, 44); COMMIT");
  ASSERT_TRUE(collector_.WaitForCount(5, 30s));
  auto ms = InCommitOrder(collector_.Messages());
  ASSERT_EQ(ms.size(), 5u);
  EXPECT_TRUE(ms[0]["record"].contains("qty"));
  EXPECT_FALSE(ms[0]["record"].contains("color"));
  EXPECT_EQ(ms[1]["record"]["color"], "blue");
  EXPECT_EQ(ms[1]["record"]["qty"], nullptr);
  EXPECT_FALSE(ms[2]["record"].contains("qty"));
  EXPECT_EQ(ms[2]["record"]["color"], "red");
  EXPECT_EQ(ms[2]["record"]["name"], "c");
  EXPECT_FALSE(ms[3]["record"].contains("size"));
  EXPECT_EQ(ms[4]["record"]["size"], 44);
}

TEST_F(EndToEndTest, StreamedTransactionArrivesWithItsSchemaChangeAndWithoutItsRollback) {
  // More than the test cluster's logical_decoding_work_mem (1MB): Postgres
  // streams the transaction while it runs, and Sluice renders its changes
  // as they arrive, with the relation they arrive under.
  Sql("ALTER TABLE items REPLICA IDENTITY FULL");
  StartSluice("    actions: [insert, update, delete]\n");
  ASSERT_TRUE(WaitForSlotHeld(Cluster(), db_, db_ + "_slot"));
  Sql("BEGIN;"
      "INSERT INTO items(id, name, qty) SELECT g, repeat('x', 400), g FROM "
      "generate_series(1, 4000) g;"
      "UPDATE items SET qty = -qty, tags = '{t}' WHERE id <= 10;"
      "SAVEPOINT s;"
      "INSERT INTO items(id, name) SELECT g, repeat('y', 400) FROM generate_series(100001, 103000) "
      "g;"
      "ROLLBACK TO SAVEPOINT s;"
      "ALTER TABLE items ADD COLUMN color text DEFAULT 'red';"
      "INSERT INTO items(id, name, color) SELECT g, repeat('z', 400), 'blue' FROM "
      "generate_series(5001, 8000) g;"
      "DELETE FROM items WHERE id = 1;"
      "COMMIT");
  constexpr size_t kMessages = 4000 + 10 + 3000 + 1;
  ASSERT_TRUE(collector_.WaitForCount(kMessages, 60s)) << collector_.Count();
  // Postgres did stream it (the slot's statistics are sent with a delay).
  EXPECT_TRUE(Eventually(
      [&] {
        auto n = Cluster().QueryValue(
            "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '" + db_ +
                "_slot'",
            db_);
        return n.ok() && n->has_value() && **n != "0";
      },
      30s));
  auto ms = InCommitOrder(collector_.Messages());
  ASSERT_EQ(ms.size(), kMessages);
  ExpectNoDuplicates(ms);
  for (size_t i = 0; i < ms.size(); ++i) {
    EXPECT_EQ(ms[i]["metadata"]["commit_idx"], i);
    EXPECT_EQ(ms[i]["metadata"]["commit_lsn"], ms[0]["metadata"]["commit_lsn"]);
  }
  EXPECT_EQ(ms[0]["record"], json::parse(R"({"id":1,"name":")" + std::string(400, 'x') +
                                         R"(","qty":1,"tags":null,"doc":null})"));
  EXPECT_TRUE(ms[0]["changes"].is_null());
  EXPECT_EQ(ms[3999]["record"]["id"], 4000);
  for (size_t i = 4000; i < 4010; ++i) {
    const int id = static_cast<int>(i - 3999);
    EXPECT_EQ(ms[i]["action"], "update");
    EXPECT_EQ(ms[i]["record"]["qty"], -id);
    EXPECT_EQ(ms[i]["record"]["tags"], json::parse(R"(["t"])"));
    EXPECT_EQ(ms[i]["changes"],
              json::parse(R"({"qty":)" + std::to_string(id) + R"(,"tags":null})"));
    EXPECT_FALSE(ms[i]["record"].contains("color"));
  }
  for (size_t i = 4010; i < 7010; ++i) {
    EXPECT_EQ(ms[i]["action"], "insert");
    EXPECT_EQ(ms[i]["record"]["id"], static_cast<int>(i) + 991);  // 5001..8000, not 100001..
    EXPECT_EQ(ms[i]["record"]["color"], "blue");
  }
  EXPECT_EQ(ms[7010]["action"], "delete");
  EXPECT_EQ(ms[7010]["record"]["id"], 1);
  EXPECT_EQ(ms[7010]["record"]["qty"], -1);
  EXPECT_EQ(ms[7010]["record"]["color"], "red");
}

TEST_F(EndToEndTest, ActionsAndTablesScopeWhatASinkReceives) {
  Sql("CREATE TABLE other (id int PRIMARY KEY)");
  StartSluice("    tables: [public.items]\n    actions: [insert, delete]\n");
  Sql("INSERT INTO other VALUES (1)");
  Sql("INSERT INTO items(id) VALUES (1)");
  Sql("UPDATE items SET qty = 5");
  Sql("DELETE FROM items");
  Sql("TRUNCATE items");
  ASSERT_TRUE(collector_.WaitForCount(2, 30s));
  // A later change proves nothing else is coming in between.
  Sql("INSERT INTO items(id) VALUES (99)");
  ASSERT_TRUE(collector_.WaitForCount(3, 30s));
  auto ms = InCommitOrder(collector_.Messages());
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[0]["action"], "insert");
  EXPECT_EQ(ms[1]["action"], "delete");
  EXPECT_EQ(ms[2]["record"]["id"], 99);
}

TEST_F(EndToEndTest, ReceiverDownThenUpDeliversEverythingInOrder) {
  StartSluice();
  Sql("INSERT INTO items(id, qty) VALUES (1, 0)");
  ASSERT_TRUE(collector_.WaitForCount(1, 30s));
  receiver_.Stop();
  for (int i = 1; i <= 30; ++i) {
    Sql("UPDATE items SET qty = " + std::to_string(i) +
        " WHERE id = 1; INSERT INTO items(id) "
        "VALUES (" +
        std::to_string(100 + i) + ")");
  }
  // The outage itself (not synchronisation): Sluice keeps failing against
  // the closed port meanwhile.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(collector_.Count(), 1u);
  ASSERT_TRUE(receiver_.Start().ok());
  ASSERT_TRUE(collector_.WaitForCount(61, 60s)) << collector_.Count();
  auto ms = collector_.Messages();
  ExpectNoDuplicates(ms);
  ExpectCommitOrderPerRow(ms);
  auto rows = ByRow(ms);
  ASSERT_EQ(rows["1"].size(), 31u);
  for (int i = 0; i <= 30; ++i) EXPECT_EQ(rows["1"][i]["record"]["qty"], i);
}

TEST_F(EndToEndTest, Receiver500ForAWhileThenDeliversInOrder) {
  StartSluice();
  collector_.SetFailing(true, 500);
  for (int i = 0; i < 20; ++i) {
    Sql("INSERT INTO items(id, qty) VALUES (" + std::to_string(i) + ", 0)");
    Sql("UPDATE items SET qty = 1 WHERE id = " + std::to_string(i));
  }
  ASSERT_TRUE(Eventually([&] { return collector_.rejected() >= 20; }, 30s));
  collector_.SetFailing(false);
  ASSERT_TRUE(collector_.WaitForCount(40, 60s)) << collector_.Count();
  auto ms = collector_.Messages();
  EXPECT_EQ(ms.size(), 40u);
  ExpectNoDuplicates(ms);
  ExpectCommitOrderPerRow(ms);
  for (const auto& [row, rms] : ByRow(ms)) {
    ASSERT_EQ(rms.size(), 2u) << row;
    EXPECT_EQ(rms[0]["action"], "insert");
    EXPECT_EQ(rms[1]["action"], "update");
  }
}

TEST_F(EndToEndTest, PostgresRestartMidStreamReconnectsByItself) {
  StartSluice();
  for (int i = 0; i < 10; ++i) Sql("INSERT INTO items(id) VALUES (" + std::to_string(i) + ")");
  ASSERT_TRUE(collector_.WaitForCount(10, 30s));
  ASSERT_TRUE(Cluster().Restart().ok());
  for (int i = 10; i < 20; ++i) Sql("INSERT INTO items(id) VALUES (" + std::to_string(i) + ")");
  ASSERT_TRUE(collector_.WaitForCount(20, 60s)) << collector_.Count();
  auto ms = collector_.Messages();
  ExpectNoDuplicates(ms);
  EXPECT_EQ(ms.size(), 20u);
}

TEST_F(EndToEndTest, SlotConfirmsDeliveredChangesAndIdleWal) {
  Sql("CREATE TABLE noise (id serial PRIMARY KEY, v text)");
  Sql("CREATE PUBLICATION " + db_ + "_pub FOR TABLE items");
  StartSluice();
  Sql("INSERT INTO items(id) VALUES (1)");
  ASSERT_TRUE(collector_.WaitForCount(1, 30s));
  // Traffic only in other tables still moves the slot (keepalive WAL end).
  std::string target;
  for (int i = 0; i < 50; ++i) Sql("INSERT INTO noise(v) VALUES ('x')");
  auto cur = Cluster().QueryValue("SELECT pg_current_wal_lsn()::text", db_);
  ASSERT_TRUE(cur.ok());
  target = **cur;
  EXPECT_TRUE(Eventually(
      [&] {
        auto v = Cluster().QueryValue("SELECT confirmed_flush_lsn >= '" + target +
                                          "'::pg_lsn FROM pg_replication_slots WHERE slot_name "
                                          "= '" +
                                          db_ + "_slot'",
                                      db_);
        return v.ok() && v->has_value() && **v == "t";
      },
      30s))
      << "slot did not advance past " << target;
}

TEST_F(EndToEndTest, RestartSkipsWhatTheSinkAlreadyAcknowledged) {
  StartSluice();
  for (int i = 0; i < 10; ++i) Sql("INSERT INTO items(id) VALUES (" + std::to_string(i) + ")");
  ASSERT_TRUE(collector_.WaitForCount(10, 30s));
  sluice_.Stop();
  for (int i = 10; i < 15; ++i) Sql("INSERT INTO items(id) VALUES (" + std::to_string(i) + ")");
  StartSluice();
  ASSERT_TRUE(collector_.WaitForCount(15, 30s));
  Sql("INSERT INTO items(id) VALUES (1000)");
  ASSERT_TRUE(collector_.WaitForCount(16, 30s));
  auto ms = collector_.Messages();
  EXPECT_EQ(ms.size(), 16u);
  ExpectNoDuplicates(ms);
}

TEST_F(EndToEndTest, BatchedWebhookWrapsMessagesInData) {
  StartSluice("    batch_size: 50\n    batch_timeout_ms: 200\n");
  Sql("INSERT INTO items(id) SELECT g FROM generate_series(1, 200) g");
  ASSERT_TRUE(collector_.WaitForCount(200, 30s));
  // 200 messages in far fewer requests than messages.
  EXPECT_LT(receiver_.RequestCount(), 200u);
  auto body = json::parse(receiver_.Requests().back().body);
  ASSERT_TRUE(body.contains("data"));
  EXPECT_GE(body["data"].size(), 1u);
  ExpectNoDuplicates(collector_.Messages());
}

}  // namespace
}  // namespace sluice::itest
