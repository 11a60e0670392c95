// Router: the ChangeHandler at the end of the source. For each committed
// change it decides which sinks want it (table scope, actions), skips what a
// sink already has, renders the message and queues it, blocking while a
// sink's queue is full (back-pressure reaches the replication socket).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/sink_queue.h"
#include "source/change.h"

namespace sluice::pipeline {

// What the router needs of one sink.
struct RoutedSink {
  const config::SinkConfig* config = nullptr;
  SinkQueue* queue = nullptr;
  std::string suffix;  // RenderSinkSuffix(...)
  // The sink's SQL filter (DESIGN §5); empty: every change. False drops the
  // change for this sink; an error holds the message as failed (see
  // Message::hold_error). Called on the reader thread.
  std::function<Result<bool>(const source::Change&)> matches = nullptr;
};

// True when `sink` wants changes of schema.table with `action`.
bool SinkWants(const config::SinkConfig& sink, const std::string& schema, const std::string& table,
               Action action);

class Router : public source::ChangeHandler {
 public:
  // `while_blocked` runs (on the reader thread) every ~100 ms while a queue is
  // full, and every 1024 changes: it sends status updates when due, so the
  // server keeps the connection.
  // `stopping` makes a blocked OnChange give up with a retryable error.
  Router(std::vector<RoutedSink> sinks, AckTracker& acks, std::function<void()> while_blocked,
         const std::atomic<bool>& stopping);

  void OnBegin(const source::TransactionInfo& txn) override;
  Status OnChange(const source::Change& change) override;
  void OnCommit(const source::TransactionInfo& txn) override;
  void OnIdle(Lsn wal_end) override;
  // Renders the record (and an update's changes) of a streamed change that
  // some active sink wants, while its transaction is still arriving.
  bool RenderAhead(const source::Change& change, std::string& record,
                   std::string& changes) override;

  // A backfill's row (action read) for sink `sink` only, at the position of
  // the watermark that released it (inside that watermark's transaction).
  // Reader thread only, like OnChange.
  Status OnBackfillChange(size_t sink, const source::Change& change);

  uint64_t routed() const { return routed_.load(std::memory_order_relaxed); }
  // Messages queued for sink `index` since start.
  uint64_t routed(size_t index) const { return per_sink_[index].load(std::memory_order_relaxed); }
  // Changes the sink's SQL filter dropped since start.
  uint64_t filtered(size_t index) const { return filtered_[index].load(std::memory_order_relaxed); }

 private:
  struct GroupColumns {
    uint64_t relation_version = 0;
    std::vector<size_t> indexes;
  };
  const std::vector<size_t>& GroupIndexes(size_t sink, const source::RelationInfo& rel);
  // Sets `key` to the change's group key for `sink`.
  void GroupKey(size_t sink, const source::Change& change, std::string& key);
  // `only_sink`: no other sink gets this change, so its JSON is rendered
  // straight into the message rather than kept in prefix_ for the others.
  Status RouteToSink(size_t sink, const source::Change& change, const source::RelationInfo& rel,
                     bool only_sink);

  std::vector<RoutedSink> sinks_;
  AckTracker& acks_;
  std::function<void()> while_blocked_;
  const std::atomic<bool>& stopping_;
  std::vector<std::unordered_map<uint32_t, GroupColumns>> group_columns_;
  std::string prefix_;
  bool rendered_ = false;                 // prefix_ holds the current change
  size_t json_size_ = 0;                  // of the last message rendered straight
  std::unique_ptr<QueuedMessage> spare_;  // handed back by a queue's Push
  uint64_t changes_seen_ = 0;
  std::atomic<uint64_t> routed_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> per_sink_;
  std::unique_ptr<std::atomic<uint64_t>[]> filtered_;
};

}  // namespace sluice::pipeline
