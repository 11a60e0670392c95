// Exponential backoff with full jitter, shared by reconnects and sink retries.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace sluice {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
};

// Delay before retry number `attempt` (1 = first retry): a uniformly random
// duration in [base/2, base] where base = min(max, initial * multiplier^(attempt-1)).
// Half jitter keeps a floor so that a storm of retries still spreads out but
// never hammers a peer with near-zero delays.
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, uint32_t attempt,
                                       std::mt19937_64& rng);

}  // namespace sluice
