// Config for sink factory tests: one database "app" and one sink, loaded
// without environment variables. Header-only, for tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "sinks/registry.h"

namespace sluice::testing {

// Sink `sink_name` with `destination` (a YAML flow map), `sink_lines`
// (indented YAML of the sink, before its destination) and `before_sinks`
// (top-level YAML between databases and sinks). `types`: the sink types the
// loader knows. `factory`, when given, validates the destinations of its own
// type.
inline config::LoadResult LoadOneSinkConfig(const std::string& sink_name,
                                            const std::string& destination,
                                            std::vector<std::string> types,
                                            const SinkFactory* factory,
                                            const std::string& sink_lines = "",
                                            const std::string& before_sinks = "") {
  const std::string yaml =
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://sluice@localhost/app\n"
      "    slot: {name: sluice_slot}\n"
      "    publication: {name: sluice_pub}\n" +
      before_sinks +
      "sinks:\n"
      "  - name: " +
      sink_name +
      "\n"
      "    database: app\n" +
      sink_lines + "    destination: " + destination + "\n";
  config::LoadOptions options;
  options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  options.sink_types = std::move(types);
  if (factory != nullptr) {
    options.validate_destination = [factory](const config::SinkConfig& sink,
                                             const config::Config& config,
                                             config::ConfigErrors& errors) {
      if (sink.destination_type == factory->type) factory->validate(sink, config, errors);
    };
  }
  return config::LoadConfigString(yaml, "sluice.yaml", options);
}

}  // namespace sluice::testing
