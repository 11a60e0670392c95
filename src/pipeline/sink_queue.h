// Per-sink queue between the router and the sink runner: byte-bounded,
// FIFO per message group, handing out batches so that no group ever has more
// than one batch in flight (DESIGN §1.3).
//
// Thread-safe. One producer (the replication reader) calls Push; one consumer
// (the sink runner) calls TakeBatch/Complete.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/message.h"

namespace sluice::pipeline {

struct QueuedMessage {
  Message message;
  uint64_t ticket = 0;  // AckTracker ticket
  std::chrono::steady_clock::time_point enqueued_at;
  QueuedMessage* next = nullptr;  // the group's next queued message (owned by the queue)

  // Back to a default message for reuse: the key strings keep their
  // buffers; the JSON is freed by the Push that hands the message back
  // (at once when large).
  void Recycle();
};

// One message group's messages in a SinkQueue (owned by the queue). The
// queued messages are chained through QueuedMessage::next: with a group per
// row, most groups hold one message, and a container per group would cost
// allocations per message.
struct SinkQueueGroup {
  std::string key;
  QueuedMessage* head = nullptr;  // owned; oldest first
  QueuedMessage* tail = nullptr;
  size_t queued = 0;
  bool in_flight = false;

  SinkQueueGroup() = default;
  SinkQueueGroup(const SinkQueueGroup&) = delete;
  SinkQueueGroup& operator=(const SinkQueueGroup&) = delete;
  ~SinkQueueGroup();
  void PushBack(std::unique_ptr<QueuedMessage> m);
  std::unique_ptr<QueuedMessage> PopFront();
};

// Messages handed to the sink together. Owned by the consumer until passed
// back to Complete.
struct TakenBatch {
  std::vector<std::unique_ptr<QueuedMessage>> messages;
  // Distinct groups in the batch; the queue keeps them until Complete.
  std::vector<SinkQueueGroup*> groups;
};

class SinkQueue {
 public:
  // `max_bytes`: Push blocks while the queued and in-flight messages exceed
  // it (an empty queue accepts one message of any size, so nothing is ever
  // too big to pass).
  explicit SinkQueue(size_t max_bytes);

  // Adds a message, waiting up to `max_wait` for room. Returns false (and
  // leaves `message` untouched) when there was no room in time: the caller
  // does its periodic work (status updates) and tries again. On success
  // `message` is a completed message to fill next (see Recycle), or null.
  bool Push(std::unique_ptr<QueuedMessage>& message, std::chrono::milliseconds max_wait);

  // Called (outside the lock) after a Push or a Complete made a message
  // ready, with the number of ready messages then. Set before the first
  // Push, once: Push and Complete call it without a copy.
  void SetOnReady(std::function<void(size_t ready)> on_ready);

  // Up to `max_messages` ready messages, oldest ready group first; a group's
  // messages stay in order. Marks their groups in flight. Empty when nothing
  // is ready.
  TakenBatch TakeBatch(size_t max_messages);

  // The batch is done (delivered or given up): frees its bytes and lets its
  // groups' next messages become ready. Its messages are kept for Push to
  // hand back (up to 64), so that the producer's next messages reuse them
  // and their key strings instead of allocating anew on one thread and
  // freeing on another.
  void Complete(TakenBatch batch);

  // Messages that could be taken now, and when the oldest of them arrived.
  size_t ReadyCount() const;
  std::chrono::steady_clock::time_point OldestReady() const;
  size_t bytes() const;
  size_t size() const;  // queued + in flight

  // Wakes a blocked Push so that it returns false at once.
  void Interrupt();

 private:
  mutable std::mutex mu_;
  std::condition_variable space_cv_;
  const size_t max_bytes_;
  size_t bytes_ = 0;
  size_t count_ = 0;
  size_t ready_count_ = 0;
  bool interrupted_ = false;
  // Keyed by a view of the group's own key. A group lives while it has
  // queued messages or is in flight.
  using GroupMap = std::unordered_map<std::string_view, std::unique_ptr<SinkQueueGroup>>;
  GroupMap groups_;
  std::deque<SinkQueueGroup*> ready_groups_;  // groups with queued messages, not in flight
  // Freed groups kept for reuse with their map node (and their key its
  // capacity): a group per row would otherwise allocate (on the producer's
  // thread) and free (on the consumer's) a node, a group and a key per
  // message.
  std::vector<GroupMap::node_type> spare_groups_;
  std::vector<std::unique_ptr<QueuedMessage>> spare_messages_;  // recycled
  std::function<void(size_t ready)> on_ready_;
};

}  // namespace sluice::pipeline
