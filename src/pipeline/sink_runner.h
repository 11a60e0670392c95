// Drives one sink: takes batches from its SinkQueue (respecting the sink's
// concurrency and the batch size/timeout), writes them, acknowledges delivered
// messages to the AckTracker, and retries failed batches with exponential
// backoff and jitter. A failing batch blocks only its own groups.
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
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "common/backoff.h"
#include "common/status.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/sink_queue.h"
#include "sinks/sink.h"

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
};

struct SinkRunnerStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};  // write attempts after the first
  std::atomic<uint64_t> failed_attempts{0};
  std::atomic<uint64_t> discarded{0};
  std::atomic<uint64_t> in_flight_batches{0};
};

class SinkRunner : public std::enable_shared_from_this<SinkRunner> {
 public:
  SinkRunner(boost::asio::io_context& io, SinkRunnerOptions options, Sink& sink, SinkQueue& queue,
             AckTracker& acks);

  // Wires the queue's ready notification; call once before messages flow.
  void Start();
  // New messages may be ready. Thread-safe.
  void Kick();
  // Stops taking batches and cancels retry timers. Outstanding writes still
  // complete through the sink.
  void Stop();

  const SinkRunnerStats& stats() const { return stats_; }
  const std::string& name() const { return options_.name; }

 private:
  struct InFlight {
    TakenBatch taken;
    Batch batch;
    uint32_t attempts = 0;
    std::unique_ptr<boost::asio::steady_timer> retry_timer;
  };

  void Pump();
  void Write(std::shared_ptr<InFlight> flight);
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
  std::set<boost::asio::steady_timer*> retry_timers_;  // pending retries, for Stop
  int in_flight_ = 0;
  bool stopped_ = false;
  std::mt19937_64 rng_;
  SinkRunnerStats stats_;
};

}  // namespace sluice::pipeline
