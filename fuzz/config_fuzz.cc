// libFuzzer target: sluice.yaml loading (YAML parsing, interpolation, schema
// validation) on arbitrary bytes. Loading must return errors, never crash,
// throw or hang, and set the config exactly when there are no errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "config/fields.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::config;
  LoadOptions options;
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "A") return "1";
    if (name == "E") return "";
    if (name == "P") return "it's a \\ secret";
    return std::nullopt;
  };
  options.sink_types = {"file", "stdout", "webhook"};
  options.validate_destination = [](const SinkConfig& sink, const Config& config,
                                    ConfigErrors& errors) {
    MapReader reader(sink.destination, errors);
    (void)reader.String("type");
    if (auto endpoint = reader.String("http_endpoint")) (void)config.FindHttpEndpoint(*endpoint);
    (void)reader.Int("timeout_ms", false, 1, 60000);
    (void)reader.Bool("pretty");
    (void)reader.StringMap("headers");
    (void)reader.StringList("paths");
    reader.Finish();
  };
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult result = LoadConfigString(text, "fuzz.yaml", options);
  if (result.config.has_value() == !result.errors.empty()) std::abort();
  (void)FormatErrors(result.errors);
  return 0;
}
