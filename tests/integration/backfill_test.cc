// Backfills end to end against a real Postgres: keyset pages merged into the
// change stream with watermarks, while writers change the table; resumption
// after SIGKILL; key types and hostile identifiers; partial and filtered
// backfills; the API, initial_backfill and the CLI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "backfill/table_reader.h"
#include "common/base64.h"
#include "harness.h"
#include "sinks/common/curl_http_client.h"

namespace sluice::itest {
namespace {

using ::testing::HasSubstr;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// The state a consumer builds by applying the messages it receives, one row
// per primary key, checking the watermark guarantee as it goes: a read is
// never older than a change of the same row delivered before it, and no
// change arrives older than a read of its row. Redeliveries (same
// idempotency key) are dropped, as a consumer would.
//
// Each Sluice process of a test posts to its own path (/hooks/runN). After a
// SIGKILL, a request the killed process had begun to send can still complete
// after requests of the next process (the kernel sends what was left in the
// dead process's socket). The consumer does what docs/backfills.md asks of
// one: it keeps, per row, the position (commit_lsn, commit_idx) it applied
// last and ignores an older message of an earlier process. Any other message
// older than what its row has is a violation.
class ReplayingConsumer {
 public:
  struct Row {
    bool exists = false;
    int64_t version = 0;
    std::string payload;
    int64_t max_version = 0;                       // highest version applied so far
    bool deleted = false;                          // ids are never reused by the writers here
    std::pair<uint64_t, uint64_t> position{0, 0};  // of the last applied message
    int run = 0;                                   // latest process that sent one
    std::string history;  // what arrived for this row, for failure messages
  };

  explicit ReplayingConsumer(testing::HttpReceiver& receiver) {
    receiver.SetReplyFunction([this](const testing::ReceivedRequest& req) {
      json body = json::parse(req.body, nullptr, false);
      int run = 0;
      if (auto at = req.target.rfind("/run"); at != std::string::npos) {
        run = std::atoi(req.target.c_str() + at + 4);
      }
      std::lock_guard lock(mu_);
      at_ = std::chrono::duration_cast<std::chrono::milliseconds>(req.arrival - started_).count();
      if (body.is_object() && body.contains("data")) {
        for (const json& m : body["data"]) Apply(m, run);
      } else {
        Apply(body, run);
      }
      return testing::HttpReply{200, "ok"};
    });
  }

  std::map<int64_t, std::pair<int64_t, std::string>> Existing() const {
    std::lock_guard lock(mu_);
    std::map<int64_t, std::pair<int64_t, std::string>> out;
    for (const auto& [id, r] : rows_) {
      if (r.exists) out[id] = {r.version, r.payload};
    }
    return out;
  }
  uint64_t reads() const { return reads_.load(); }
  uint64_t all_reads() const { return all_reads_.load(); }
  uint64_t messages() const { return messages_.load(); }
  uint64_t duplicates() const { return duplicates_.load(); }
  // Messages of a killed process that arrived after newer ones of their row.
  uint64_t late() const { return late_.load(); }
  std::vector<std::string> violations() const {
    std::lock_guard lock(mu_);
    return violations_;
  }

 private:
  void Apply(const json& m, int run) {
    ++messages_;
    const std::string action = m["action"].get<std::string>();
    if (action == "read") ++all_reads_;
    const json& record = m["record"];
    const int64_t id = record["id"].get<int64_t>();
    const std::pair<uint64_t, uint64_t> position{m["metadata"]["commit_lsn"].get<uint64_t>(),
                                                 m["metadata"]["commit_idx"].get<uint64_t>()};
    Row& row = rows_[id];
    const std::string& key = m["metadata"]["idempotency_key"].get_ref<const std::string&>();
    const bool dup = seen_.count(key) > 0;
    const bool late = !dup && run < row.run && position <= row.position;
    if (row.history.size() < 2000) {
      row.history += " [#" + std::to_string(messages_.load()) + " run" + std::to_string(run) +
                     " t" + std::to_string(at_) + " " + action +
                     (record.contains("version") ? " v" + record["version"].dump() : "") + " @" +
                     std::to_string(position.first) + ":" + std::to_string(position.second) +
                     (dup ? " dup" : "") + (late ? " late" : "") + "]";
    }
    if (dup) {
      ++duplicates_;
      return;
    }
    if (late) {
      ++late_;
      return;
    }
    seen_.insert(key);
    if (position <= row.position) {
      Violation(action + " of row " + std::to_string(id) + " at " + std::to_string(position.first) +
                ":" + std::to_string(position.second) +
                " arrived after a newer message; arrived:" + row.history);
    }
    row.position = std::max(row.position, position);
    row.run = std::max(row.run, run);
    if (action == "delete") {
      row.exists = false;
      row.deleted = true;
      return;
    }
    const int64_t version = record["version"].get<int64_t>();
    if (action == "read") {
      ++reads_;
      if (row.deleted || version < row.max_version) {
        Violation("stale read of row " + std::to_string(id) + ": version " +
                  std::to_string(version) + " after version " + std::to_string(row.max_version) +
                  (row.deleted ? " and a delete" : "") + "; arrived:" + row.history);
      }
    } else if (version < row.max_version) {
      Violation(action + " of row " + std::to_string(id) + " at version " +
                std::to_string(version) + " arrived after version " +
                std::to_string(row.max_version) + "; arrived:" + row.history);
    }
    row.exists = true;
    row.version = version;
    row.payload = record["payload"].get<std::string>();
    row.max_version = std::max(row.max_version, version);
  }
  void Violation(std::string what) {
    if (violations_.size() < 20) violations_.push_back(std::move(what));
  }

  mutable std::mutex mu_;
  std::unordered_map<int64_t, Row> rows_;
  std::unordered_set<std::string> seen_;
  std::vector<std::string> violations_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  long long at_ = 0;  // arrival of the request being applied, ms since started_
  std::atomic<uint64_t> reads_{0}, all_reads_{0}, messages_{0}, duplicates_{0}, late_{0};
};

// Commits small transactions until stopped: updates (version + 1, new
// payload), deletes and inserts of new ids, at random.
class Writer {
 public:
  Writer(const std::string& conninfo, int64_t first_new_id)
      : conn_(PQconnectdb(conninfo.c_str())), next_id_(first_new_id), max_id_(first_new_id - 1) {}
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
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  void Loop() {
    std::mt19937_64 rng(std::random_device{}());
    while (!stop_) {
      std::string sql = "BEGIN;";
      const int statements = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < statements; ++i) {
        const int64_t id = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(max_id_));
        const int what = static_cast<int>(rng() % 10);
        if (what < 6) {
          sql +=
              "UPDATE rows SET version = version + 1, payload = md5(random()::text) WHERE id = " +
              std::to_string(id) + ";";
        } else if (what < 8) {
          sql += "DELETE FROM rows WHERE id = " + std::to_string(id) + ";";
        } else {
          sql += "INSERT INTO rows VALUES (" + std::to_string(next_id_++) + ", 1, 'new');";
        }
      }
      sql += "COMMIT;";
      PGresult* r = PQexec(conn_, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        std::lock_guard lock(mu_);
        error_ = PQresultErrorMessage(r);
      }
      PQclear(r);
      ++commits_;
      std::this_thread::sleep_for(std::chrono::milliseconds(kSanitized ? 10 : 4));
    }
  }
  PGconn* conn_;
  int64_t next_id_;
  const int64_t max_id_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> commits_{0};
  mutable std::mutex mu_;
  std::string error_;
};

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "backfill_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    CreateDatabase(db_);
    dir_ = TempDir("backfill");
    port_ = testing::FreePort();
  }
  void TearDown() override {
    sluice_.Stop();
    http_.Shutdown();
    std::filesystem::remove_all(dir_);
  }

  std::string Yaml(const std::string& url, const std::string& sink_extra,
                   const std::string& path = "/hooks") {
    SinkSpec s;
    s.url = url + path;
    s.extra = sink_extra;
    std::string y = ConfigYaml(dir_ + "/data", SharedCluster().Url(db_), db_, {s});
    const std::string any_port = "127.0.0.1:0";
    y.replace(y.find(any_port), any_port.size(), "127.0.0.1:" + std::to_string(port_));
    return y;
  }
  void StartInProcess(const std::string& url, const std::string& sink_extra = "") {
    Status st = sluice_.Start(LoadYaml(Yaml(url, sink_extra)));
    ASSERT_TRUE(st.ok()) << st.message();
    WaitForSlot();
  }
  // Sluice streams from its slot and answers on its API.
  void WaitForSlot() { WaitForDaemon(SharedCluster(), db_); }
  void WaitForDaemon(testing::PgCluster& cluster, const std::string& db) {
    ASSERT_TRUE(WaitForSlotHeld(cluster, db, db + "_slot"));
    ASSERT_TRUE(Eventually([&] { return Api("GET", "/health").first != 0; }, 60s));
  }
  void Sql(const std::string& sql) {
    Status st = SharedCluster().Exec(sql, db_);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.message();
  }

  // The API: (status, parsed body).
  std::pair<long, json> Api(const std::string& method, const std::string& path,
                            const std::string& body = "") {
    HttpRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    req.timeout = std::chrono::milliseconds(120000);
    std::promise<Result<HttpResponse>> p;
    http_.Send(req, [&](Result<HttpResponse> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    if (!r.ok()) return {0, json(r.status().message())};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  json StartBackfill(const json& request, const std::string& sink = "hook") {
    auto [status, body] = Api("POST", "/api/sinks/" + sink + "/backfills", request.dump());
    EXPECT_EQ(status, 201) << body.dump();
    return body.contains("data") ? body["data"] : json();
  }
  json GetBackfill(int64_t id, const std::string& sink = "hook") {
    auto [status, body] = Api("GET", "/api/sinks/" + sink + "/backfills/" + std::to_string(id));
    return status == 200 ? body["data"] : json();
  }
  bool WaitForState(int64_t id, const std::string& state, std::chrono::milliseconds timeout) {
    return Eventually(
        [&] {
          json b = GetBackfill(id);
          return b.is_object() && b["state"] == state;
        },
        timeout);
  }

  std::string db_;
  std::string dir_;
  int port_ = 0;
  InProcessSluice sluice_;
  CurlHttpClient http_;
};

// Reads of a plain collector, by table name.
std::vector<json> ReadsOf(const std::vector<json>& messages, const std::string& table) {
  std::vector<json> out;
  for (const json& m : messages) {
    if (m["action"] == "read" && m["metadata"]["table_name"] == table) out.push_back(m);
  }
  return out;
}

// Compares the consumer's replayed state with the table, row by row.
void ExpectReplayMatchesTable(const ReplayingConsumer& consumer, const std::string& db,
                              const testing::PgCluster& cluster = SharedCluster()) {
  auto table = cluster.Query("SELECT id, version, payload FROM rows ORDER BY id", db);
  ASSERT_TRUE(table.ok());
  const auto replayed = consumer.Existing();
  EXPECT_EQ(replayed.size(), table->size());
  size_t mismatches = 0;
  for (const auto& row : *table) {
    const int64_t id = std::stoll(row[0]);
    auto it = replayed.find(id);
    const bool same = it != replayed.end() && it->second.first == std::stoll(row[1]) &&
                      it->second.second == row[2];
    if (!same && ++mismatches <= 10) {
      ADD_FAILURE() << "row " << id << ": table has version " << row[1] << ", the sink "
                    << (it == replayed.end() ? std::string("has no row")
                                             : "has version " + std::to_string(it->second.first));
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

bool ReplayMatchesTable(const ReplayingConsumer& consumer, const std::string& db,
                        const testing::PgCluster& cluster = SharedCluster()) {
  auto table = cluster.Query("SELECT id, version, payload FROM rows", db);
  if (!table.ok()) return false;
  const auto replayed = consumer.Existing();
  if (replayed.size() != table->size()) return false;
  for (const auto& row : *table) {
    auto it = replayed.find(std::stoll(row[0]));
    if (it == replayed.end() || it->second.first != std::stoll(row[1]) ||
        it->second.second != row[2]) {
      return false;
    }
  }
  return true;
}

void CreateRowsTable(const std::string& db, int64_t rows,
                     const testing::PgCluster& cluster = SharedCluster()) {
  ASSERT_TRUE(cluster
                  .Exec("CREATE TABLE rows (id bigint PRIMARY KEY, version bigint NOT NULL, "
                        "payload text NOT NULL);"
                        "INSERT INTO rows SELECT g, 1, md5(g::text) FROM generate_series(1, " +
                            std::to_string(rows) + ") g",
                        db)
                  .ok());
}

TEST_F(BackfillTest, RowsChangedDuringTheBackfillArriveAsTheLaterChangeNeverAsAStaleRead) {
  const int64_t kRows = kSanitized ? 30000 : 200000;
  CreateRowsTable(db_, kRows);
  testing::HttpReceiver receiver;
  ReplayingConsumer consumer(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  StartInProcess(receiver.url(), "    batch_size: 500\n    batch_timeout_ms: 20\n");

  Writer writer(SharedCluster().ConnInfo(db_), kRows + 1);
  writer.Start();
  const json started = StartBackfill({{"table", "public.rows"}});
  ASSERT_TRUE(started.is_object());
  const int64_t id = started["id"].get<int64_t>();
  EXPECT_EQ(started["state"], "running");
  EXPECT_GT(started["estimated_total"].get<int64_t>(), 0);
  ASSERT_TRUE(WaitForState(id, "completed", 900s)) << GetBackfill(id).dump();
  writer.Stop();
  EXPECT_EQ(writer.error(), "");

  // Everything committed reaches the sink; the replay then equals the table.
  EXPECT_TRUE(Eventually([&] { return ReplayMatchesTable(consumer, db_); }, 300s));
  ExpectReplayMatchesTable(consumer, db_);
  EXPECT_THAT(consumer.violations(), ::testing::IsEmpty());
  const json done = GetBackfill(id);
  EXPECT_EQ(done["rows_emitted"].get<uint64_t>(), consumer.all_reads());
  EXPECT_GE(done["rows_read"].get<uint64_t>(), done["rows_emitted"].get<uint64_t>());
  EXPECT_FALSE(done["completed_at"].is_null());
  EXPECT_GT(consumer.reads(), static_cast<uint64_t>(kRows) / 2);
  std::printf("rows=%lld commits=%llu reads=%llu read_by_backfill=%llu messages=%llu\n",
              static_cast<long long>(kRows), static_cast<unsigned long long>(writer.commits()),
              static_cast<unsigned long long>(consumer.reads()),
              static_cast<unsigned long long>(done["rows_read"].get<uint64_t>()),
              static_cast<unsigned long long>(consumer.messages()));
}

TEST_F(BackfillTest, SigkilledSluiceResumesTheBackfillWhereItWas) {
  const int64_t kRows = kSanitized ? 30000 : 200000;
  CreateRowsTable(db_, kRows);
  testing::HttpReceiver receiver;
  ReplayingConsumer consumer(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  // A slow sink and a small queue: the backfill takes a while, and a crash
  // leaves little delivered-but-unacknowledged behind.
  receiver.SetDelay(std::chrono::milliseconds(kSanitized ? 5 : 15));
  // Each process posts to /hooks/runN (see ReplayingConsumer).
  auto write_config = [&](int run) {
    return WriteFile(
        dir_, "sluice.yaml",
        Yaml(receiver.url(),
             "    batch_size: 200\n    batch_timeout_ms: 20\n    max_queue_bytes: 1048576\n",
             "/hooks/run" + std::to_string(run)));
  };
  SluiceProcess sluice(write_config(0), dir_ + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  WaitForSlot();
  auto log_tail = [&] {
    std::ifstream in(dir_ + "/sluice.log");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  };

  Writer writer(SharedCluster().ConnInfo(db_), kRows + 1);
  writer.Start();
  const json started = StartBackfill({{"table", "rows"}});
  ASSERT_TRUE(started.is_object());
  const int64_t id = started["id"].get<int64_t>();

  int kills = 0;
  uint64_t resumed_from = 0;  // rows_read persisted when the last run started
  for (int i = 0; i < 4; ++i) {
    // Kill once this run has made progress of its own (a random amount).
    const uint64_t step = kRows / 20 + std::random_device{}() % (kRows / 20);
    json b;
    ASSERT_TRUE(Eventually(
        [&] {
          b = GetBackfill(id);
          return b.is_object() &&
                 (b["state"] != "running" || b["rows_read"].get<uint64_t>() >= resumed_from + step);
        },
        300s))
        << log_tail();
    if (b["state"] != "running") break;
    sluice.Kill9();
    EXPECT_EQ(sluice.Wait(), -SIGKILL);
    ++kills;
    write_config(kills);
    ASSERT_TRUE(sluice.Start().ok());
    json after;
    ASSERT_TRUE(Eventually(
        [&] {
          after = GetBackfill(id);
          return after.is_object();
        },
        60s))
        << log_tail();
    // It continues from its persisted cursor: what was acknowledged before
    // the kill is not read again.
    const uint64_t persisted = after["rows_read"].get<uint64_t>();
    EXPECT_GE(persisted, resumed_from) << "the backfill went backwards";
    EXPECT_LE(persisted, b["rows_read"].get<uint64_t>());
    // (Nothing acknowledged yet: no cursor, it starts from the beginning.)
    if (after["state"] == "running") {
      EXPECT_EQ(after["cursor"].is_null(), persisted == 0) << after.dump();
    }
    resumed_from = persisted;
  }
  EXPECT_GE(kills, 3) << "the backfill completed before the kills; make the sink slower";
  ASSERT_TRUE(WaitForState(id, "completed", 900s)) << GetBackfill(id).dump() << log_tail();
  writer.Stop();
  EXPECT_EQ(writer.error(), "");
  EXPECT_TRUE(Eventually([&] { return ReplayMatchesTable(consumer, db_); }, 300s)) << log_tail();
  ExpectReplayMatchesTable(consumer, db_);
  EXPECT_THAT(consumer.violations(), ::testing::IsEmpty());
  // Resumed, not started over: far fewer reads than twice the table.
  EXPECT_LT(consumer.all_reads(), static_cast<uint64_t>(kRows) * 3 / 2);
  EXPECT_LT(GetBackfill(id)["rows_read"].get<uint64_t>(), static_cast<uint64_t>(kRows) * 3 / 2);
  std::printf(
      "rows=%lld kills=%d reads_delivered=%llu distinct_reads=%llu rows_read=%llu "
      "late_after_kill=%llu\n",
      static_cast<long long>(kRows), kills, static_cast<unsigned long long>(consumer.all_reads()),
      static_cast<unsigned long long>(consumer.reads()),
      static_cast<unsigned long long>(GetBackfill(id)["rows_read"].get<uint64_t>()),
      static_cast<unsigned long long>(consumer.late()));
  ASSERT_TRUE(sluice.Alive()) << log_tail();
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
}

// The key of each read of `table`, decoded from its idempotency key
// ("<backfill id>:[key values]"), sorted.
std::vector<std::string> ReadKeys(const std::vector<json>& messages, const std::string& table) {
  std::vector<std::string> keys;
  for (const json& m : ReadsOf(messages, table)) {
    const std::string decoded =
        Base64Decode(m["metadata"]["idempotency_key"].get<std::string>()).value_or("?");
    keys.push_back(decoded.substr(decoded.find(':') + 1));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The same keys as Postgres gives them: a JSON array of each key's text.
std::vector<std::string> TableKeys(const std::string& db, const std::string& select) {
  auto rows = SharedCluster().Query(select, db);
  EXPECT_TRUE(rows.ok());
  std::vector<std::string> keys;
  for (const auto& row : *rows) keys.push_back(json(row).dump());
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST_F(BackfillTest, KeyTypesAndHostileIdentifiers) {
  Sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
      "CREATE TABLE composite (tenant text, n int, v int NOT NULL, PRIMARY KEY (tenant, n));"
      "INSERT INTO composite SELECT 't' || (g % 7), g, g FROM generate_series(1, 2500) g;"
      "CREATE TABLE uuids (id uuid PRIMARY KEY, v int);"
      "INSERT INTO uuids SELECT gen_random_uuid(), g FROM generate_series(1, 2500) g;"
      "CREATE TABLE events (at timestamptz PRIMARY KEY, v int);"
      "INSERT INTO events SELECT '2024-01-01 00:00:00+00'::timestamptz + g * interval '1.5 "
      "second', g FROM generate_series(1, 2500) g;"
      "CREATE TABLE moods (m mood, n int, PRIMARY KEY (m, n));"
      "INSERT INTO moods SELECT (ARRAY['sad','ok','happy'])[1 + g % 3]::mood, g "
      "FROM generate_series(1, 2500) g;"
      "CREATE TABLE \"Weird \"\"Tbl\"\" ü\" (\"ID\" int PRIMARY KEY, \"Sort Col\" timestamptz "
      "NOT NULL, \"näme\" text);"
      "INSERT INTO \"Weird \"\"Tbl\"\" ü\" SELECT g, '2024-01-01'::timestamptz + (g % 100) * "
      "interval '1 day', 'row ' || g FROM generate_series(1, 2500) g;");
  testing::HttpReceiver receiver;
  MessageCollector collector(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  StartInProcess(receiver.url(), "    batch_size: 200\n");

  std::vector<int64_t> ids;
  for (const json& request : {json{{"table", "composite"}}, json{{"table", "public.uuids"}},
                              json{{"table", "events"}}, json{{"table", "moods"}},
                              json{{"table", "Weird \"Tbl\" ü"}, {"sort_column", "Sort Col"}}}) {
    json b = StartBackfill(request);
    ASSERT_TRUE(b.is_object()) << request.dump();
    ids.push_back(b["id"].get<int64_t>());
  }
  for (int64_t id : ids) {
    ASSERT_TRUE(WaitForState(id, "completed", 300s)) << GetBackfill(id).dump();
  }
  ASSERT_TRUE(collector.WaitForCount(5 * 2500, 120s)) << collector.Count();
  const auto messages = collector.Messages();
  EXPECT_EQ(ReadKeys(messages, "composite"),
            TableKeys(db_, "SELECT tenant, n::text FROM composite"));
  EXPECT_EQ(ReadKeys(messages, "uuids"), TableKeys(db_, "SELECT id::text FROM uuids"));
  EXPECT_EQ(ReadKeys(messages, "events"), TableKeys(db_, "SELECT at::text FROM events"));
  EXPECT_EQ(ReadKeys(messages, "moods"), TableKeys(db_, "SELECT m::text, n::text FROM moods"));
  EXPECT_EQ(ReadKeys(messages, "Weird \"Tbl\" ü"),
            TableKeys(db_, "SELECT \"ID\"::text FROM \"Weird \"\"Tbl\"\" ü\""));
  // The reads look like any other message of the table.
  const auto weird = ReadsOf(messages, "Weird \"Tbl\" ü");
  ASSERT_FALSE(weird.empty());
  const json& m = weird.front();
  EXPECT_EQ(m["metadata"]["table_schema"], "public");
  EXPECT_TRUE(m["changes"].is_null());
  EXPECT_TRUE(m["record"].contains("Sort Col"));
  EXPECT_TRUE(m["record"]["ID"].is_number());
  EXPECT_EQ(m["record"]["näme"], "row " + std::to_string(m["record"]["ID"].get<int>()));
  EXPECT_EQ(m["metadata"]["record_pks"].size(), 1u);
}

// A page is read in chunks of a few rows, each query sent before the caller
// is handed the chunk before it: the rows are those of one query for the
// whole page, in order, with a composite key, NULLs, a sort column with a
// start position and a limit that is not a multiple of the chunk.
TEST_F(BackfillTest, APageReadInChunksHoldsTheRowsOfOneQuery) {
  Sql("CREATE TABLE \"Odd Table\" (\"Grp\" text, n int, note text, day date NOT NULL, "
      "PRIMARY KEY (\"Grp\", n));"
      "INSERT INTO \"Odd Table\" SELECT 'g' || (g % 4), g, CASE WHEN g % 5 = 0 THEN NULL "
      "ELSE 'note ' || g END, '2024-01-01'::date + (g % 9) FROM generate_series(1, 40) g;");
  auto reader = backfill::TableReader::Connect(SharedCluster().ConnInfo(db_), "test");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto key_order = (*reader)->LoadShape("public", "Odd Table", "");
  ASSERT_TRUE(key_order.ok()) << key_order.status().message();
  auto by_day = (*reader)->LoadShape("public", "Odd Table", "day");
  ASSERT_TRUE(by_day.ok()) << by_day.status().message();

  auto texts = [](const source::TextRows& rows) {
    std::vector<std::vector<std::string>> out;
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < rows.columns(); ++c) {
        row.emplace_back(rows.Value(r, c).value_or("NULL"));
      }
      out.push_back(std::move(row));
    }
    return out;
  };
  struct Case {
    backfill::ShapeRef shape;
    std::optional<std::string> start;
  };
  for (const Case& c : {Case{*key_order, std::nullopt}, Case{*by_day, "2024-01-04"}}) {
    std::optional<std::vector<std::string>> cursor;
    size_t pages = 0;
    size_t total = 0;
    while (true) {
      ASSERT_LT(++pages, 20u);
      const auto* after = cursor ? &*cursor : nullptr;
      auto whole = (*reader)->ReadPage(*c.shape, after, c.start, 11, {}, nullptr, 0);
      ASSERT_TRUE(whole.ok()) << whole.status().message();
      std::vector<std::pair<size_t, size_t>> chunks;
      source::TextRows reused(1);
      reused.AddValue("left over from an earlier page");
      auto chunked = (*reader)->ReadPage(
          *c.shape, after, c.start, 11, std::move(reused),
          [&](const source::TextRows& rows, size_t from, size_t to) {
            EXPECT_EQ(rows.size(), to);
            chunks.emplace_back(from, to);
          },
          3);
      ASSERT_TRUE(chunked.ok()) << chunked.status().message();
      EXPECT_EQ(texts(chunked->rows), texts(whole->rows));
      // Chunks of 3, 3, 3 and 2 for a full page; one short chunk at the end.
      size_t expected_from = 0;
      for (const auto& [from, to] : chunks) {
        EXPECT_EQ(from, expected_from);
        EXPECT_LE(to - from, 3u);
        expected_from = to;
      }
      EXPECT_EQ(expected_from, whole->rows.size());
      if (whole->rows.size() == 11) {
        EXPECT_EQ(chunks.size(), 4u);
      }
      total += whole->rows.size();
      if (whole->rows.size() < 11) break;
      auto next = backfill::CursorValues(*c.shape, whole->rows, whole->rows.size() - 1);
      ASSERT_TRUE(next.ok());
      cursor = *next;
    }
    auto expected = SharedCluster().QueryValue(
        c.start ? "SELECT count(*) FROM \"Odd Table\" WHERE day >= '2024-01-04'"
                : "SELECT count(*) FROM \"Odd Table\"",
        db_);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(std::to_string(total), expected->value_or(""));
  }
}

TEST_F(BackfillTest, PartialFromAStartPositionAndWithAFilter) {
  Sql("CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, total numeric NOT NULL, "
      "created date NOT NULL);"
      "INSERT INTO orders SELECT g, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'pending' END, g * 1.5, "
      "'2024-01-01'::date + g FROM generate_series(1, 3000) g;");
  testing::HttpReceiver receiver;
  MessageCollector collector(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  StartInProcess(receiver.url(), "    batch_size: 200\n");

  // From a position of the sort column.
  json partial = StartBackfill(
      {{"table", "orders"}, {"sort_column", "created"}, {"start_position", "2031-01-01"}});
  ASSERT_TRUE(partial.is_object());
  ASSERT_TRUE(WaitForState(partial["id"].get<int64_t>(), "completed", 120s));
  auto expected =
      SharedCluster().QueryValue("SELECT count(*) FROM orders WHERE created >= '2031-01-01'", db_);
  ASSERT_TRUE(expected.ok());
  const size_t from_position = std::stoul(expected->value_or("0"));
  ASSERT_GT(from_position, 0u);
  ASSERT_TRUE(collector.WaitForCount(from_position, 60s));
  for (const json& m : collector.Messages()) {
    EXPECT_GE(m["record"]["created"].get<std::string>(), "2031-01-01");
  }
  EXPECT_EQ(collector.Count(), from_position);

  // With a start position on the primary key (no sort column).
  json by_key = StartBackfill({{"table", "orders"}, {"start_position", 2990}});
  ASSERT_TRUE(by_key.is_object());
  EXPECT_EQ(by_key["sort_column"], "id");
  ASSERT_TRUE(WaitForState(by_key["id"].get<int64_t>(), "completed", 120s));
  ASSERT_TRUE(collector.WaitForCount(from_position + 11, 60s));

  // A selection by SQL filter.
  json filtered =
      StartBackfill({{"table", "orders"}, {"filter", "status = 'paid' AND total > 3000"}});
  ASSERT_TRUE(filtered.is_object());
  ASSERT_TRUE(WaitForState(filtered["id"].get<int64_t>(), "completed", 120s));
  auto paid = SharedCluster().QueryValue(
      "SELECT count(*) FROM orders WHERE status = 'paid' AND total > 3000", db_);
  const size_t matching = std::stoul(paid->value_or("0"));
  ASSERT_TRUE(collector.WaitForCount(from_position + 11 + matching, 60s));
  const auto messages = collector.Messages();
  for (size_t i = from_position + 11; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i]["record"]["status"], "paid");
  }
  EXPECT_EQ(messages.size(), from_position + 11 + matching);
  const json done = GetBackfill(filtered["id"].get<int64_t>());
  EXPECT_EQ(done["rows_read"], 3000);
  EXPECT_EQ(done["rows_emitted"], matching);
}

TEST_F(BackfillTest, PauseResumeCancelAndProgressThroughTheApi) {
  constexpr int kRows = 20000;
  Sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);"
      "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g;");
  testing::HttpReceiver receiver;
  MessageCollector collector(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  receiver.SetDelay(std::chrono::milliseconds(30));  // a slow sink: time to pause
  StartInProcess(receiver.url(), "    batch_size: 100\n    max_queue_bytes: 1048576\n");

  json b = StartBackfill({{"table", "items"}});
  ASSERT_TRUE(b.is_object());
  const int64_t id = b["id"].get<int64_t>();
  EXPECT_EQ(b["estimated_total"], kRows);
  EXPECT_EQ(b["table"], "public.items");
  auto [paused_status, paused] =
      Api("POST", "/api/sinks/hook/backfills/" + std::to_string(id) + "/pause");
  ASSERT_EQ(paused_status, 200) << paused.dump();
  EXPECT_EQ(paused["data"]["state"], "paused");
  // Paused: once what was emitted is delivered, nothing more is read.
  const uint64_t emitted = paused["data"]["rows_emitted"].get<uint64_t>();
  ASSERT_LT(emitted, static_cast<uint64_t>(kRows)) << "completed before the pause";
  ASSERT_TRUE(collector.WaitForCount(emitted, 60s));
  json still = GetBackfill(id);
  EXPECT_EQ(still["state"], "paused");
  EXPECT_EQ(still["rows_emitted"].get<uint64_t>(), emitted);
  EXPECT_EQ(collector.Count(), emitted);
  // Pausing again is a conflict.
  auto [again_status, again] =
      Api("POST", "/api/sinks/hook/backfills/" + std::to_string(id) + "/pause");
  EXPECT_EQ(again_status, 409);
  EXPECT_EQ(again["error"]["code"], "conflict");
  // Listed with its progress.
  auto [list_status, list] = Api("GET", "/api/sinks/hook/backfills");
  EXPECT_EQ(list_status, 200);
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["state"], "paused");

  receiver.SetDelay(std::chrono::milliseconds(0));
  auto [resumed_status, resumed] =
      Api("POST", "/api/sinks/hook/backfills/" + std::to_string(id) + "/resume");
  ASSERT_EQ(resumed_status, 200) << resumed.dump();
  EXPECT_EQ(resumed["data"]["state"], "running");
  ASSERT_TRUE(WaitForState(id, "completed", 300s));
  ASSERT_TRUE(collector.WaitForCount(kRows, 60s));
  // Each row once: the resume continued where the pause left off.
  std::set<int> seen;
  for (const json& m : collector.Messages()) seen.insert(m["record"]["id"].get<int>());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(collector.Count(), static_cast<size_t>(kRows));
  json done = GetBackfill(id);
  EXPECT_EQ(done["rows_read"], kRows);
  EXPECT_EQ(done["rows_emitted"], kRows);
  EXPECT_FALSE(done["completed_at"].is_null());
  EXPECT_TRUE(done["last_error"].is_null());
  EXPECT_EQ(Api("POST", "/api/sinks/hook/backfills/" + std::to_string(id) + "/cancel").first, 409);
  EXPECT_EQ(Api("POST", "/api/sinks/hook/backfills/" + std::to_string(id) + "/resume").first, 409);

  // Cancel a running one.
  receiver.SetDelay(std::chrono::milliseconds(30));
  json second = StartBackfill({{"table", "items"}});
  const int64_t second_id = second["id"].get<int64_t>();
  auto [cancel_status, cancelled] =
      Api("POST", "/api/sinks/hook/backfills/" + std::to_string(second_id) + "/cancel");
  ASSERT_EQ(cancel_status, 200) << cancelled.dump();
  EXPECT_EQ(cancelled["data"]["state"], "cancelled");
  EXPECT_EQ(Api("POST", "/api/sinks/hook/backfills/" + std::to_string(second_id) + "/resume").first,
            409);
  EXPECT_EQ(GetBackfill(second_id)["state"], "cancelled");
}

TEST_F(BackfillTest, ApiErrors) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, note text, n int NOT NULL);"
      "CREATE TABLE nokey (id int);");
  testing::HttpReceiver receiver;
  MessageCollector collector(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  receiver.SetDelay(std::chrono::milliseconds(20));
  StartInProcess(receiver.url());
  auto post = [&](const json& body, const std::string& sink = "hook") {
    return Api("POST", "/api/sinks/" + sink + "/backfills", body.dump());
  };
  auto expect_error = [](const std::pair<long, json>& r, long status, const std::string& code,
                         const std::string& text) {
    EXPECT_EQ(r.first, status) << r.second.dump();
    EXPECT_EQ(r.second["error"]["code"], code) << r.second.dump();
    EXPECT_THAT(r.second["error"]["message"].get<std::string>(), HasSubstr(text));
  };
  expect_error(post({{"table", "items"}}, "nope"), 404, "not_found", "no sink named \"nope\"");
  expect_error(Api("GET", "/api/sinks/nope/backfills"), 404, "not_found", "nope");
  expect_error(Api("GET", "/api/sinks/hook/backfills/99"), 404, "not_found", "99");
  expect_error(post({{"table", "missing"}}), 400, "invalid_argument", "does not exist");
  expect_error(post({{"table", "nokey"}}), 400, "invalid_argument", "no primary key");
  expect_error(post({{"table", "items"}, {"sort_column", "note"}}), 400, "invalid_argument",
               "may be NULL");
  expect_error(post({{"table", "items"}, {"sort_column", "nope"}}), 400, "invalid_argument",
               "no column \"nope\"");
  expect_error(post({{"table", "items"}, {"sort_column", "n"}, {"start_position", "abc"}}), 400,
               "invalid_argument", "not a valid value");
  expect_error(post({{"table", "items"}, {"filter", "n >"}}), 400, "invalid_argument", "filter");
  expect_error(post(json::object()), 400, "invalid_argument", "table is required");
  // One backfill of a table per sink at a time.
  Sql("INSERT INTO items SELECT g, NULL, g FROM generate_series(1, 5000) g");
  json first = StartBackfill({{"table", "items"}});
  const int64_t id = first["id"].get<int64_t>();
  ASSERT_EQ(Api("POST", "/api/sinks/hook/backfills/" + std::to_string(id) + "/pause").first, 200);
  expect_error(post({{"table", "items"}}), 409, "conflict", "cancel it first");
}

TEST_F(BackfillTest, InitialBackfillRunsOnceAcrossRestarts) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);"
      "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1500) g;"
      "CREATE TABLE marks (id int PRIMARY KEY);");
  testing::HttpReceiver receiver;
  MessageCollector collector(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  const std::string extra = "    batch_size: 100\n    initial_backfill: [{table: public.items}]\n";
  StartInProcess(receiver.url(), extra);
  auto [status, list] = Api("GET", "/api/sinks/hook/backfills");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["initial"], true);
  const int64_t id = list["data"][0]["id"].get<int64_t>();
  ASSERT_TRUE(WaitForState(id, "completed", 120s));
  ASSERT_TRUE(collector.WaitForCount(1500, 60s));
  sluice_.Stop();

  StartInProcess(receiver.url(), extra);
  Sql("INSERT INTO marks VALUES (1)");
  ASSERT_TRUE(collector.WaitUntil(
      [](const std::vector<json>& ms) {
        return !ms.empty() && ms.back()["metadata"]["table_name"] == "marks";
      },
      60s));
  EXPECT_EQ(collector.Count(), 1501u) << "the initial backfill ran again";
  auto [again_status, again] = Api("GET", "/api/sinks/hook/backfills");
  ASSERT_EQ(again["data"].size(), 1u);
  EXPECT_EQ(again["data"][0]["state"], "completed");
}

TEST_F(BackfillTest, InitialBackfillOfAMissingTableIsAStartupError) {
  SinkSpec s;
  s.url = "http://127.0.0.1:9/hooks";
  s.extra = "    initial_backfill: [{table: public.nope}]\n";
  InProcessSluice sluice;
  Status st =
      sluice.Start(LoadYaml(ConfigYaml(dir_ + "/data", SharedCluster().Url(db_), db_, {s})));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("sink \"hook\": initial_backfill of public.nope"));
  EXPECT_THAT(st.message(), HasSubstr("does not exist"));
}

TEST_F(BackfillTest, CliStartsListsAndShowsBackfillsOfARunningDaemon) {
  Sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);"
      "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1200) g;");
  testing::HttpReceiver receiver;
  MessageCollector collector(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  const std::string config = WriteFile(dir_, "sluice.yaml", Yaml(receiver.url(), ""));
  StartInProcess(receiver.url());
  const std::string api = "http://127.0.0.1:" + std::to_string(port_);
  std::string out;
  ASSERT_EQ(
      RunSluice({"backfill", "start", "--api", api, "--sink", "hook", "--table", "public.items"},
                &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("backfill 1 started"));
  EXPECT_THAT(out, HasSubstr("public.items"));
  ASSERT_TRUE(WaitForState(1, "completed", 120s));
  // The address from the config's server.listen.
  ASSERT_EQ(RunSluice({"backfill", "list", "-c", config, "--sink", "hook"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("completed"));
  EXPECT_THAT(out, HasSubstr("1200"));
  ASSERT_EQ(RunSluice({"backfill", "show", "--api", api, "--sink", "hook", "--id", "1"}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("rows_emitted:    1200"));
  EXPECT_THAT(out, HasSubstr("progress:        100.0%"));
  ASSERT_EQ(
      RunSluice({"backfill", "show", "--json", "--api", api, "--sink", "hook", "--id", "1"}, &out),
      0);
  EXPECT_EQ(json::parse(out)["rows_read"], 1200);
  // API errors and an unreachable daemon are errors with a clear message.
  EXPECT_EQ(RunSluice({"backfill", "pause", "--api", api, "--sink", "hook", "--id", "1"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("HTTP 409 conflict"));
  EXPECT_EQ(RunSluice({"backfill", "show", "--api", api, "--sink", "nope", "--id", "1"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("no sink named \"nope\""));
  const std::string closed = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  EXPECT_EQ(RunSluice({"backfill", "list", "--api", closed, "--sink", "hook"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("cannot reach the Sluice API at " + closed));
  EXPECT_NE(RunSluice({"backfill", "start", "--api", api, "--sink", "hook"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("--table"));
  EXPECT_EQ(collector.Count(), 1200u);
}

// A cluster whose commits wait for a synchronous standby that never answers
// (synchronous_standby_names names a standby that does not exist), except
// where synchronous_commit is `local`, the default here. A transaction that
// sets synchronous_commit = on writes its commit record, is decoded and
// streamed to Sluice at once, and stays invisible to every snapshot until
// its wait is cancelled: the widest form of Postgres' gap between a commit
// in the WAL and its visibility.
class SyncStandbyBackfillTest : public BackfillTest {
 protected:
  void SetUp() override {
    BackfillTest::SetUp();
    testing::PgClusterOptions options;
    options.settings = {{"synchronous_standby_names", "'sluice_ghost'"},
                        {"synchronous_commit", "local"}};
    auto c = testing::PgCluster::Start(options);
    ASSERT_TRUE(c.ok()) << c.status().message();
    cluster_ = std::move(c).value();
    ASSERT_TRUE(cluster_->Exec("CREATE DATABASE sync").ok());
  }
  void TearDown() override {
    if (stalled_) {
      PQfinish(stalled_);
      stalled_ = nullptr;
    }
    BackfillTest::TearDown();
  }
  std::string Config(const std::string& url, const std::string& sink_extra) {
    SinkSpec s;
    s.url = url + "/hooks";
    s.extra = sink_extra;
    std::string y = ConfigYaml(dir_ + "/data", cluster_->Url("sync"), "sync", {s});
    const std::string any_port = "127.0.0.1:0";
    y.replace(y.find(any_port), any_port.size(), "127.0.0.1:" + std::to_string(port_));
    return WriteFile(dir_, "sluice.yaml", y);
  }
  void WaitForSlot() { WaitForDaemon(*cluster_, "sync"); }
  // Sends `sql` as a transaction that commits and then waits for the
  // standby; returns at once.
  void StallCommit(const std::string& sql) {
    stalled_ = PQconnectdb(cluster_->ConnInfo("sync").c_str());
    ASSERT_EQ(PQstatus(stalled_), CONNECTION_OK);
    ASSERT_EQ(PQsendQuery(stalled_, ("SET synchronous_commit = on; " + sql).c_str()), 1);
  }
  // Cancels the wait: the transaction, already committed, becomes visible.
  void ReleaseCommit() {
    ASSERT_TRUE(cluster_
                    ->Exec("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                           "WHERE wait_event = 'SyncRep'",
                           "sync")
                    .ok());
    while (PGresult* r = PQgetResult(stalled_)) PQclear(r);
  }
  std::string Version(int64_t id) {
    auto v =
        cluster_->QueryValue("SELECT version FROM rows WHERE id = " + std::to_string(id), "sync");
    return v.ok() && v->has_value() ? **v : "?";
  }

  std::unique_ptr<testing::PgCluster> cluster_;
  PGconn* stalled_ = nullptr;
};

TEST_F(SyncStandbyBackfillTest, ABackfillWaitsForACommitThatIsStreamedButNotYetVisible) {
  CreateRowsTable("sync", 500, *cluster_);
  testing::HttpReceiver receiver;
  ReplayingConsumer consumer(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  SluiceProcess sluice(Config(receiver.url(), ""), dir_ + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  WaitForSlot();
  auto log = [&] {
    std::ifstream in(dir_ + "/sluice.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };

  StallCommit("UPDATE rows SET version = 2, payload = 'stalled' WHERE id = 5");
  // The sink has the update while the table does not show it yet.
  ASSERT_TRUE(Eventually(
      [&] {
        auto rows = consumer.Existing();
        return rows.count(5) > 0 && rows.at(5).first == 2;
      },
      60s))
      << log();
  ASSERT_EQ(Version(5), "1");

  const json started = StartBackfill({{"table", "rows"}});
  ASSERT_TRUE(started.is_object());
  const int64_t id = started["id"].get<int64_t>();
  // A read of row 5 now would be version 1, older than what the sink has:
  // the backfill waits for the commit to become visible, and says so.
  ASSERT_TRUE(Eventually(
      [&] { return log().find("backfill waits for committed transactions") != std::string::npos; },
      60s))
      << log();
  EXPECT_EQ(GetBackfill(id)["rows_read"], 0);
  ReleaseCommit();
  EXPECT_EQ(Version(5), "2");

  ASSERT_TRUE(WaitForState(id, "completed", 120s)) << GetBackfill(id).dump() << log();
  EXPECT_TRUE(Eventually([&] { return ReplayMatchesTable(consumer, "sync", *cluster_); }, 60s));
  ExpectReplayMatchesTable(consumer, "sync", *cluster_);
  EXPECT_THAT(consumer.violations(), ::testing::IsEmpty());
  EXPECT_EQ(consumer.reads(), 500u);
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
}

TEST_F(SyncStandbyBackfillTest, APageDropsARowWhoseStreamedCommitItsSnapshotDoesNotSee) {
  const int64_t kRows = 40000;
  CreateRowsTable("sync", kRows, *cluster_);
  testing::HttpReceiver receiver;
  ReplayingConsumer consumer(receiver);
  ASSERT_TRUE(receiver.Start().ok());
  // A slow sink: pages are emitted at its pace, so the stall below comes
  // while early pages are being read and the last row's page much later.
  receiver.SetDelay(std::chrono::milliseconds(20));
  SluiceProcess sluice(
      Config(receiver.url(), "    batch_size: 200\n    max_queue_bytes: 1048576\n"),
      dir_ + "/sluice.log");
  ASSERT_TRUE(sluice.Start().ok());
  WaitForSlot();

  const json started = StartBackfill({{"table", "rows"}});
  ASSERT_TRUE(started.is_object());
  const int64_t id = started["id"].get<int64_t>();
  ASSERT_TRUE(Eventually([&] { return GetBackfill(id)["rows_read"].get<uint64_t>() > 0; }, 60s));
  const uint64_t read_at_stall = GetBackfill(id)["rows_read"].get<uint64_t>();
  StallCommit("UPDATE rows SET version = 2, payload = 'stalled' WHERE id = " +
              std::to_string(kRows));
  ASSERT_TRUE(Eventually(
      [&] {
        auto rows = consumer.Existing();
        return rows.count(kRows) > 0 && rows.at(kRows).first == 2;
      },
      120s));
  // The last row's page is read while the update it carries is invisible:
  // that page must drop it (the sink has the update), although the update
  // was streamed pages earlier.
  ASSERT_TRUE(WaitForState(id, "completed", 300s)) << GetBackfill(id).dump();
  EXPECT_EQ(Version(kRows), "1");
  ReleaseCommit();
  EXPECT_EQ(Version(kRows), "2");
  EXPECT_TRUE(Eventually([&] { return ReplayMatchesTable(consumer, "sync", *cluster_); }, 60s));
  ExpectReplayMatchesTable(consumer, "sync", *cluster_);
  EXPECT_THAT(consumer.violations(), ::testing::IsEmpty());
  EXPECT_EQ(consumer.reads(), static_cast<uint64_t>(kRows - 1));
  std::printf("stalled while rows_read=%llu of %lld\n",
              static_cast<unsigned long long>(read_at_stall), static_cast<long long>(kRows));
  sluice.Terminate();
  EXPECT_EQ(sluice.Wait(), 0);
}

}  // namespace
}  // namespace sluice::itest
