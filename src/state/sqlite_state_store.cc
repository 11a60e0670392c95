#include "state/sqlite_state_store.h"

#include <sqlite3.h>

namespace sluice::state {
namespace {

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS slot_checkpoints (
  slot_key TEXT PRIMARY KEY,
  confirmed_lsn INTEGER NOT NULL,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS sink_checkpoints (
  sink TEXT PRIMARY KEY,
  commit_lsn INTEGER NOT NULL,
  commit_idx INTEGER NOT NULL,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
)sql";

}  // namespace

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Fatal("cannot open state store " + path + ": " + message +
                         ". Check that data_dir exists and is writable");
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteStateStore> store(new SqliteStateStore(db, path));
  SLUICE_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  SLUICE_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  SLUICE_RETURN_IF_ERROR(store->Exec(kSchema));
  return store;
}

SqliteStateStore::~SqliteStateStore() { sqlite3_close(db_); }

Status SqliteStateStore::Error(const std::string& what) {
  return Status::Retryable("state store " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status SqliteStateStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Fatal("state store " + path_ + ": " + message);
  }
  return Status::Ok();
}

Status SqliteStateStore::SaveCheckpoint(const std::string& slot_key, Lsn confirmed_lsn,
                                        const std::vector<SinkCheckpoint>& sinks) {
  std::lock_guard lock(mu_);
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("begin");
  }
  auto rollback = [&](const std::string& what) {
    Status st = Error(what);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  {
    Stmt st;
    if (sqlite3_prepare_v2(
            db_,
            "INSERT INTO slot_checkpoints(slot_key, confirmed_lsn) VALUES(?, ?) "
            "ON CONFLICT(slot_key) DO UPDATE SET confirmed_lsn = excluded.confirmed_lsn, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            -1, &st.s, nullptr) != SQLITE_OK) {
      return rollback("prepare");
    }
    sqlite3_bind_text(st.s, 1, slot_key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(confirmed_lsn));
    if (sqlite3_step(st.s) != SQLITE_DONE) return rollback("save slot checkpoint");
  }
  {
    Stmt st;
    if (sqlite3_prepare_v2(
            db_,
            "INSERT INTO sink_checkpoints(sink, commit_lsn, commit_idx) VALUES(?, ?, ?) "
            "ON CONFLICT(sink) DO UPDATE SET commit_lsn = excluded.commit_lsn, "
            "commit_idx = excluded.commit_idx, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            -1, &st.s, nullptr) != SQLITE_OK) {
      return rollback("prepare");
    }
    for (const SinkCheckpoint& c : sinks) {
      sqlite3_reset(st.s);
      sqlite3_bind_text(st.s, 1, c.sink.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(c.acked_through.commit_lsn));
      sqlite3_bind_int64(st.s, 3, static_cast<sqlite3_int64>(c.acked_through.commit_idx));
      if (sqlite3_step(st.s) != SQLITE_DONE) return rollback("save sink checkpoint");
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return rollback("commit");
  }
  return Status::Ok();
}

Result<std::optional<Lsn>> SqliteStateStore::LoadSlotCheckpoint(const std::string& slot_key) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT confirmed_lsn FROM slot_checkpoints WHERE slot_key = ?", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, slot_key.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) {
    return std::optional<Lsn>(static_cast<Lsn>(sqlite3_column_int64(st.s, 0)));
  }
  if (rc != SQLITE_DONE) return Error("load slot checkpoint");
  return std::optional<Lsn>();
}

Result<std::optional<Position>> SqliteStateStore::LoadSinkCheckpoint(const std::string& sink) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT commit_lsn, commit_idx FROM sink_checkpoints WHERE sink = ?",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, sink.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) {
    return std::optional<Position>(Position{static_cast<Lsn>(sqlite3_column_int64(st.s, 0)),
                                            static_cast<uint32_t>(sqlite3_column_int64(st.s, 1))});
  }
  if (rc != SQLITE_DONE) return Error("load sink checkpoint");
  return std::optional<Position>();
}

}  // namespace sluice::state
