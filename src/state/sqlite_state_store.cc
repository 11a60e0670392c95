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

template <typename F>
Status SqliteStateStore::InTransaction(F&& body) {
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
}

Status SqliteStateStore::AppendStreamMessages(const std::string& stream,
                                              const std::vector<StreamMessage>& messages) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> Status {
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
      sqlite3_bind_text(st.s, 6, m.json.data(), static_cast<int>(m.json.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(st.s, 7, m.deliver_count);
      sqlite3_bind_int64(st.s, 8, m.visible_at_ms);
      sqlite3_bind_text(st.s, 9, m.ack_token.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st.s) != SQLITE_DONE) return Error("append stream message");
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::DeleteStreamMessages(const std::string& stream,
                                              const std::vector<uint64_t>& seqs) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> Status {
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
  });
}

Status SqliteStateStore::UpdateStreamDeliveries(const std::string& stream,
                                                const std::vector<StreamMessage>& messages) {
  std::lock_guard lock(mu_);
  return InTransaction([&]() -> Status {
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
  });
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
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT json FROM stream_messages WHERE stream = ? AND seq = ?", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(seqs.size());
  for (uint64_t seq : seqs) {
    sqlite3_reset(st.s);
    sqlite3_bind_text(st.s, 1, stream.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(seq));
    int rc = sqlite3_step(st.s);
    if (rc == SQLITE_ROW) {
      out.emplace_back(seq, std::string(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0)),
                                        static_cast<size_t>(sqlite3_column_bytes(st.s, 0))));
    } else if (rc != SQLITE_DONE) {
      return Error("load stream body");
    }
  }
  return out;
}

}  // namespace sluice::state
