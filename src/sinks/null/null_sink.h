// Acknowledges every batch at once and writes it nowhere. Everything before
// the sink (decoding, routing, rendering the message JSON, queueing, batching,
// acknowledging) runs as for any other sink, so it measures the pipeline alone
// and drains a slot when the changes are not wanted.
#pragma once

#include "sinks/sink.h"

namespace sluice {

class NullSink : public Sink {
 public:
  // Calls `done` with OK before returning, on the calling thread.
  void Write(const Batch& batch, WriteDone done) override;
};

}  // namespace sluice
