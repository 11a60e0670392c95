// The three metric kinds Sluice exports: Counter, Gauge and Histogram. Each
// object is one time series; families, labels and the text format live in
// registry.h.
//
// Thread-safety and cost: every method may be called from any thread. Updates
// are lock-free relaxed atomics (a Counter increment is one fetch_add, a
// Histogram observation a bucket search plus two atomic adds), so they are safe
// on the data path. Reads for a scrape see each atomic at some recent value; a
// scrape is not a consistent snapshot across series (Prometheus tolerates
// this).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace sluice::metrics {

// A monotonically increasing integer (messages, bytes, attempts).
class Counter {
 public:
  void Increment(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (queue bytes, connections, lag).
class Gauge {
 public:
  void Set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  // `delta` may be negative.
  void Add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Upper bounds (seconds) for latencies from one millisecond to one minute.
// Commit-to-delivery latency spans this range: sub-millisecond pipelines are
// all "fast", and anything beyond a minute is an incident, not a latency.
inline const std::vector<double>& LatencySecondsBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1,      2.5,   5,    10,    30,   60};
  return kBuckets;
}

// Counts observations into fixed buckets. Bucket i counts values v with
// bounds[i-1] < v <= bounds[i] (Prometheus "le" semantics); one more bucket
// counts values above the last bound. NaN observations are ignored (they
// would poison the sum forever).
class Histogram {
 public:
  // `bounds` must be finite and strictly increasing (a programmer error
  // otherwise: the process aborts with a message). +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value) noexcept;

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  // Buckets are read once each and made cumulative, so the +Inf bucket always
  // equals count; sum may include an observation the buckets do not yet.
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

}  // namespace sluice::metrics
