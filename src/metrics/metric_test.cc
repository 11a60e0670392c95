#include "metrics/metric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace sluice::metrics {
namespace {

TEST(CounterTest, ConcurrentIncrementsAreNotLost) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) counter.Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.Value(), 40000u);
}

TEST(GaugeTest, AddAcceptsNegativeDeltasAndSetOverrides) {
  Gauge gauge;
  gauge.Add(5);
  gauge.Add(-2.5);
  EXPECT_EQ(gauge.Value(), 2.5);
  gauge.Set(-1);
  EXPECT_EQ(gauge.Value(), -1);
}

TEST(HistogramTest, ValueOnABoundCountsInThatBucket) {
  Histogram histogram({1, 2});
  histogram.Observe(1);    // le="1"
  histogram.Observe(1.5);  // le="2"
  histogram.Observe(2);    // le="2"
  histogram.Observe(3);    // +Inf only
  const Histogram::Snapshot s = histogram.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.sum, 7.5);
}

TEST(HistogramTest, NegativeValueGoesIntoTheFirstBucket) {
  Histogram histogram({1});
  histogram.Observe(-3);
  EXPECT_EQ(histogram.Read().cumulative, (std::vector<uint64_t>{1, 1}));
}

TEST(HistogramTest, NanIsIgnored) {
  Histogram histogram({1});
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  const Histogram::Snapshot s = histogram.Read();
  EXPECT_EQ(s.count, 0u);
  EXPECT_FALSE(std::isnan(s.sum));
}

TEST(HistogramTest, ConcurrentObservationsAreNotLost) {
  Histogram histogram(LatencySecondsBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) histogram.Observe(0.5);
    });
  }
  for (auto& t : threads) t.join();
  const Histogram::Snapshot s = histogram.Read();
  EXPECT_EQ(s.count, 20000u);
  EXPECT_EQ(s.sum, 10000);
}

TEST(HistogramDeathTest, UnsortedBoundsAbort) {
  EXPECT_DEATH(Histogram({2, 1}), "strictly increasing");
}

TEST(HistogramDeathTest, InfiniteBoundAborts) {
  EXPECT_DEATH(Histogram({1, std::numeric_limits<double>::infinity()}), "finite");
}

}  // namespace
}  // namespace sluice::metrics
