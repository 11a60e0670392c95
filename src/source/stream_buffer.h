// Holds the messages of transactions that Postgres streams while they are
// still in progress (protocol 2, streaming on) until their Stream Commit.
// Memory is bounded: past `memory_cap` bytes over all open transactions, a
// transaction's records move to a spill file under `spill_dir` and further
// records of it go there. An aborted transaction's records are dropped (its
// file deleted); an aborted subtransaction's records are skipped on replay.
//
// Used only on the replication reader thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::source {

class StreamBuffer {
 public:
  StreamBuffer(std::string spill_dir, uint64_t memory_cap);
  ~StreamBuffer();
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;

  // Appends one message of top-level transaction `xid`, sent on behalf of
  // (sub)transaction `subxid`, with `annex`: what the caller derived from it
  // on arrival, handed back with it on replay (and counted, spilled and
  // dropped with it).
  Status Append(uint32_t xid, uint32_t subxid, std::string_view bytes, std::string_view annex = {});
  // Subtransaction `subxid` of `xid` rolled back (or the whole transaction
  // when subxid == xid).
  void Abort(uint32_t xid, uint32_t subxid);
  // Calls `fn` with each surviving message of `xid` and its annex, in arrival order, then
  // forgets the transaction. `fn`'s view is valid only during the call. The
  // first error from `fn` stops the replay and is returned (the transaction
  // is forgotten either way: the server will send it again).
  Status Replay(uint32_t xid,
                const std::function<Status(std::string_view bytes, std::string_view annex)>& fn);
  // Forgets every transaction and deletes spill files (after a reconnect).
  void Clear();

  uint64_t memory_bytes() const { return memory_bytes_; }
  uint64_t spilled_bytes() const { return spilled_bytes_; }
  size_t open_transactions() const { return txns_.size(); }

 private:
  struct Txn {
    std::string memory;  // records: u32 length, u32 annex length, u32 subxid, bytes, annex
    FILE* file = nullptr;
    std::string path;
    std::set<uint32_t> aborted_subxids;
  };
  Status SpillLargest();
  void Drop(Txn& txn);

  std::string spill_dir_;
  uint64_t memory_cap_;
  uint64_t memory_bytes_ = 0;
  uint64_t spilled_bytes_ = 0;
  std::map<uint32_t, Txn> txns_;
};

}  // namespace sluice::source
