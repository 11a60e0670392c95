#pragma once

#include "sinks/registry.h"

namespace sluice {

// destination: {type: http_pull, ack_wait_ms: 30000, max_ack_pending: 10000, max_waiting: 100,
//               flush_interval_ms: 100}
SinkFactory HttpPullSinkFactory();

}  // namespace sluice
