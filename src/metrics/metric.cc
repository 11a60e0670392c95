#include "metrics/metric.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sluice::metrics {

namespace {

std::vector<double> CheckedBounds(std::vector<double> bounds) {
  bool valid = !bounds.empty();
  for (size_t i = 0; valid && i < bounds.size(); ++i) {
    valid = std::isfinite(bounds[i]) && (i == 0 || bounds[i - 1] < bounds[i]);
  }
  if (!valid) {
    std::fprintf(stderr,
                 "metrics: histogram bounds must be finite and strictly increasing "
                 "(programmer error)\n");
    std::abort();
  }
  return bounds;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(CheckedBounds(std::move(bounds))), buckets_(bounds_.size() + 1) {}

void Histogram::Observe(double value) noexcept {
  if (std::isnan(value)) return;
  // First bound >= value: that bucket's "le" includes the value.
  const size_t index = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                           bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(buckets_.size());
  uint64_t running = 0;
  for (const auto& bucket : buckets_) {
    running += bucket.load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

}  // namespace sluice::metrics
