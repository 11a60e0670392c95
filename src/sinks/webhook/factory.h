// The `webhook` sink type: config validation and creation.
#pragma once

#include <optional>

#include "config/config.h"
#include "config/node.h"
#include "sinks/registry.h"
#include "sinks/webhook/webhook_sink.h"

namespace sluice {

SinkFactory WebhookSinkFactory();

// Reads `sink.destination` (a `type: webhook` map) against `config` (for
// http_endpoint references). Appends every problem to `errors`; returns the
// options only when there was none.
std::optional<WebhookSinkOptions> ReadWebhookDestination(const config::SinkConfig& sink,
                                                         const config::Config& config,
                                                         config::ConfigErrors& errors);

}  // namespace sluice
