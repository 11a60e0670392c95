// The pull queues of this process by stream name (the http_pull sink's
// name), for the HTTP API. Filled while sinks are created, then read-only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sinks/http_pull/pull_queue.h"

namespace sluice {

class StreamRegistry {
 public:
  void Add(std::shared_ptr<PullQueue> queue) { queues_[queue->stream()] = std::move(queue); }
  PullQueue* Find(const std::string& stream) const {
    auto it = queues_.find(stream);
    return it == queues_.end() ? nullptr : it->second.get();
  }
  const std::map<std::string, std::shared_ptr<PullQueue>>& all() const { return queues_; }

 private:
  std::map<std::string, std::shared_ptr<PullQueue>> queues_;
};

}  // namespace sluice
