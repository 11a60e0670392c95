#pragma once

#include "sinks/registry.h"

namespace sluice {

// destination: {type: file, path: ./changes.jsonl, fsync: false}
SinkFactory FileSinkFactory();

}  // namespace sluice
