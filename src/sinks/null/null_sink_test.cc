#include "sinks/null/null_sink.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "sinks/null/factory.h"

namespace sluice {
namespace {

config::LoadResult Load(const std::string& destination) {
  const std::string yaml =
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://sluice@localhost/app\n"
      "    slot: {name: sluice_slot}\n"
      "    publication: {name: sluice_pub}\n"
      "sinks:\n"
      "  - name: drain\n"
      "    destination: " +
      destination + "\n";
  config::LoadOptions options;
  options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  options.sink_types = {"null", "stdout"};
  options.validate_destination = [](const config::SinkConfig& sink, const config::Config& config,
                                    config::ConfigErrors& errors) {
    if (sink.destination_type == "null") NullSinkFactory().validate(sink, config, errors);
  };
  return config::LoadConfigString(yaml, "sluice.yaml", options);
}

TEST(NullSinkTest, WriteAcknowledgesBeforeReturning) {
  NullSink sink;
  Message message;
  message.json = R"({"record":{"id":1}})";
  Batch batch;
  batch.messages = {&message, &message};
  int calls = 0;
  sink.Write(batch, [&calls](Status status) {
    EXPECT_TRUE(status.ok());
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST(NullSinkTest, QuotedNullIsTheTypeName) {
  auto result = Load(R"({type: "null"})");
  ASSERT_TRUE(result.config) << config::FormatErrors(result.errors);
  EXPECT_EQ(result.config->sinks[0].destination_type, "null");
  SinkContext context;
  context.config = &*result.config;
  context.sink = &result.config->sinks[0];
  auto sink = NullSinkFactory().create(context);
  ASSERT_TRUE(sink.ok());
  EXPECT_NE(sink->get(), nullptr);
}

TEST(NullSinkTest, OtherKeysAreErrors) {
  auto result = Load(R"({type: "null", path: /dev/null})");
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u) << config::FormatErrors(result.errors);
  EXPECT_EQ(result.errors[0].path, "sinks[0].destination.path");
  EXPECT_NE(result.errors[0].message.find("unknown key; allowed: type"), std::string::npos)
      << result.errors[0].message;
}

// An unquoted null is YAML's null value, not the type name: the config must
// be refused (the loader names the problem), never read as some other sink.
TEST(NullSinkTest, UnquotedNullIsRefused) {
  auto result = Load("{type: null}");
  ASSERT_FALSE(result.config);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_EQ(result.errors[0].line, 8) << config::FormatErrors(result.errors);
}

}  // namespace
}  // namespace sluice
