#pragma once

#include "sinks/registry.h"

namespace sluice {

// destination: {type: stdout}
SinkFactory StdoutSinkFactory();

}  // namespace sluice
