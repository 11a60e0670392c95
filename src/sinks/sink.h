// The interface every destination implements. It includes no client library:
// a sink's folder holds the implementation that does.
#pragma once

#include <functional>
#include <vector>

#include "common/message.h"
#include "common/status.h"

namespace sluice {

// Messages in pipeline order. Messages of one group appear in their order; a
// batch never holds a message whose group has another batch in flight.
struct Batch {
  std::vector<const Message*> messages;
};

// Called exactly once per Write, from any thread. OK means every message of
// the batch is delivered (what "delivered" means is in each sink's README). An
// error means the attempt failed and the caller will retry the whole batch
// later (or give up, per max_retry_count); retryable vs permanent tells the
// caller whether retrying can help.
using WriteDone = std::function<void(Status)>;

class Sink {
 public:
  virtual ~Sink() = default;

  // Starts delivering `batch` and returns at once. The messages stay valid
  // until `done` runs. Thread-safe; up to MaxInFlight() writes may be
  // outstanding at a time.
  virtual void Write(const Batch& batch, WriteDone done) = 0;

  // How many Write calls may be outstanding at once.
  virtual int MaxInFlight() const { return 1; }

  // Ends background work. Outstanding writes complete or fail (their done
  // runs) before Close returns. No Write may follow.
  virtual void Close() {}
};

}  // namespace sluice
