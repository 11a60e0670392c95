// sluice.yaml -> Config. Reads the file, interpolates ${VAR} and
// ${VAR:-default} in scalars, and validates strictly: unknown keys, wrong types,
// missing fields, bad values and bad references are all reported (not just the
// first), each with file, line, column, key path and what is allowed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/node.h"

namespace sluice::config {

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Validates one sink's `destination` (already known to have a registered
// type). Appends errors; never throws.
using DestinationValidator =
    std::function<void(const SinkConfig& sink, const Config& config, ConfigErrors& errors)>;

struct LoadOptions {
  EnvLookup env = ProcessEnv();
  // Registered sink types, for "destination.type" errors ("allowed: ...").
  std::vector<std::string> sink_types;
  // Called for every sink whose type is in sink_types.
  DestinationValidator validate_destination;
  // Called once after everything else (SQL filters, Lua functions).
  std::function<void(const Config& config, ConfigErrors& errors)> validate_config;
};

struct LoadResult {
  std::optional<Config> config;  // set iff errors is empty
  ConfigErrors errors;
};

LoadResult LoadConfigFile(const std::string& path, const LoadOptions& options);
LoadResult LoadConfigString(std::string_view yaml, const std::string& file_name,
                            const LoadOptions& options);

// "file:line:col: path: message" lines, one per error.
std::string FormatErrors(const ConfigErrors& errors);

}  // namespace sluice::config
