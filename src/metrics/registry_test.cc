#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <memory>

namespace sluice::metrics {
namespace {

TEST(RegistryTest, EmptyRegistryRendersNothing) { EXPECT_EQ(Registry().RenderText(), ""); }

TEST(RegistryTest, CounterWithoutLabelsRendersHelpTypeAndValue) {
  Registry registry;
  registry.AddCounter("sluice_things_total", "Things seen.").Add({}).Increment(3);
  EXPECT_EQ(registry.RenderText(),
            "# HELP sluice_things_total Things seen.\n"
            "# TYPE sluice_things_total counter\n"
            "sluice_things_total 3\n");
}

TEST(RegistryTest, FamilyWithoutSeriesIsNotRendered) {
  Registry registry;
  registry.AddCounter("sluice_unused_total", "Nothing yet.");
  registry.AddGauge("sluice_level", "Level.").Add({}).Set(1);
  EXPECT_EQ(registry.RenderText(),
            "# HELP sluice_level Level.\n"
            "# TYPE sluice_level gauge\n"
            "sluice_level 1\n");
}

TEST(RegistryTest, FamiliesSortByNameSeriesByLabelsLabelsByName) {
  Registry registry;
  auto& b = registry.AddCounter("b_total", "B.");
  b.Add({{"sink", "zeta"}, {"database", "app"}}).Increment();
  b.Add({{"sink", "alpha"}, {"database", "app"}}).Increment(2);
  registry.AddGauge("a", "A.").Add({}).Set(0.5);
  EXPECT_EQ(registry.RenderText(),
            "# HELP a A.\n"
            "# TYPE a gauge\n"
            "a 0.5\n"
            "# HELP b_total B.\n"
            "# TYPE b_total counter\n"
            "b_total{database=\"app\",sink=\"alpha\"} 2\n"
            "b_total{database=\"app\",sink=\"zeta\"} 1\n");
}

TEST(RegistryTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.AddCounter("x_total", "Line one\nback\\slash \"quoted\"")
      .Add({{"sink", "we\"ird\\name\n"}})
      .Increment();
  EXPECT_EQ(registry.RenderText(),
            "# HELP x_total Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE x_total counter\n"
            "x_total{sink=\"we\\\"ird\\\\name\\n\"} 1\n");
}

TEST(RegistryTest, HistogramRendersCumulativeBucketsInfSumAndCount) {
  Registry registry;
  Histogram& h = registry.AddHistogram("lat_seconds", "Latency.", {0.1, 1}).Add({{"sink", "s"}});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(registry.RenderText(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{sink=\"s\",le=\"0.1\"} 1\n"
            "lat_seconds_bucket{sink=\"s\",le=\"1\"} 3\n"
            "lat_seconds_bucket{sink=\"s\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{sink=\"s\"} 8.05\n"
            "lat_seconds_count{sink=\"s\"} 4\n");
}

TEST(RegistryTest, HistogramWithoutLabelsHasOnlyLe) {
  Registry registry;
  registry.AddHistogram("h", "H.", {1}).Add({});
  EXPECT_EQ(registry.RenderText(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

TEST(RegistryTest, DefaultHistogramBucketsSpanOneMillisecondToOneMinute) {
  Registry registry;
  registry.AddHistogram("d_seconds", "D.").Add({});
  const std::string text = registry.RenderText();
  EXPECT_NE(text.find("d_seconds_bucket{le=\"0.001\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{le=\"0.0025\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{le=\"60\"} 0\n"), std::string::npos);
}

TEST(RegistryTest, CallbackIsEvaluatedAtEachScrape) {
  Registry registry;
  double depth = 1;
  registry.AddGauge("depth", "Depth.").AddCallback({{"stream", "s"}}, [&] { return depth; });
  EXPECT_NE(registry.RenderText().find("depth{stream=\"s\"} 1\n"), std::string::npos);
  depth = 42;
  EXPECT_NE(registry.RenderText().find("depth{stream=\"s\"} 42\n"), std::string::npos);
}

TEST(RegistryTest, CounterCallbackRendersAsCounter) {
  Registry registry;
  registry.AddCounter("ext_total", "External.").AddCallback({}, [] { return 7.0; });
  EXPECT_EQ(registry.RenderText(),
            "# HELP ext_total External.\n"
            "# TYPE ext_total counter\n"
            "ext_total 7\n");
}

TEST(RegistryTest, RemovedCallbackIsNeverCalledAgain) {
  Registry registry;
  auto owned = std::make_shared<int>(5);
  auto& family = registry.AddGauge("g", "G.");
  int calls = 0;
  family.AddCallback({{"k", "v"}}, [&calls, raw = owned.get()] {
    ++calls;
    return static_cast<double>(*raw);
  });
  EXPECT_EQ(registry.RenderText(), "# HELP g G.\n# TYPE g gauge\ng{k=\"v\"} 5\n");
  family.Remove({{"k", "v"}});
  owned.reset();  // what the callback pointed at is gone
  EXPECT_EQ(registry.RenderText(), "");
  EXPECT_EQ(calls, 1);
}

TEST(RegistryTest, SameNameAndTypeReturnsTheSameFamilyAndSeries) {
  Registry registry;
  CounterFamily& first = registry.AddCounter("c_total", "C.");
  CounterFamily& second = registry.AddCounter("c_total", "ignored");
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(&first.Add({{"a", "1"}}), &second.Add({{"a", "1"}}));
  EXPECT_EQ(first.help(), "C.");
}

TEST(RegistryDeathTest, SameNameWithAnotherTypeAborts) {
  Registry registry;
  registry.AddCounter("m", "M.");
  EXPECT_DEATH(registry.AddGauge("m", "M."), "registered as counter and as gauge");
}

TEST(RegistryDeathTest, InvalidMetricNameAborts) {
  Registry registry;
  EXPECT_DEATH(registry.AddCounter("bad-name", "B."), "invalid metric name");
}

TEST(RegistryDeathTest, LeLabelOnHistogramAborts) {
  Registry registry;
  auto& family = registry.AddHistogram("h", "H.", {1});
  EXPECT_DEATH(family.Add({{"le", "1"}}), "invalid label name \"le\"");
}

TEST(RegistryDeathTest, HistogramReRegisteredWithOtherBucketsAborts) {
  Registry registry;
  registry.AddHistogram("h", "H.", {1});
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {2}), "different buckets");
}

}  // namespace
}  // namespace sluice::metrics
