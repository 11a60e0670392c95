// BackfillManager: the backfills of one database. Owns their records (live
// progress in memory, durable progress in the state store), runs one worker
// thread per running backfill, and persists each backfill's cursor once the
// sink has acknowledged every row emitted up to it.
//
// A worker, for page k: writes the low watermark, waits until it has passed
// through the stream, reads the page (keyset, adaptive size), offers it to the
// BackfillCoordinator, writes the high watermark, reads page k+1 while the
// coordinator emits page k, and waits for the coordinator's outcome. Page k+1
// (read after k's high watermark committed, so its window starts there) is
// then offered without a low watermark of its own. One page per backfill is
// offered at a time; a page read ahead of one that must be read again is
// dropped.
//
// Durability: after the coordinator emits page k at position P (its last
// read), the cursor after page k is written to the state store only once the
// sink's acknowledged position reaches P. After a crash a backfill resumes
// from that cursor: pages after it are read again (at-least-once; reads carry
// a stable idempotency key), earlier ones are not.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backfill/control.h"
#include "backfill/coordinator.h"
#include "common/lsn.h"
#include "common/status.h"
#include "config/config.h"
#include "state/state_store.h"

namespace sluice::backfill {

struct ManagerOptions {
  std::string conninfo;  // the database's (a normal connection per worker)
  std::string display;   // host:port/db for errors
  // The database's sinks in the Router's order (the index is the sink index
  // of OnBackfillChange and of `acked_through`).
  std::vector<const config::SinkConfig*> sinks;
  state::StateStore* store = nullptr;
  BackfillCoordinator* coordinator = nullptr;
  // The sink's position at or below which every message is acknowledged
  // (pipeline::AckTracker::AckedThrough).
  std::function<Position(size_t sink)> acked_through;
  // Compiles a backfill's SQL filter; null when filters are not available.
  std::function<Result<RowPredicate>(const std::string& sql)> compile_filter;
  std::chrono::milliseconds persist_interval{200};
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
  size_t initial_page_size = 1000;
  size_t min_page_size = 100;
  size_t max_page_size = 50000;
};

class BackfillManager : public BackfillControl {
 public:
  // Loads this database's backfills from the store (those of its sinks).
  static Result<std::unique_ptr<BackfillManager>> Create(ManagerOptions options);
  ~BackfillManager() override;

  // Creates the sinks' initial_backfill entries that were never created
  // (once per sink and table, ever). Checks each against the catalog; a
  // problem (no such table, bad sort column) is an error naming the sink.
  Status CreateInitialBackfills();
  // Starts the workers of running backfills and the background threads.
  void Start();
  // Stops workers and threads (an offered page is taken back; what was not
  // acknowledged yet is read again next time). Idempotent.
  void Stop();
  // Persists the cursors the sinks have acknowledged by now; for the end of
  // an orderly shutdown, after the sinks drained.
  void Flush();

  bool HasSink(const std::string& sink) const;

  ControlOutcome List(const std::string& sink) override;
  ControlOutcome Get(const std::string& sink, int64_t id) override;
  void Start(BackfillRequest request, ControlDone done) override;
  void Pause(const std::string& sink, int64_t id, ControlDone done) override;
  void Resume(const std::string& sink, int64_t id, ControlDone done) override;
  void Cancel(const std::string& sink, int64_t id, ControlDone done) override;

  // Totals over this run and earlier ones, per sink (for metrics).
  uint64_t RowsRead(const std::string& sink) const;
  uint64_t RowsEmitted(const std::string& sink) const;

 private:
  struct PendingCursor {
    std::string cursor;
    uint64_t rows_read = 0;
    uint64_t rows_emitted = 0;
    std::optional<Position> required;  // acknowledged position needed
  };
  struct Entry {
    state::BackfillRecord live;     // what the API shows
    state::BackfillRecord durable;  // what the store holds
    size_t sink = 0;
    std::deque<PendingCursor> pending;
    std::optional<Position> last_required;
    bool finished = false;  // the worker read past the last row
    std::shared_ptr<std::atomic<bool>> stop;
    std::thread worker;
  };

  explicit BackfillManager(ManagerOptions options);
  std::optional<size_t> SinkIndex(const std::string& sink) const;
  // Checks a request against the catalog and creates its record; the
  // outcome holds the record.
  ControlOutcome Create(const BackfillRequest& request, bool initial);
  void Post(std::function<void()> task);
  void ControlLoop();
  void PersistLoop();
  void PersistAcknowledged();
  Status Write(Entry& e);      // e.durable to the store; mu_ held
  void StartWorker(Entry& e);  // mu_ held
  // Signals the worker to stop and waits for it; mu_ not held.
  void StopWorker(int64_t id);
  void RunWorker(Entry* e, std::shared_ptr<std::atomic<bool>> stop);
  Status RunPages(Entry* e, const std::atomic<bool>& stop);
  void OnPage(Entry* e, std::string cursor, uint64_t read, const PageResult& result);
  ControlOutcome ChangeState(const std::string& sink, int64_t id,
                             const std::function<std::optional<ControlOutcome>(Entry&)>& change);

  ManagerOptions options_;
  std::atomic<uint64_t> next_page_{1};

  mutable std::mutex mu_;
  std::condition_variable cv_;  // worker back-off and stop
  std::map<int64_t, std::unique_ptr<Entry>> entries_;
  bool stopping_ = false;

  std::mutex control_mu_;
  std::condition_variable control_cv_;
  std::deque<std::function<void()>> control_tasks_;
  bool control_stop_ = false;
  bool control_running_ = false;
  std::thread control_thread_;
  std::thread persist_thread_;
  bool started_ = false;
};

}  // namespace sluice::backfill
