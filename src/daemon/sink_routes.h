// The management API's sink routes: GET /api/sinks, GET /api/sinks/{name}
// and the failed-message store (list, retry, discard). docs/api.md and
// docs/openapi.yaml describe them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/router.h"
#include "config/config.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/router.h"
#include "pipeline/sink_queue.h"
#include "pipeline/sink_runner.h"
#include "source/replicator.h"
#include "state/state_store.h"

namespace sluice::daemon {

// What the routes see of one sink. The pointers outlive the server.
struct SinkView {
  const config::SinkConfig* config = nullptr;
  std::string database;
  size_t index = 0;  // in its database's router and AckTracker
  pipeline::SinkQueue* queue = nullptr;
  std::shared_ptr<pipeline::SinkRunner> runner;
  const pipeline::Router* router = nullptr;
  const pipeline::AckTracker* acks = nullptr;
  const source::Replicator* replicator = nullptr;
};

Status AddSinkRoutes(api::Router& router, std::vector<SinkView> sinks, state::StateStore& store);

}  // namespace sluice::daemon
