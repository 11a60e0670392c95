// The `http_pull` sink: delivering a batch means writing it durably into the
// stream's PullQueue (so the slot advances and a slow worker never pins WAL);
// workers then pull it over HTTP (api/stream_routes).
#pragma once

#include <memory>

#include "sinks/http_pull/pull_queue.h"
#include "sinks/sink.h"

namespace sluice {

class HttpPullSink final : public Sink {
 public:
  explicit HttpPullSink(std::shared_ptr<PullQueue> queue) : queue_(std::move(queue)) {}
  void Write(const Batch& batch, WriteDone done) override { done(queue_->Append(batch)); }
  const std::shared_ptr<PullQueue>& queue() const { return queue_; }

 private:
  std::shared_ptr<PullQueue> queue_;
};

}  // namespace sluice
