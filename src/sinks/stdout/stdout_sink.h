// Writes each message as one JSON line to standard output (or any FILE*).
// For the demo and debugging.
#pragma once

#include <cstdio>
#include <mutex>

#include "sinks/sink.h"

namespace sluice {

class StreamSink : public Sink {
 public:
  // Does not own `out`. `fsync_each_batch`: fsync(fileno(out)) after each
  // batch, so "delivered" survives a machine crash, not only a process crash.
  StreamSink(FILE* out, bool fsync_each_batch);
  void Write(const Batch& batch, WriteDone done) override;

 private:
  std::mutex mu_;
  FILE* out_;
  bool fsync_;
};

}  // namespace sluice
