#include "pipeline/sink_queue.h"

namespace sluice::pipeline {

SinkQueue::SinkQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

void SinkQueue::SetOnReady(std::function<void(size_t ready)> on_ready) {
  std::lock_guard lock(mu_);
  on_ready_ = std::move(on_ready);
}

bool SinkQueue::Push(std::unique_ptr<QueuedMessage>& message, std::chrono::milliseconds max_wait) {
  std::function<void(size_t)> notify;
  size_t ready = 0;
  {
    std::unique_lock lock(mu_);
    const size_t size = message->message.ByteSize();
    auto has_room = [&] { return count_ == 0 || bytes_ + size <= max_bytes_ || interrupted_; };
    if (!space_cv_.wait_for(lock, max_wait, has_room) || interrupted_) {
      interrupted_ = false;
      return false;
    }
    bytes_ += size;
    ++count_;
    message->enqueued_at = std::chrono::steady_clock::now();
    auto [it, inserted] = groups_.try_emplace(message->message.group_key);
    Group& group = it->second;
    const bool was_idle = group.queued.empty() && !group.in_flight;
    group.queued.push_back(std::move(message));
    if (!group.in_flight) ++ready_count_;
    if (was_idle) ready_groups_.push_back(it->first);
    if (!group.in_flight) notify = on_ready_;
    ready = ready_count_;
  }
  if (notify) notify(ready);
  return true;
}

TakenBatch SinkQueue::TakeBatch(size_t max_messages) {
  TakenBatch batch;
  std::lock_guard lock(mu_);
  while (batch.messages.size() < max_messages && !ready_groups_.empty()) {
    const std::string key = std::move(ready_groups_.front());
    ready_groups_.pop_front();
    Group& group = groups_[key];
    group.in_flight = true;
    batch.groups.push_back(key);
    while (!group.queued.empty() && batch.messages.size() < max_messages) {
      batch.messages.push_back(std::move(group.queued.front()));
      group.queued.pop_front();
      --ready_count_;
    }
  }
  // Messages of an in-flight group are not ready until it completes.
  for (const std::string& key : batch.groups) ready_count_ -= groups_[key].queued.size();
  return batch;
}

void SinkQueue::Complete(TakenBatch batch) {
  std::function<void(size_t)> notify;
  size_t ready = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& m : batch.messages) {
      bytes_ -= m->message.ByteSize();
      --count_;
    }
    for (const std::string& key : batch.groups) {
      auto it = groups_.find(key);
      if (it == groups_.end()) continue;
      it->second.in_flight = false;
      if (it->second.queued.empty()) {
        groups_.erase(it);
      } else {
        ready_count_ += it->second.queued.size();
        ready_groups_.push_back(key);
        notify = on_ready_;
      }
    }
    ready = ready_count_;
  }
  space_cv_.notify_all();
  if (notify) notify(ready);
}

size_t SinkQueue::ReadyCount() const {
  std::lock_guard lock(mu_);
  return ready_count_;
}

std::chrono::steady_clock::time_point SinkQueue::OldestReady() const {
  std::lock_guard lock(mu_);
  auto oldest = std::chrono::steady_clock::time_point::max();
  // The oldest ready group is the front of ready_groups_ in most cases; a
  // group re-queued after completion may hold older messages, so scan a few.
  size_t scanned = 0;
  for (const std::string& key : ready_groups_) {
    auto it = groups_.find(key);
    if (it != groups_.end() && !it->second.queued.empty()) {
      oldest = std::min(oldest, it->second.queued.front()->enqueued_at);
    }
    if (++scanned == 16) break;
  }
  return oldest;
}

size_t SinkQueue::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t SinkQueue::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

void SinkQueue::Interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  space_cv_.notify_all();
}

}  // namespace sluice::pipeline
