// Every config in examples/ passes `sluice config check` as shipped, with the
// environment variables its comments tell the user to set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "harness.h"

namespace sluice::itest {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> ExampleConfigs() {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(SLUICE_EXAMPLES_DIR)) {
    if (entry.is_regular_file() &&
        (entry.path().extension() == ".yaml" || entry.path().extension() == ".yml")) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(ExamplesTest, TheShippedExamplesAreThere) {
  std::vector<std::string> names;
  for (const std::string& path : ExampleConfigs()) {
    names.push_back(std::filesystem::path(path).filename().string());
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"file.yaml", "http-pull.yaml", "multi-sink.yaml",
                                              "stdout.yaml", "webhook.yaml"}));
}

TEST(ExamplesTest, EveryExamplePassesConfigCheck) {
  // What the examples ask the user to export. DATABASE_URL and the other
  // ${VAR:-default} references stay unset, so their defaults are checked.
  ::setenv("PGPASSWORD", "s3cret with spaces", 1);
  ::setenv("HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
  for (const char* name : {"DATABASE_URL", "BILLING_HOOK_URL", "ORDERS_API_TOKEN",
                           "SLUICE_DATA_DIR", "SLUICE_LOG_LEVEL", "SLUICE_TOKEN"}) {
    ::unsetenv(name);
  }
  const std::vector<std::string> paths = ExampleConfigs();
  ASSERT_FALSE(paths.empty()) << "no configs in " << SLUICE_EXAMPLES_DIR;
  for (const std::string& path : paths) {
    std::string output;
    const int code = RunSluice({"config", "check", path}, &output);
    EXPECT_EQ(code, 0) << output;
    EXPECT_THAT(output, HasSubstr(path + ": ok")) << output;
  }
}

TEST(ExamplesTest, AnExampleNeedsItsSecretsFromTheEnvironment) {
  // The signing secret is not in the file: without HOOK_SECRET the check
  // fails and names the variable.
  ::unsetenv("HOOK_SECRET");
  ::setenv("PGPASSWORD", "s3cret", 1);
  std::string output;
  const int code =
      RunSluice({"config", "check", std::string(SLUICE_EXAMPLES_DIR) + "/webhook.yaml"}, &output);
  EXPECT_NE(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("HOOK_SECRET"));
}

}  // namespace
}  // namespace sluice::itest
