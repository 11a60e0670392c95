// The backfill API (DESIGN §4, §7), over the backfill managers:
//
//   GET  /api/sinks/{name}/backfills                 -> 200 {"data": [backfill, ...]}
//   POST /api/sinks/{name}/backfills                 -> 201 {"data": backfill}
//        {"table": "schema.table", "sort_column"?, "start_position"?, "filter"?}
//        ("schema" may be given apart, for names with a dot)
//   GET  /api/sinks/{name}/backfills/{id}            -> 200 {"data": backfill}
//   POST /api/sinks/{name}/backfills/{id}/pause      -> 200 {"data": backfill}
//   POST /api/sinks/{name}/backfills/{id}/resume     -> 200 {"data": backfill}
//   POST /api/sinks/{name}/backfills/{id}/cancel     -> 200 {"data": backfill}
//
// A backfill is {"id", "sink", "table", "table_schema", "table_name",
// "sort_column", "start_position", "filter", "state", "initial",
// "estimated_total", "rows_read", "rows_emitted", "cursor", "created_at",
// "updated_at", "completed_at", "last_error"}.
//
// Errors: unknown sink or backfill 404 not_found; a bad request (no such
// table, no primary key, a bad sort column or start position, a bad filter)
// 400 invalid_argument with the field; a state that does not allow the
// action (pausing a completed backfill, starting a second one of a table
// while one runs) 409 conflict; Postgres unreachable 503 unavailable.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "api/router.h"
#include "backfill/control.h"
#include "common/status.h"

namespace sluice::api {

// The backfills of the sink named `sink`; nullptr when there is no such sink.
using BackfillLookup = std::function<backfill::BackfillControl*(const std::string& sink)>;

Status AddBackfillRoutes(Router& router, BackfillLookup lookup);

// A backfill as the API shows it.
nlohmann::json BackfillJson(const state::BackfillRecord& record);

}  // namespace sluice::api
