#include "common/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace sluice {
namespace {

TEST(BackoffTest, GrowsExponentiallyWithinJitterBounds) {
  BackoffPolicy p{std::chrono::milliseconds(100), std::chrono::milliseconds(10000), 2.0};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100; ++i) {
    auto d1 = BackoffDelay(p, 1, rng).count();
    EXPECT_GE(d1, 50);
    EXPECT_LE(d1, 100);
    auto d4 = BackoffDelay(p, 4, rng).count();
    EXPECT_GE(d4, 400);
    EXPECT_LE(d4, 800);
  }
}

TEST(BackoffTest, CapsAtMaxEvenForHugeAttemptCounts) {
  BackoffPolicy p{std::chrono::milliseconds(100), std::chrono::milliseconds(5000), 2.0};
  std::mt19937_64 rng(7);
  auto d = BackoffDelay(p, 1000000, rng).count();
  EXPECT_GE(d, 2500);
  EXPECT_LE(d, 5000);
}

TEST(BackoffTest, JitterSpreadsDelays) {
  BackoffPolicy p{std::chrono::milliseconds(1000), std::chrono::milliseconds(1000), 2.0};
  std::mt19937_64 rng(1);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(BackoffDelay(p, 1, rng).count());
  EXPECT_GT(seen.size(), 10u);
}

}  // namespace
}  // namespace sluice
