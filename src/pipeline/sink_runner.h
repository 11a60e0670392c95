// Drives one sink: takes batches from its SinkQueue (respecting the sink's
// concurrency and the batch size/timeout), writes them, acknowledges delivered
// messages to the AckTracker, and retries failed batches with exponential
// backoff and jitter. A failing batch blocks only its own groups.
//
// With a failed-message store, a batch that still fails after
// `attempts_before_store` attempts is written to the store message by message
// and acknowledged, so the slot advances; each message's group stays blocked
// behind it (later messages of the group join it in the store, in order)
// while it is retried with backoff, until it is delivered, discarded through
// the API, or discarded after max_retry_count attempts.
//
// All state lives on an Asio strand; Kick() and sink callbacks may come from
// any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/backoff.h"
#include "common/status.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/sink_queue.h"
#include "sinks/sink.h"
#include "state/state_store.h"

namespace sluice::pipeline {

struct SinkRunnerOptions {
  std::string name;
  size_t sink_index = 0;  // index in the AckTracker
  size_t batch_size = 1;
  std::chrono::milliseconds batch_timeout{50};
  std::optional<uint32_t> max_retry_count;  // nullopt: forever
  BackoffPolicy backoff;
  // Called on the runner's strand with each delivered message's
  // commit-to-delivery latency in seconds (for metrics); may be empty.
  std::function<void(double)> observe_latency;
  // Where messages that keep failing go; null: they are retried in memory
  // (holding their queue slot and the slot's position) until delivered.
  state::StateStore* failed_store = nullptr;
  uint32_t attempts_before_store = 3;
  // Per-message work before each write attempt, on the runner's strand (Lua
  // filter, transform, route: DESIGN §5). Gets a copy of the message to
  // change; returns false to drop it (a filter said no). An error fails the
  // attempt like a sink error (retried, then held as a failed message). Empty:
  // messages are written as queued.
  std::function<Result<bool>(Message& message)> process = nullptr;
};

// What the management API shows and does with failed messages.
struct FailedMessageActionResult {
  size_t matched = 0;  // messages the request named (or all)
  std::vector<uint64_t> unknown_ids;
};

struct SinkRunnerStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};  // write attempts after the first
  std::atomic<uint64_t> failed_attempts{0};
  std::atomic<uint64_t> discarded{0};
  std::atomic<uint64_t> in_flight_batches{0};
  std::atomic<uint64_t> failed_messages{0};  // held in the failed-message store now
  std::atomic<uint64_t> stored_failures{0};  // messages written to the store since start
  std::atomic<uint64_t> filtered{0};         // dropped by a filter function
};

class SinkRunner : public std::enable_shared_from_this<SinkRunner> {
 public:
  SinkRunner(boost::asio::io_context& io, SinkRunnerOptions options, Sink& sink, SinkQueue& queue,
             AckTracker& acks);

  // Wires the queue's ready notification; call once before messages flow.
  void Start();
  // New messages may be ready. Thread-safe.
  void Kick();
  void KickIfReady(size_t ready);
  // Stops taking batches and cancels retry timers. Outstanding writes still
  // complete through the sink.
  void Stop();

  const SinkRunnerStats& stats() const { return stats_; }
  const std::string& name() const { return options_.name; }
  // The last write error and when (Unix ms); empty when none yet.
  std::pair<std::string, int64_t> last_error() const;

  // Failed-message store operations (run on the runner's strand; `done` is
  // called there). `ids` empty means every failed message of the sink.
  // Retry makes them due now; discard drops them (counted as discarded).
  void RetryFailed(std::vector<uint64_t> ids, std::function<void(FailedMessageActionResult)> done);
  void DiscardFailed(std::vector<uint64_t> ids,
                     std::function<void(FailedMessageActionResult)> done);

 private:
  struct InFlight {
    TakenBatch taken;
    Batch batch;
    uint32_t attempts = 0;
    std::unique_ptr<boost::asio::steady_timer> retry_timer;
    // A retry of a stored failed message: the message is owned here.
    std::unique_ptr<Message> stored;
    uint64_t stored_id = 0;
    // What `process` made of the messages (the batch points here); the
    // queued messages stay as they arrived, for the failed-message store.
    std::vector<Message> processed;
    bool prepared = false;
  };
  // A message in the failed-message store (body on disk).
  struct FailedEntry {
    state::FailedMessage meta;  // without json
    bool in_flight = false;
    bool discard_requested = false;
    bool retry_now = false;  // asked for while in flight
  };

  // Failed-message store helpers (strand only).
  void LoadFailed();
  bool GroupBlocked(const std::string& group) const;
  // Moves messages of blocked groups out of `flight->taken` into the store.
  // False when the store could not take them (the batch is retried later).
  bool DivertBlocked(TakenBatch& taken);
  Status StoreFailed(const TakenBatch& taken, uint32_t attempts, const std::string& error,
                     int64_t next_retry_at_ms);
  void ScheduleFailedRetries();
  // Holds a batch whose blocked messages the store refused; tries again.
  void Park(std::shared_ptr<InFlight> flight);
  void RetryDueFailed();
  void OnStoredWriteDone(std::shared_ptr<InFlight> flight, Status status);
  void PopFailedHead(const std::string& group);
  void SetLastError(const std::string& error);

  void Pump();
  void Write(std::shared_ptr<InFlight> flight);
  // Applies hold errors and `process` to a batch before its first write.
  Status Prepare(InFlight& flight);
  void OnWriteDone(std::shared_ptr<InFlight> flight, Status status);
  void Finish(std::shared_ptr<InFlight> flight);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  SinkRunnerOptions options_;
  Sink& sink_;
  SinkQueue& queue_;
  AckTracker& acks_;
  boost::asio::steady_timer batch_timer_;
  bool batch_timer_armed_ = false;
  std::atomic<bool> kick_pending_{false};
  // Kicks from the queue are skipped while fewer messages are ready (set by
  // Pump on the strand while it waits for a full batch; 0: every kick).
  std::atomic<size_t> kick_at_ready_{0};
  std::set<boost::asio::steady_timer*> retry_timers_;  // pending retries, for Stop
  int in_flight_ = 0;
  bool stopped_ = false;
  std::mt19937_64 rng_;
  SinkRunnerStats stats_;

  // Failed messages by group, in id order; the head of each group is the one
  // retried. `due_` indexes heads that are not in flight by next retry time.
  std::map<std::string, std::deque<FailedEntry>> failed_groups_;
  std::set<std::pair<int64_t, std::string>> due_;
  uint64_t next_failed_id_ = 1;
  boost::asio::steady_timer failed_timer_;
  int64_t failed_timer_due_ms_ = 0;  // 0: not armed

  mutable std::mutex error_mu_;
  std::string last_error_;
  int64_t last_error_at_ms_ = 0;
};

}  // namespace sluice::pipeline
