#include "sinks/http_pull/factory.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace sluice {
namespace {

// A config with one database and one http_pull sink with `destination` (a
// YAML flow map), checked by the sink's own validation.
config::LoadResult Load(const std::string& destination) {
  std::string yaml =
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://sluice@localhost/app\n"
      "    slot: {name: sluice_slot}\n"
      "    publication: {name: sluice_pub}\n"
      "sinks:\n"
      "  - name: jobs\n"
      "    database: app\n"
      "    destination: " +
      destination + "\n";
  config::LoadOptions options;
  options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  options.sink_types = {"http_pull"};
  options.validate_destination = [](const config::SinkConfig& sink, const config::Config& config,
                                    config::ConfigErrors& errors) {
    HttpPullSinkFactory().validate(sink, config, errors);
  };
  return config::LoadConfigString(yaml, "sluice.yaml", options);
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
