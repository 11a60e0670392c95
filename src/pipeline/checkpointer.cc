#include "pipeline/checkpointer.h"

#include <pthread.h>

#include "common/log.h"

namespace sluice::pipeline {

Checkpointer::Checkpointer(AckTracker& acks, state::StateStore& store, std::string slot_key,
                           std::vector<std::string> sink_names, Lsn start_lsn,
                           std::chrono::milliseconds interval)
    : acks_(acks),
      store_(store),
      slot_key_(std::move(slot_key)),
      sink_names_(std::move(sink_names)),
      interval_(interval),
      durable_lsn_(start_lsn) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-ckpt");
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, interval_, [this] { return stop_; });
      lock.unlock();
      Checkpoint();
      lock.lock();
    }
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Lsn Checkpointer::Checkpoint() {
  std::lock_guard write_lock(write_mu_);
  const Lsn safe = acks_.SafeLsn();
  std::vector<Position> positions = acks_.AckedThrough();
  if (safe == durable_lsn_.load() && positions == durable_positions_) return safe;
  std::vector<state::SinkCheckpoint> sinks;
  sinks.reserve(positions.size());
  for (size_t i = 0; i < positions.size() && i < sink_names_.size(); ++i) {
    sinks.push_back({sink_names_[i], positions[i]});
  }
  Status st = store_.SaveCheckpoint(slot_key_, safe, sinks);
  if (!st.ok()) {
    if (!warned_.exchange(true)) {
      log::Error("cannot write checkpoint; the slot will not advance until it can",
                 {{"error", st.message()}});
    }
    return durable_lsn_.load();
  }
  warned_ = false;
  durable_lsn_ = std::max(durable_lsn_.load(), safe);
  durable_positions_ = std::move(positions);
  return durable_lsn_.load();
}

}  // namespace sluice::pipeline
