// Change -> message JSON (DESIGN §2). The part every sink shares (record,
// changes, action, metadata up to transaction_annotations) is rendered once
// per change; each sink appends its own `sink` and `database` objects.
#pragma once

#include <string>
#include <vector>

#include "source/change.h"

namespace sluice::pipeline {

// Appends the shared prefix: `{"record":...,...,"transaction_annotations":...,`
// (an open metadata object, ready for the sink suffix).
void RenderChangePrefix(const source::Change& change, std::string& out);

// Appends the "record" object of a change that has a new row (insert, update,
// read): {"column":value,...}.
void RenderRecord(const source::Change& change, std::string& out);

// Appends the "record" object of a row change (a delete's is its old row) to
// `record` and, for an update, its "changes" object to `changes`: the parts
// of the message that do not depend on the commit.
void RenderRecordAndChanges(const source::Change& change, std::string& record,
                            std::string& changes);

// The sink-specific end: `"sink":{...},"database":{...}}}`. Precomputed once
// per sink.
std::string RenderSinkSuffix(const std::string& sink_id, const std::string& sink_name,
                             const std::vector<std::pair<std::string, std::string>>& annotations,
                             const std::string& database_name);

// base64("<commit_lsn>:<commit_idx>")
std::string IdempotencyKey(Position position);
void AppendIdempotencyKey(std::string& out, Position position);

// "2026-11-21T10:00:00.123456Z"
std::string FormatCommitTimestamp(int64_t unix_us);

// A stable UUID-formatted id for a sink name.
std::string SinkId(const std::string& sink_name);

}  // namespace sluice::pipeline
