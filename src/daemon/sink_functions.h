// A sink's SQL filter and Lua functions (DESIGN §5), compiled for the
// pipeline, and their validation at config load (`sluice config check`).
#pragma once

#include <functional>

#include "common/message.h"
#include "common/status.h"
#include "config/config.h"
#include "config/node.h"
#include "source/change.h"

namespace sluice::daemon {

struct SinkProcessing {
  // The SQL filter, for the router (reader thread); empty: none.
  std::function<Result<bool>(const source::Change&)> matches;
  // Lua filter, routing and transform, in that order, for the sink runner
  // (its strand); empty: none.
  std::function<Result<bool>(Message&)> process;
};

// True when the sink's `filter:` names a function (of type filter) rather
// than being a SQL expression.
bool FilterIsFunction(const config::SinkConfig& sink, const config::Config& config);

// Compiles what `sink` uses. Each call makes its own Lua states.
Result<SinkProcessing> BuildSinkProcessing(const config::SinkConfig& sink,
                                           const config::Config& config);

// Compiles every function and every SQL filter (sinks and initial
// backfills), reporting each error at its place in the file.
void ValidateFiltersAndFunctions(const config::Config& config, config::ConfigErrors& errors);

}  // namespace sluice::daemon
