#include "pipeline/sink_queue.h"

namespace sluice::pipeline {

namespace {
constexpr size_t kMaxSpareGroups = 4096;
constexpr size_t kMaxSpareMessages = 64;
constexpr size_t kMaxSpareJsonBytes = 16 * 1024;
}  // namespace

void QueuedMessage::Recycle() {
  Message& m = message;
  m.position = Position{};
  m.action = Action::kInsert;
  m.commit_time_us = 0;
  m.table_schema.clear();
  m.table_name.clear();
  m.group_key.clear();
  m.idempotency_key.clear();
  // The JSON keeps its buffer for the next message the producer renders
  // into it (an allocation per message on the producer's thread was a fifth
  // of its time on W5). The http_pull sink's peak RSS on W1 rose from about
  // 128-135 to 146-158 MB with it (docs/performance.md). A large one is freed at
  // once, so that spares never hold much memory.
  m.json.clear();
  if (m.json.capacity() > kMaxSpareJsonBytes) std::string().swap(m.json);
  m.route.reset();
  m.hold_error.clear();
  ticket = 0;
  enqueued_at = {};
  next = nullptr;
}

SinkQueueGroup::~SinkQueueGroup() {
  while (head != nullptr) PopFront();
}

void SinkQueueGroup::PushBack(std::unique_ptr<QueuedMessage> m) {
  QueuedMessage* raw = m.release();
  raw->next = nullptr;
  if (tail != nullptr) {
    tail->next = raw;
  } else {
    head = raw;
  }
  tail = raw;
  ++queued;
}

std::unique_ptr<QueuedMessage> SinkQueueGroup::PopFront() {
  std::unique_ptr<QueuedMessage> m(head);
  head = head->next;
  if (head == nullptr) tail = nullptr;
  m->next = nullptr;
  --queued;
  return m;
}

SinkQueue::SinkQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

void SinkQueue::SetOnReady(std::function<void(size_t ready)> on_ready) {
  std::lock_guard lock(mu_);
  on_ready_ = std::move(on_ready);
}

bool SinkQueue::Push(std::unique_ptr<QueuedMessage>& message, std::chrono::milliseconds max_wait) {
  bool notify = false;
  size_t ready = 0;
  {
    std::unique_lock lock(mu_);
    const size_t size = message->message.ByteSize();
    auto has_room = [&] { return count_ == 0 || bytes_ + size <= max_bytes_ || interrupted_; };
    // Checked first: waiting reads the clock, and there is usually room.
    if ((!has_room() && !space_cv_.wait_for(lock, max_wait, has_room)) || interrupted_) {
      interrupted_ = false;
      return false;
    }
    bytes_ += size;
    ++count_;
    message->enqueued_at = std::chrono::steady_clock::now();
    SinkQueueGroup* group;
    if (auto it = groups_.find(message->message.group_key); it != groups_.end()) {
      group = it->second.get();
    } else {
      if (!spare_groups_.empty()) {
        GroupMap::node_type node = std::move(spare_groups_.back());
        spare_groups_.pop_back();
        group = node.mapped().get();
        group->key = message->message.group_key;
        node.key() = std::string_view(group->key);
        groups_.insert(std::move(node));
      } else {
        auto created = std::make_unique<SinkQueueGroup>();
        created->key = message->message.group_key;
        group = created.get();
        groups_.emplace(std::string_view(group->key), std::move(created));
      }
    }
    const bool was_idle = group->queued == 0 && !group->in_flight;
    group->PushBack(std::move(message));
    if (!spare_messages_.empty()) {
      message = std::move(spare_messages_.back());
      spare_messages_.pop_back();
    }
    if (!group->in_flight) ++ready_count_;
    if (was_idle) ready_groups_.push_back(group);
    notify = !group->in_flight && on_ready_;
    ready = ready_count_;
  }
  if (notify) on_ready_(ready);
  return true;
}

TakenBatch SinkQueue::TakeBatch(size_t max_messages) {
  TakenBatch batch;
  std::lock_guard lock(mu_);
  while (batch.messages.size() < max_messages && !ready_groups_.empty()) {
    SinkQueueGroup* group = ready_groups_.front();
    ready_groups_.pop_front();
    group->in_flight = true;
    batch.groups.push_back(group);
    while (group->queued != 0 && batch.messages.size() < max_messages) {
      batch.messages.push_back(group->PopFront());
      --ready_count_;
    }
  }
  // Messages of an in-flight group are not ready until it completes.
  for (const SinkQueueGroup* group : batch.groups) ready_count_ -= group->queued;
  return batch;
}

void SinkQueue::Complete(TakenBatch batch) {
  bool notify = false;
  size_t ready = 0;
  size_t freed_bytes = 0;
  for (const auto& m : batch.messages) freed_bytes += m->message.ByteSize();
  // Outside the lock: whatever the messages free (a route, long strings) is
  // freed here.
  for (auto& m : batch.messages) m->Recycle();
  {
    std::lock_guard lock(mu_);
    bytes_ -= freed_bytes;
    count_ -= batch.messages.size();
    for (auto& m : batch.messages) {
      if (spare_messages_.size() >= kMaxSpareMessages) break;
      spare_messages_.push_back(std::move(m));
    }
    for (SinkQueueGroup* group : batch.groups) {
      group->in_flight = false;
      if (group->queued == 0) {
        // Frees the group (or keeps it for reuse).
        if (auto it = groups_.find(std::string_view(group->key)); it != groups_.end()) {
          GroupMap::node_type freed = groups_.extract(it);
          if (spare_groups_.size() < kMaxSpareGroups) spare_groups_.push_back(std::move(freed));
        }
      } else {
        ready_count_ += group->queued;
        ready_groups_.push_back(group);
        notify = static_cast<bool>(on_ready_);
      }
    }
    ready = ready_count_;
  }
  space_cv_.notify_all();
  if (notify) on_ready_(ready);
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
  for (const SinkQueueGroup* group : ready_groups_) {
    if (group->head != nullptr) oldest = std::min(oldest, group->head->enqueued_at);
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
