// One HTTP pull queue ("stream"): messages held durably in the state store,
// handed to workers with a visibility timeout, removed when acknowledged
// (DESIGN §7, SQS-like).
//
// Durability: an append is in the store before Append returns (the slot may
// then advance past it). Deliveries (lease, deliver_count, token) and acks
// take effect in memory at once and are written behind, every
// `flush_interval`, in one transaction each: a message acknowledged and
// removed between two flushes costs no store write but its removal. A crash
// of Sluice loses at most the last interval's deliveries and acks: those
// messages are handed out again (at least once). `flush_interval` 0 writes
// each delivery and ack before answering.
//
// Order: a group's messages are handed out one at a time: no message is
// handed out while an earlier message of its group is outstanding (handed
// out, neither acknowledged nor nacked, lease not expired). Different groups
// go to different workers in parallel.
//
// Thread-safe. Long polls are timers on the caller's io_context and hold no
// thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "sinks/sink.h"
#include "state/state_store.h"

namespace sluice {

struct PullQueueOptions {
  std::chrono::milliseconds ack_wait{30000};  // visibility timeout of a delivery
  size_t max_ack_pending = 10000;             // outstanding messages at most
  size_t max_waiting = 100;                   // concurrent long polls at most
  // Bodies of appended messages also kept in memory, up to this many bytes,
  // so that handing them out soon after does not read them back from the
  // store (workers that keep up never touch the disk for a body).
  size_t fresh_body_bytes = size_t{16} << 20;
  // How often deliveries and acks are written to the store (0: at once).
  std::chrono::milliseconds flush_interval{100};
};

struct PulledMessage {
  std::string ack_id;
  uint32_t deliver_count = 0;
  std::string json;  // the message object
};

struct AckOutcome {
  size_t done = 0;
  std::vector<std::string> unknown;  // not outstanding: never handed out, already acked, or expired
};

class PullQueue {
 public:
  using Clock = std::function<int64_t()>;  // Unix milliseconds
  using ReceiveDone = std::function<void(Result<std::vector<PulledMessage>>)>;

  PullQueue(std::string stream, state::StateStore& store, PullQueueOptions options,
            boost::asio::io_context& io, Clock clock = nullptr);
  ~PullQueue();

  // Loads what the store holds (messages survive restarts).
  Status Load();

  // Makes the batch durable in the store, then available. OK means every
  // message is persisted: the slot may advance past them.
  Status Append(const Batch& batch);

  // Hands out up to `max` available messages. With `wait_for` > 0 and
  // nothing available, waits (without a thread) until messages are available
  // or the time is up (then an empty list). `done` runs on the io_context or
  // the calling thread. Error kPermanent "too many waiting" when max_waiting
  // long polls are already waiting.
  // Returns a wait id when the call became a long poll (else 0), for
  // CancelWait.
  uint64_t Receive(size_t max, std::chrono::milliseconds wait_for, ReceiveDone done);
  // The client of long poll `wait_id` went away: frees its max_waiting place
  // (its done runs with an empty list). Unknown or finished ids are ignored.
  void CancelWait(uint64_t wait_id);

  AckOutcome Ack(const std::vector<std::string>& ack_ids);
  // Makes the messages available again after `delay`.
  AckOutcome Nack(const std::vector<std::string>& ack_ids, std::chrono::milliseconds delay);

  // Ends long polls (they complete with an empty list).
  void Shutdown();
  // Writes the deliveries and acks not yet in the store. Runs every
  // flush_interval on the queue's own thread; also callable directly.
  Status Flush();
  // Shutdown, then stops the flush thread and flushes a last time; from then
  // on deliveries and acks are written at once. The store must outlive this
  // call (the destructor calls it too).
  void Close();

  const std::string& stream() const { return stream_; }
  size_t depth() const;        // messages held
  size_t outstanding() const;  // handed out, not yet acked/nacked
  size_t waiting() const;

 private:
  // Memory per held message matters (a stream can hold millions while its
  // workers are away): an entry, a hash node per group and a set node per
  // group head; a group's seqs are chained through the entries.
  // The random part of an ack id (32 hex digits); zero: none.
  struct Token {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool empty() const { return hi == 0 && lo == 0; }
    bool operator==(const Token&) const = default;
    std::string Text() const;
    // nullopt unless exactly 32 hex digits.
    static std::optional<Token> Parse(std::string_view text);
  };
  struct Entry {
    const std::string* group = nullptr;  // the key of its groups_ node
    uint64_t next = 0;                   // the group's next seq (0: none)
    uint32_t deliver_count = 0;
    int64_t visible_at_ms = 0;
    Token token;
    bool outstanding = false;
    bool dirty = false;  // delivery state not yet written (listed in dirty_)
  };
  struct Waiter {
    uint64_t id = 0;
    size_t max;
    ReceiveDone done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  std::vector<PulledMessage> TakeLocked(size_t max, int64_t now,
                                        std::vector<state::StreamMessage>* updates,
                                        std::vector<uint64_t>* seqs);
  Result<std::vector<PulledMessage>> Finish(std::vector<PulledMessage> taken,
                                            const std::vector<state::StreamMessage>& updates,
                                            const std::vector<uint64_t>& seqs);
  struct GroupSeqs {
    uint64_t head = 0;  // seqs start at 1
    uint64_t tail = 0;
  };
  // Adds entry `seq` at the end of its group; true when it is the group's
  // head.
  bool Link(uint64_t seq, Entry entry, std::string group);
  void MakeHead(const std::string& group);
  void ServeWaiters();
  void ArmWakeTimerLocked(int64_t now);
  bool ParseAckId(const std::string& ack_id, uint64_t* seq, Token* token) const;
  int64_t Now() const;
  bool WriteBehindLocked() const { return options_.flush_interval.count() > 0 && !closed_; }
  // Marks entry `seq` for the next flush.
  void MarkDirtyLocked(uint64_t seq, Entry& e);
  state::StreamMessage DeliveryRow(uint64_t seq, const Entry& e) const;
  void FlushLoop();

  const std::string stream_;
  state::StateStore& store_;
  const PullQueueOptions options_;
  boost::asio::io_context& io_;
  Clock clock_;

  mutable std::mutex mu_;
  std::map<uint64_t, Entry> entries_;                  // by seq
  std::unordered_map<std::string, GroupSeqs> groups_;  // group -> its seqs (first, last)
  std::set<std::pair<int64_t, uint64_t>> heads_;       // (visible_at, seq) of each group's head
  // Bodies not yet handed out, by seq, while they fit in fresh_body_bytes
  // (the oldest stay: they go out first).
  std::unordered_map<uint64_t, std::string> fresh_;
  size_t fresh_bytes_ = 0;
  size_t outstanding_ = 0;
  uint64_t next_seq_ = 1;
  std::list<std::shared_ptr<Waiter>> waiters_;
  boost::asio::steady_timer wake_timer_;
  int64_t wake_at_ = 0;
  uint64_t next_wait_id_ = 1;
  bool shut_down_ = false;
  std::mt19937_64 rng_;

  // Write-behind (guarded by mu_): seqs whose delivery state changed (an
  // entry may be listed twice or be gone: its `dirty` flag decides), seqs
  // acknowledged but still in the store.
  std::vector<uint64_t> dirty_;
  std::vector<uint64_t> pending_deletes_;
  bool closed_ = false;
  std::condition_variable flush_cv_;
  std::mutex flush_mu_;  // one flush at a time, in order
  std::thread flusher_;
};

}  // namespace sluice
