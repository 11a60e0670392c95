// StateStore in an SQLite file (the default: zero set-up). WAL journal with
// synchronous=FULL, so a checkpoint that returned OK survives a crash of the
// process or the machine.
//
// WAL checkpoints (copying the WAL into the database file, two fsyncs) run on
// the store's own thread and connection, not inside the commit that filled
// the WAL: a commit on the replication or API path never waits for them.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "state/state_store.h"

typedef struct sqlite3 sqlite3;

namespace sluice::state {

class SqliteStateStore : public StateStore {
 public:
  // Opens (creating if needed) the database at `path` and its schema.
  static Result<std::unique_ptr<SqliteStateStore>> Open(const std::string& path);
  ~SqliteStateStore() override;

  Status SaveCheckpoint(const std::string& slot_key, Lsn confirmed_lsn,
                        const std::vector<SinkCheckpoint>& sinks) override;
  Result<std::optional<Lsn>> LoadSlotCheckpoint(const std::string& slot_key) override;
  Result<std::optional<Position>> LoadSinkCheckpoint(const std::string& sink) override;
  Status AppendStreamMessages(const std::string& stream,
                              const std::vector<StreamMessage>& messages) override;
  Status DeleteStreamMessages(const std::string& stream,
                              const std::vector<uint64_t>& seqs) override;
  Status UpdateStreamDeliveries(const std::string& stream,
                                const std::vector<StreamMessage>& messages) override;
  Result<std::vector<StreamMessage>> LoadStreamIndex(const std::string& stream) override;
  Result<std::vector<std::pair<uint64_t, std::string>>> LoadStreamBodies(
      const std::string& stream, const std::vector<uint64_t>& seqs) override;

  Status InsertFailedMessages(const std::string& sink,
                              const std::vector<FailedMessage>& messages) override;
  Status UpdateFailedMessages(const std::string& sink,
                              const std::vector<FailedMessage>& messages) override;
  Status DeleteFailedMessages(const std::string& sink, const std::vector<uint64_t>& ids) override;
  Result<std::vector<FailedMessage>> LoadFailedMessages(const std::string& sink,
                                                        bool with_bodies) override;
  Result<std::optional<std::string>> LoadFailedMessageBody(const std::string& sink,
                                                           uint64_t id) override;

  // --- backfills ---
  Result<BackfillRecord> CreateBackfill(const BackfillRecord& record) override;
  Status UpdateBackfill(const BackfillRecord& record) override;
  Result<std::vector<BackfillRecord>> LoadBackfills(const std::string& sink) override;
  // --- end backfills ---

 private:
  SqliteStateStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql);
  Status Error(const std::string& what);
  // How a transaction's commit reaches the disk.
  enum class Sync : unsigned char {
    kFull,     // fsync at commit (synchronous=FULL)
    kOnCrash,  // survives a crash of the process at once, a power loss at the
               // next kFull commit, which syncs the whole WAL (synchronous=NORMAL)
  };
  // Runs `body` inside BEGIN IMMEDIATE .. COMMIT (rolled back on error).
  template <typename F>
  Status InTransaction(F&& body, Sync sync = Sync::kFull);
  // Puts the connection back to synchronous=FULL if a kOnCrash transaction
  // could not; fails (and nothing is committed) if it still cannot.
  Status EnsureSynchronousFull();

  std::mutex mu_;
  bool synchronous_full_ = true;  // the connection's current setting (under mu_)
  sqlite3* db_;
  std::string path_;
  // A second connection for reading pull-queue bodies: in WAL mode it reads
  // committed data while db_ writes, so a receive does not wait for an
  // append, a flush or a checkpoint's fsync.
  std::mutex reader_mu_;
  sqlite3* reader_ = nullptr;

  // WAL checkpoints: the writer's commit hook asks, wal_thread_ runs them
  // (PASSIVE: they never block a writer or a reader) on its own connection.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void WalLoop();
  sqlite3* wal_db_ = nullptr;
  std::mutex wal_mu_;
  std::condition_variable wal_cv_;
  bool wal_wanted_ = false;
  bool wal_stop_ = false;
  std::thread wal_thread_;
};

}  // namespace sluice::state
