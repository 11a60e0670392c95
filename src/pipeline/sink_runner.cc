#include "pipeline/sink_runner.h"

#include <boost/asio/post.hpp>

#include "common/log.h"

namespace sluice::pipeline {

namespace asio = boost::asio;

SinkRunner::SinkRunner(asio::io_context& io, SinkRunnerOptions options, Sink& sink,
                       SinkQueue& queue, AckTracker& acks)
    : io_(io),
      strand_(asio::make_strand(io)),
      options_(std::move(options)),
      sink_(sink),
      queue_(queue),
      acks_(acks),
      batch_timer_(strand_),
      rng_(std::random_device{}()) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

void SinkRunner::Start() {
  std::weak_ptr<SinkRunner> weak = weak_from_this();
  queue_.SetOnReady([weak] {
    if (auto self = weak.lock()) self->Kick();
  });
  Kick();
}

void SinkRunner::Kick() {
  // One pending pump is enough: it reads the queue after clearing the flag,
  // so a message pushed before that is seen, and one pushed after kicks anew.
  if (kick_pending_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] {
    self->kick_pending_.store(false);
    self->Pump();
  });
}

void SinkRunner::Stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->batch_timer_.cancel();
    for (auto* timer : self->retry_timers_) timer->cancel();
  });
}

void SinkRunner::Pump() {
  if (stopped_) return;
  while (in_flight_ < sink_.MaxInFlight()) {
    const size_t ready = queue_.ReadyCount();
    if (ready == 0) return;
    if (ready < options_.batch_size && options_.batch_timeout.count() > 0) {
      // Wait for a full batch, but no longer than batch_timeout after the
      // oldest ready message arrived.
      auto due = queue_.OldestReady() + options_.batch_timeout;
      if (due > std::chrono::steady_clock::now()) {
        if (!batch_timer_armed_) {
          batch_timer_armed_ = true;
          batch_timer_.expires_at(due);
          batch_timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
            self->batch_timer_armed_ = false;
            self->Pump();
          });
        }
        return;
      }
    }
    auto flight = std::make_shared<InFlight>();
    flight->taken = queue_.TakeBatch(options_.batch_size);
    if (flight->taken.messages.empty()) return;
    flight->batch.messages.reserve(flight->taken.messages.size());
    for (const auto& m : flight->taken.messages) flight->batch.messages.push_back(&m->message);
    ++in_flight_;
    stats_.in_flight_batches.store(in_flight_, std::memory_order_relaxed);
    Write(std::move(flight));
  }
}

void SinkRunner::Write(std::shared_ptr<InFlight> flight) {
  ++flight->attempts;
  Batch& batch = flight->batch;
  sink_.Write(batch, [self = shared_from_this(), flight](Status status) mutable {
    asio::post(self->strand_,
               [self, flight = std::move(flight), status = std::move(status)]() mutable {
                 self->OnWriteDone(std::move(flight), std::move(status));
               });
  });
}

void SinkRunner::OnWriteDone(std::shared_ptr<InFlight> flight, Status status) {
  if (status.ok()) {
    if (flight->attempts > 1) {
      log::Info("sink delivered after retries",
                {{"sink", options_.name}, {"attempts", flight->attempts}});
    }
    stats_.delivered.fetch_add(flight->taken.messages.size(), std::memory_order_relaxed);
    if (options_.observe_latency) {
      const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      for (const Message* m : flight->batch.messages) {
        if (m->commit_time_us > 0) options_.observe_latency((now_us - m->commit_time_us) / 1e6);
      }
    }
    Finish(std::move(flight));
    return;
  }
  stats_.failed_attempts.fetch_add(1, std::memory_order_relaxed);
  const Message& first = *flight->batch.messages.front();
  if (options_.max_retry_count && flight->attempts > *options_.max_retry_count) {
    log::Error("sink gave up on batch after max_retry_count attempts; messages discarded",
               {{"sink", options_.name},
                {"attempts", flight->attempts},
                {"messages", flight->batch.messages.size()},
                {"first_commit_lsn", FormatLsn(first.position.commit_lsn)},
                {"first_commit_idx", first.position.commit_idx},
                {"error", status.message()}});
    stats_.discarded.fetch_add(flight->taken.messages.size(), std::memory_order_relaxed);
    Finish(std::move(flight));
    return;
  }
  auto delay = BackoffDelay(options_.backoff, flight->attempts, rng_);
  // Log the first failure and then every 10th, so a long outage is visible
  // without flooding the log.
  if (flight->attempts == 1 || flight->attempts % 10 == 0) {
    log::Warn("sink write failed; will retry",
              {{"sink", options_.name},
               {"attempt", flight->attempts},
               {"retry_in_ms", static_cast<long long>(delay.count())},
               {"table", first.table_schema + "." + first.table_name},
               {"commit_lsn", FormatLsn(first.position.commit_lsn)},
               {"error", status.message()}});
  }
  if (stopped_) {
    Finish(nullptr);
    return;
  }
  flight->retry_timer = std::make_unique<asio::steady_timer>(strand_, delay);
  retry_timers_.insert(flight->retry_timer.get());
  flight->retry_timer->async_wait(
      [self = shared_from_this(), flight](const boost::system::error_code& ec) mutable {
        self->retry_timers_.erase(flight->retry_timer.get());
        if (ec || self->stopped_) {
          --self->in_flight_;
          self->stats_.in_flight_batches.store(self->in_flight_, std::memory_order_relaxed);
          return;
        }
        self->stats_.retried.fetch_add(1, std::memory_order_relaxed);
        self->Write(std::move(flight));
      });
}

void SinkRunner::Finish(std::shared_ptr<InFlight> flight) {
  --in_flight_;
  stats_.in_flight_batches.store(in_flight_, std::memory_order_relaxed);
  if (!flight) return;
  for (const auto& m : flight->taken.messages) acks_.Ack(options_.sink_index, m->ticket);
  queue_.Complete(std::move(flight->taken));
  Pump();
}

}  // namespace sluice::pipeline
