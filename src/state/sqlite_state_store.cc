#include "state/sqlite_state_store.h"

#include <pthread.h>
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
CREATE TABLE IF NOT EXISTS stream_messages (
  stream TEXT NOT NULL,
  seq INTEGER NOT NULL,
  group_key BLOB NOT NULL,
  commit_lsn INTEGER NOT NULL,
  commit_idx INTEGER NOT NULL,
  json TEXT NOT NULL,
  deliver_count INTEGER NOT NULL DEFAULT 0,
  visible_at_ms INTEGER NOT NULL DEFAULT 0,
  ack_token TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sink_checkpoints (
  sink TEXT PRIMARY KEY,
  commit_lsn INTEGER NOT NULL,
  commit_idx INTEGER NOT NULL,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
)sql";

constexpr const char* kFailedMessagesSchema = R"sql(
CREATE TABLE IF NOT EXISTS failed_messages (
  sink TEXT NOT NULL,
  id INTEGER NOT NULL,
  group_key BLOB NOT NULL,
  commit_lsn INTEGER NOT NULL,
  commit_idx INTEGER NOT NULL,
  action INTEGER NOT NULL,
  commit_time_us INTEGER NOT NULL,
  table_schema TEXT NOT NULL,
  table_name TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  json TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  first_failed_at_ms INTEGER NOT NULL,
  last_failed_at_ms INTEGER NOT NULL,
  next_retry_at_ms INTEGER NOT NULL,
  hold_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (sink, id)
) WITHOUT ROWID;
)sql";

std::string ColumnText(sqlite3_stmt* st, int col) {
  const unsigned char* text = sqlite3_column_text(st, col);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(st, col)));
}

}  // namespace

// Backfill tables (defined with the backfill methods at the end).
const char* BackfillSchema();

namespace {
// Opens one connection to the state store file; `purpose` names it in the
// error.
Result<sqlite3*> OpenConnection(const std::string& path, int flags, const std::string& purpose) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Fatal("cannot open state store " + path + purpose + ": " + message +
                         ". Check that data_dir exists and is writable");
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}
}  // namespace

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(sqlite3 * db,
                          OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, ""));
  std::unique_ptr<SqliteStateStore> store(new SqliteStateStore(db, path));
  SLUICE_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  SLUICE_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  SLUICE_RETURN_IF_ERROR(store->Exec(kSchema));
  SLUICE_RETURN_IF_ERROR(store->Exec(BackfillSchema()));
  SLUICE_RETURN_IF_ERROR(store->Exec(kFailedMessagesSchema));
  SLUICE_ASSIGN_OR_RETURN(store->reader_,
                          OpenConnection(path, SQLITE_OPEN_READWRITE, " for reading"));
  sqlite3_exec(store->reader_, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  SLUICE_ASSIGN_OR_RETURN(store->wal_db_,
                          OpenConnection(path, SQLITE_OPEN_READWRITE, " for checkpoints"));
  // A connection that has read nothing has not opened the WAL and would
  // checkpoint nothing.
  sqlite3_exec(store->wal_db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  // Replaces SQLite's automatic checkpoint, which runs inside the commit.
  sqlite3_wal_hook(store->db_, &SqliteStateStore::OnWalCommit, store.get());
  store->wal_thread_ = std::thread([s = store.get()] { s->WalLoop(); });
  return store;
}

SqliteStateStore::~SqliteStateStore() {
  {
    std::lock_guard lock(wal_mu_);
    wal_stop_ = true;
  }
  wal_cv_.notify_all();
  if (wal_thread_.joinable()) wal_thread_.join();
  sqlite3_close(wal_db_);
  sqlite3_close(reader_);
  sqlite3_close(db_);
}

namespace {
// Pages in the WAL from which a checkpoint is due (SQLite's default), and
// from which the committing connection runs one itself: only if the thread
// cannot keep up.
constexpr int kWalCheckpointPages = 1000;
constexpr int kWalInlinePages = 64000;  // 250 MB of 4 KB pages
}  // namespace

int SqliteStateStore::OnWalCommit(void* self, sqlite3* db, const char*, int pages) {
  auto* store = static_cast<SqliteStateStore*>(self);
  if (pages >= kWalInlinePages) {
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kWalCheckpointPages) {
    {
      std::lock_guard lock(store->wal_mu_);
      if (store->wal_wanted_) return SQLITE_OK;
      store->wal_wanted_ = true;
    }
    store->wal_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStateStore::WalLoop() {
  pthread_setname_np(pthread_self(), "sluice-wal");
  std::unique_lock lock(wal_mu_);
  while (true) {
    wal_cv_.wait(lock, [&] { return wal_stop_ || wal_wanted_; });
    if (wal_stop_) return;
    wal_wanted_ = false;
    lock.unlock();
    // PASSIVE copies what no reader still needs; frames committed meanwhile
    // wait for the next round. A failure (busy) is retried at the next ask.
    sqlite3_wal_checkpoint_v2(wal_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

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
  // A checkpoint is what makes earlier synchronous=NORMAL commits durable.
  SLUICE_RETURN_IF_ERROR(EnsureSynchronousFull());
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

Status SqliteStateStore::EnsureSynchronousFull() {
  if (synchronous_full_) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  synchronous_full_ = true;
  return Status::Ok();
}

template <typename F>
Status SqliteStateStore::InTransaction(F&& body, Sync sync) {
  if (sync == Sync::kFull) {
    SLUICE_RETURN_IF_ERROR(EnsureSynchronousFull());
  } else {
    SLUICE_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
    synchronous_full_ = false;
  }
  auto run = [&]() -> Status {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error("begin");
    }
    Status st = body();
    if (!st.ok()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Status err = Error("commit");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return err;
    }
    return Status::Ok();
  };
  Status st = run();
  // Whatever the outcome, the transaction is settled: a failure to restore
  // FULL is retried (and fails) by the next kFull write, never reported as
  // a failure of this one.
  if (sync == Sync::kOnCrash) (void)EnsureSynchronousFull();
  return st;
}

Status SqliteStateStore::AppendStreamMessages(const std::string& stream,
                                              const std::vector<StreamMessage>& messages) {
  std::lock_guard lock(mu_);
  return InTransaction(
      [&]() -> Status {
        Stmt st;
        if (sqlite3_prepare_v2(db_,
                               "INSERT INTO stream_messages(stream, seq, group_key, commit_lsn, "
                               "commit_idx, json, deliver_count, visible_at_ms, ack_token) "
                               "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               -1, &st.s, nullptr) != SQLITE_OK) {
          return Error("prepare");
        }
        for (const StreamMessage& m : messages) {
          sqlite3_reset(st.s);
          sqlite3_bind_text(st.s, 1, stream.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(m.seq));
          sqlite3_bind_blob(st.s, 3, m.group_key.data(), static_cast<int>(m.group_key.size()),
                            SQLITE_TRANSIENT);
          sqlite3_bind_int64(st.s, 4, static_cast<sqlite3_int64>(m.position.commit_lsn));
          sqlite3_bind_int64(st.s, 5, m.position.commit_idx);
          sqlite3_bind_text(st.s, 6, m.json.data(), static_cast<int>(m.json.size()),
                            SQLITE_TRANSIENT);
          sqlite3_bind_int64(st.s, 7, m.deliver_count);
          sqlite3_bind_int64(st.s, 8, m.visible_at_ms);
          sqlite3_bind_text(st.s, 9, m.ack_token.c_str(), -1, SQLITE_TRANSIENT);
          if (sqlite3_step(st.s) != SQLITE_DONE) return Error("append stream message");
        }
        return Status::Ok();
      },
      Sync::kOnCrash);
}

Status SqliteStateStore::DeleteStreamMessages(const std::string& stream,
                                              const std::vector<uint64_t>& seqs) {
  std::lock_guard lock(mu_);
  return InTransaction(
      [&]() -> Status {
        Stmt st;
        if (sqlite3_prepare_v2(db_, "DELETE FROM stream_messages WHERE stream = ? AND seq = ?", -1,
                               &st.s, nullptr) != SQLITE_OK) {
          return Error("prepare");
        }
        for (uint64_t seq : seqs) {
          sqlite3_reset(st.s);
          sqlite3_bind_text(st.s, 1, stream.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(seq));
          if (sqlite3_step(st.s) != SQLITE_DONE) return Error("delete stream message");
        }
        return Status::Ok();
      },
      Sync::kOnCrash);
}

Status SqliteStateStore::UpdateStreamDeliveries(const std::string& stream,
                                                const std::vector<StreamMessage>& messages) {
  std::lock_guard lock(mu_);
  return InTransaction(
      [&]() -> Status {
        Stmt st;
        if (sqlite3_prepare_v2(db_,
                               "UPDATE stream_messages SET deliver_count = ?, visible_at_ms = ?, "
                               "ack_token = ? WHERE stream = ? AND seq = ?",
                               -1, &st.s, nullptr) != SQLITE_OK) {
          return Error("prepare");
        }
        for (const StreamMessage& m : messages) {
          sqlite3_reset(st.s);
          sqlite3_bind_int64(st.s, 1, m.deliver_count);
          sqlite3_bind_int64(st.s, 2, m.visible_at_ms);
          sqlite3_bind_text(st.s, 3, m.ack_token.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_text(st.s, 4, stream.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64(st.s, 5, static_cast<sqlite3_int64>(m.seq));
          if (sqlite3_step(st.s) != SQLITE_DONE) return Error("update stream delivery");
        }
        return Status::Ok();
      },
      Sync::kOnCrash);
}

Result<std::vector<StreamMessage>> SqliteStateStore::LoadStreamIndex(const std::string& stream) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT seq, group_key, commit_lsn, commit_idx, deliver_count, "
                         "visible_at_ms, ack_token FROM stream_messages WHERE stream = ? "
                         "ORDER BY seq",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, stream.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<StreamMessage> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    StreamMessage m;
    m.seq = static_cast<uint64_t>(sqlite3_column_int64(st.s, 0));
    m.group_key.assign(static_cast<const char*>(sqlite3_column_blob(st.s, 1)),
                       static_cast<size_t>(sqlite3_column_bytes(st.s, 1)));
    m.position.commit_lsn = static_cast<Lsn>(sqlite3_column_int64(st.s, 2));
    m.position.commit_idx = static_cast<uint32_t>(sqlite3_column_int64(st.s, 3));
    m.deliver_count = static_cast<uint32_t>(sqlite3_column_int64(st.s, 4));
    m.visible_at_ms = sqlite3_column_int64(st.s, 5);
    const unsigned char* token = sqlite3_column_text(st.s, 6);
    m.ack_token = token ? reinterpret_cast<const char*>(token) : "";
    out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return Error("load stream index");
  return out;
}

Result<std::vector<std::pair<uint64_t, std::string>>> SqliteStateStore::LoadStreamBodies(
    const std::string& stream, const std::vector<uint64_t>& seqs) {
  std::lock_guard lock(reader_mu_);
  auto error = [&](const std::string& what) {
    return Status::Retryable("state store " + path_ + ": " + what + ": " + sqlite3_errmsg(reader_));
  };
  Stmt st;
  if (sqlite3_prepare_v2(reader_, "SELECT json FROM stream_messages WHERE stream = ? AND seq = ?",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return error("prepare");
  }
  // One read transaction: one snapshot and one lock for the whole batch.
  if (sqlite3_exec(reader_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error("begin");
  }
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(seqs.size());
  int rc = SQLITE_DONE;
  for (uint64_t seq : seqs) {
    sqlite3_reset(st.s);
    sqlite3_bind_text(st.s, 1, stream.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(seq));
    rc = sqlite3_step(st.s);
    if (rc == SQLITE_ROW) {
      out.emplace_back(seq, std::string(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0)),
                                        static_cast<size_t>(sqlite3_column_bytes(st.s, 0))));
    } else if (rc != SQLITE_DONE) {
      break;
    }
  }
  Status failed = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok() : error("load stream body");
  sqlite3_reset(st.s);
  sqlite3_exec(reader_, "COMMIT", nullptr, nullptr, nullptr);
  if (!failed.ok()) return failed;
  return out;
}

// --- failed messages ---

Status SqliteStateStore::InsertFailedMessages(const std::string& sink,
                                              const std::vector<FailedMessage>& messages) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> Status {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO failed_messages(sink, id, group_key, "
                           "commit_lsn, commit_idx, action, commit_time_us, table_schema, "
                           "table_name, idempotency_key, json, attempts, last_error, "
                           "first_failed_at_ms, last_failed_at_ms, next_retry_at_ms, hold_error) "
                           "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st.s, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    for (const FailedMessage& m : messages) {
      sqlite3_reset(st.s);
      sqlite3_bind_text(st.s, 1, sink.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(m.id));
      sqlite3_bind_blob(st.s, 3, m.group_key.data(), static_cast<int>(m.group_key.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 4, static_cast<sqlite3_int64>(m.position.commit_lsn));
      sqlite3_bind_int64(st.s, 5, m.position.commit_idx);
      sqlite3_bind_int64(st.s, 6, m.action);
      sqlite3_bind_int64(st.s, 7, m.commit_time_us);
      sqlite3_bind_text(st.s, 8, m.table_schema.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 9, m.table_name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 10, m.idempotency_key.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 11, m.json.data(), static_cast<int>(m.json.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 12, m.attempts);
      sqlite3_bind_text(st.s, 13, m.last_error.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 14, m.first_failed_at_ms);
      sqlite3_bind_int64(st.s, 15, m.last_failed_at_ms);
      sqlite3_bind_int64(st.s, 16, m.next_retry_at_ms);
      sqlite3_bind_text(st.s, 17, m.hold_error.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st.s) != SQLITE_DONE) return Error("insert failed message");
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::UpdateFailedMessages(const std::string& sink,
                                              const std::vector<FailedMessage>& messages) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> Status {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "UPDATE failed_messages SET attempts = ?, last_error = ?, "
                           "last_failed_at_ms = ?, next_retry_at_ms = ?, hold_error = ? "
                           "WHERE sink = ? AND id = ?",
                           -1, &st.s, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    for (const FailedMessage& m : messages) {
      sqlite3_reset(st.s);
      sqlite3_bind_int64(st.s, 1, m.attempts);
      sqlite3_bind_text(st.s, 2, m.last_error.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 3, m.last_failed_at_ms);
      sqlite3_bind_int64(st.s, 4, m.next_retry_at_ms);
      sqlite3_bind_text(st.s, 5, m.hold_error.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 6, sink.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 7, static_cast<sqlite3_int64>(m.id));
      if (sqlite3_step(st.s) != SQLITE_DONE) return Error("update failed message");
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::DeleteFailedMessages(const std::string& sink,
                                              const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> Status {
    Stmt st;
    if (sqlite3_prepare_v2(db_, "DELETE FROM failed_messages WHERE sink = ? AND id = ?", -1, &st.s,
                           nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    for (uint64_t id : ids) {
      sqlite3_reset(st.s);
      sqlite3_bind_text(st.s, 1, sink.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(id));
      if (sqlite3_step(st.s) != SQLITE_DONE) return Error("delete failed message");
    }
    return Status::Ok();
  });
}

Result<std::vector<FailedMessage>> SqliteStateStore::LoadFailedMessages(const std::string& sink,
                                                                        bool with_bodies) {
  std::lock_guard lock(mu_);
  Stmt st;
  const std::string sql = std::string("SELECT id, group_key, commit_lsn, commit_idx, action, ") +
                          "commit_time_us, table_schema, table_name, idempotency_key, " +
                          (with_bodies ? "json" : "''") +
                          ", attempts, last_error, first_failed_at_ms, last_failed_at_ms, "
                          "next_retry_at_ms, hold_error FROM failed_messages WHERE sink = ? "
                          "ORDER BY id";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, sink.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<FailedMessage> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    FailedMessage m;
    m.id = static_cast<uint64_t>(sqlite3_column_int64(st.s, 0));
    m.group_key.assign(static_cast<const char*>(sqlite3_column_blob(st.s, 1)),
                       static_cast<size_t>(sqlite3_column_bytes(st.s, 1)));
    m.position.commit_lsn = static_cast<Lsn>(sqlite3_column_int64(st.s, 2));
    m.position.commit_idx = static_cast<uint32_t>(sqlite3_column_int64(st.s, 3));
    m.action = static_cast<unsigned char>(sqlite3_column_int64(st.s, 4));
    m.commit_time_us = sqlite3_column_int64(st.s, 5);
    m.table_schema = ColumnText(st.s, 6);
    m.table_name = ColumnText(st.s, 7);
    m.idempotency_key = ColumnText(st.s, 8);
    m.json = ColumnText(st.s, 9);
    m.attempts = static_cast<uint32_t>(sqlite3_column_int64(st.s, 10));
    m.last_error = ColumnText(st.s, 11);
    m.first_failed_at_ms = sqlite3_column_int64(st.s, 12);
    m.last_failed_at_ms = sqlite3_column_int64(st.s, 13);
    m.next_retry_at_ms = sqlite3_column_int64(st.s, 14);
    m.hold_error = ColumnText(st.s, 15);
    out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return Error("load failed messages");
  return out;
}

Result<std::optional<std::string>> SqliteStateStore::LoadFailedMessageBody(const std::string& sink,
                                                                           uint64_t id) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT json FROM failed_messages WHERE sink = ? AND id = ?", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, sink.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(id));
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(ColumnText(st.s, 0));
  if (rc != SQLITE_DONE) return Error("load failed message");
  return std::optional<std::string>();
}

// --- end failed messages ---

// --- backfills ---

const char* BackfillSchema() {
  return R"sql(
CREATE TABLE IF NOT EXISTS backfills (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sink TEXT NOT NULL,
  table_schema TEXT NOT NULL,
  table_name TEXT NOT NULL,
  sort_column TEXT NOT NULL DEFAULT '',
  start_position TEXT,
  filter TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  cursor TEXT,
  rows_read INTEGER NOT NULL DEFAULT 0,
  rows_emitted INTEGER NOT NULL DEFAULT 0,
  estimated_total INTEGER NOT NULL DEFAULT -1,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  completed_at_ms INTEGER,
  last_error TEXT NOT NULL DEFAULT '',
  initial INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS backfills_by_sink ON backfills(sink, id);
)sql";
}

namespace {

void BindOptionalText(sqlite3_stmt* st, int col, const std::optional<std::string>& value) {
  if (value) {
    sqlite3_bind_text(st, col, value->data(), static_cast<int>(value->size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_null(st, col);
  }
}

std::optional<std::string> OptionalText(sqlite3_stmt* st, int col) {
  if (sqlite3_column_type(st, col) == SQLITE_NULL) return std::nullopt;
  const unsigned char* text = sqlite3_column_text(st, col);
  return std::string(text ? reinterpret_cast<const char*>(text) : "",
                     static_cast<size_t>(sqlite3_column_bytes(st, col)));
}

std::string Text(sqlite3_stmt* st, int col) { return OptionalText(st, col).value_or(""); }

}  // namespace

Result<BackfillRecord> SqliteStateStore::CreateBackfill(const BackfillRecord& record) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO backfills(sink, table_schema, table_name, sort_column, "
                         "start_position, filter, state, cursor, rows_read, rows_emitted, "
                         "estimated_total, created_at_ms, updated_at_ms, completed_at_ms, "
                         "last_error, initial) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                         "?, ?)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, record.sink.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, record.table_schema.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, record.table_name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 4, record.sort_column.c_str(), -1, SQLITE_TRANSIENT);
  BindOptionalText(st.s, 5, record.start_position);
  sqlite3_bind_text(st.s, 6, record.filter.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 7, BackfillStateName(record.state), -1, SQLITE_STATIC);
  BindOptionalText(st.s, 8, record.cursor);
  sqlite3_bind_int64(st.s, 9, static_cast<sqlite3_int64>(record.rows_read));
  sqlite3_bind_int64(st.s, 10, static_cast<sqlite3_int64>(record.rows_emitted));
  sqlite3_bind_int64(st.s, 11, record.estimated_total);
  sqlite3_bind_int64(st.s, 12, record.created_at_ms);
  sqlite3_bind_int64(st.s, 13, record.updated_at_ms);
  if (record.completed_at_ms) {
    sqlite3_bind_int64(st.s, 14, *record.completed_at_ms);
  } else {
    sqlite3_bind_null(st.s, 14);
  }
  sqlite3_bind_text(st.s, 15, record.last_error.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st.s, 16, record.initial ? 1 : 0);
  if (sqlite3_step(st.s) != SQLITE_DONE) return Error("create backfill");
  BackfillRecord out = record;
  out.id = sqlite3_last_insert_rowid(db_);
  return out;
}

Status SqliteStateStore::UpdateBackfill(const BackfillRecord& record) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "UPDATE backfills SET state = ?, cursor = ?, rows_read = ?, "
                         "rows_emitted = ?, estimated_total = ?, updated_at_ms = ?, "
                         "completed_at_ms = ?, last_error = ? WHERE id = ?",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, BackfillStateName(record.state), -1, SQLITE_STATIC);
  BindOptionalText(st.s, 2, record.cursor);
  sqlite3_bind_int64(st.s, 3, static_cast<sqlite3_int64>(record.rows_read));
  sqlite3_bind_int64(st.s, 4, static_cast<sqlite3_int64>(record.rows_emitted));
  sqlite3_bind_int64(st.s, 5, record.estimated_total);
  sqlite3_bind_int64(st.s, 6, record.updated_at_ms);
  if (record.completed_at_ms) {
    sqlite3_bind_int64(st.s, 7, *record.completed_at_ms);
  } else {
    sqlite3_bind_null(st.s, 7);
  }
  sqlite3_bind_text(st.s, 8, record.last_error.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 9, record.id);
  if (sqlite3_step(st.s) != SQLITE_DONE) return Error("update backfill");
  if (sqlite3_changes(db_) == 0) {
    return Status::Permanent("state store " + path_ + ": no backfill with id " +
                             std::to_string(record.id));
  }
  return Status::Ok();
}

Result<std::vector<BackfillRecord>> SqliteStateStore::LoadBackfills(const std::string& sink) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, sink, table_schema, table_name, sort_column, start_position, "
                         "filter, state, cursor, rows_read, rows_emitted, estimated_total, "
                         "created_at_ms, updated_at_ms, completed_at_ms, last_error, initial "
                         "FROM backfills WHERE ? = '' OR sink = ? ORDER BY id",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  sqlite3_bind_text(st.s, 1, sink.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, sink.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<BackfillRecord> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    BackfillRecord r;
    r.id = sqlite3_column_int64(st.s, 0);
    r.sink = Text(st.s, 1);
    r.table_schema = Text(st.s, 2);
    r.table_name = Text(st.s, 3);
    r.sort_column = Text(st.s, 4);
    r.start_position = OptionalText(st.s, 5);
    r.filter = Text(st.s, 6);
    const std::string state = Text(st.s, 7);
    auto parsed = ParseBackfillState(state);
    if (!parsed) {
      return Status::Permanent("state store " + path_ + ": backfill " + std::to_string(r.id) +
                               " has an unknown state \"" + state + "\"");
    }
    r.state = *parsed;
    r.cursor = OptionalText(st.s, 8);
    r.rows_read = static_cast<uint64_t>(sqlite3_column_int64(st.s, 9));
    r.rows_emitted = static_cast<uint64_t>(sqlite3_column_int64(st.s, 10));
    r.estimated_total = sqlite3_column_int64(st.s, 11);
    r.created_at_ms = sqlite3_column_int64(st.s, 12);
    r.updated_at_ms = sqlite3_column_int64(st.s, 13);
    if (sqlite3_column_type(st.s, 14) != SQLITE_NULL) {
      r.completed_at_ms = sqlite3_column_int64(st.s, 14);
    }
    r.last_error = Text(st.s, 15);
    r.initial = sqlite3_column_int(st.s, 16) != 0;
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error("load backfills");
  return out;
}

// --- end backfills ---

}  // namespace sluice::state
