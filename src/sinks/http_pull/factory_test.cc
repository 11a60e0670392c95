#include "sinks/http_pull/factory.h"

#include <gtest/gtest.h>

#include "sinks/sink_config_for_test.h"

namespace sluice {
namespace {

config::LoadResult Load(const std::string& destination) {
  static const SinkFactory factory = HttpPullSinkFactory();
  return testing::LoadOneSinkConfig("jobs", destination, {"http_pull"}, &factory);
}

TEST(HttpPullConfigTest, EveryKeyInRangeLoads) {
  auto result = Load(
      "{type: http_pull, ack_wait_ms: 100, max_ack_pending: 1, max_waiting: 100000, "
      "flush_interval_ms: 0}");
  ASSERT_TRUE(result.config) << config::FormatErrors(result.errors);
}

TEST(HttpPullConfigTest, OutOfRangeValuesNameTheKeyAndTheRange) {
  auto result = Load("{type: http_pull, ack_wait_ms: 99, flush_interval_ms: 10001}");
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 2u) << config::FormatErrors(result.errors);
  EXPECT_EQ(result.errors[0].path, "sinks[0].destination.ack_wait_ms");
  EXPECT_EQ(result.errors[1].path, "sinks[0].destination.flush_interval_ms");
  EXPECT_NE(result.errors[1].ToString().find("10000"), std::string::npos)
      << result.errors[1].ToString();
}

TEST(HttpPullConfigTest, UnknownKeyListsTheAllowedOnes) {
  auto result = Load("{type: http_pull, flush_every_ms: 5}");
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u) << config::FormatErrors(result.errors);
  const std::string error = result.errors[0].ToString();
  EXPECT_NE(error.find("flush_every_ms"), std::string::npos) << error;
  EXPECT_NE(error.find("flush_interval_ms"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice
