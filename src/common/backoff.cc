#include "common/backoff.h"

#include <algorithm>
#include <cmath>

namespace sluice {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, uint32_t attempt,
                                       std::mt19937_64& rng) {
  if (attempt == 0) attempt = 1;
  double base =
      static_cast<double>(policy.initial.count()) *
      std::pow(policy.multiplier, static_cast<double>(std::min<uint32_t>(attempt, 64) - 1));
  base = std::min(base, static_cast<double>(policy.max.count()));
  base = std::max(base, 1.0);
  std::uniform_real_distribution<double> dist(base / 2, base);
  return std::chrono::milliseconds(static_cast<int64_t>(dist(rng)));
}

}  // namespace sluice
