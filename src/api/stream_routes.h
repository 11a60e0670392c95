// The pull-queue API (DESIGN §7): POST /api/streams/{name}/receive, /ack and
// /nack over the PullQueues in a StreamRegistry.
//
//   receive {"batch_size": 1..1000 (10), "wait_for": 0..300000 ms (0)}
//     -> 200 {"data": [{"ack_id": "...", "deliver_count": 1, ...message}]}
//   ack  {"ack_ids": [...]}                  -> 200 {"data": {"acked": n, "failed": [...]}}
//   nack {"ack_ids": [...], "delay_ms": 0..}  -> 200 {"data": {"nacked": n, "failed": [...]}}
//
// An unknown stream is 404; a bad argument 400; too many waiting receives 429.
// Ack ids that are unknown, already used or expired are listed in "failed",
// never counted as success.
#pragma once

#include "api/router.h"
#include "common/status.h"
#include "sinks/http_pull/stream_registry.h"

namespace sluice::api {

Status AddStreamRoutes(Router& router, StreamRegistry& streams);

}  // namespace sluice::api
