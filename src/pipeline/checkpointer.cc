#include "pipeline/checkpointer.h"

#include "common/log.h"

namespace sluice::pipeline {

Checkpointer::Checkpointer(AckTracker& acks, state::StateStore& store, std::string slot_key,
                           std::vector<std::string> sink_names, Lsn start_lsn)
    : acks_(acks),
      store_(store),
      slot_key_(std::move(slot_key)),
      sink_names_(std::move(sink_names)),
      durable_lsn_(start_lsn) {}

Lsn Checkpointer::Checkpoint() {
  const Lsn safe = acks_.SafeLsn();
  std::vector<Position> positions = acks_.AckedThrough();
  if (safe == durable_lsn_ && positions == durable_positions_) return durable_lsn_;
  std::vector<state::SinkCheckpoint> sinks;
  sinks.reserve(positions.size());
  for (size_t i = 0; i < positions.size() && i < sink_names_.size(); ++i) {
    sinks.push_back({sink_names_[i], positions[i]});
  }
  Status st = store_.SaveCheckpoint(slot_key_, safe, sinks);
  if (!st.ok()) {
    if (!warned_) {
      log::Error("cannot write checkpoint; the slot will not advance until it can",
                 {{"error", st.message()}});
      warned_ = true;
    }
    return durable_lsn_;
  }
  warned_ = false;
  durable_lsn_ = safe;
  durable_positions_ = std::move(positions);
  return durable_lsn_;
}

}  // namespace sluice::pipeline
