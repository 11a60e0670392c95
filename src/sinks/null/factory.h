#pragma once

#include "sinks/registry.h"

namespace sluice {

// destination: {type: "null"} (quoted: an unquoted null is YAML's null value)
SinkFactory NullSinkFactory();

}  // namespace sluice
