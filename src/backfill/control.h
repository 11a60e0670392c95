// What the management API (and through it the CLI) asks of backfills. Kept
// free of Postgres and pipeline types so that the API routes depend on this
// header only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "state/backfill_record.h"

namespace sluice::backfill {

struct BackfillRequest {
  std::string sink;
  std::string table_schema = "public";
  std::string table_name;
  std::string sort_column;                    // empty: the primary key
  std::optional<std::string> start_position;  // rows with sort column >= this
  std::string filter;                         // SQL expression; empty: every row
};

enum class ControlError : unsigned char {
  kNone,
  kNotFound,     // 404: no such sink or backfill
  kInvalid,      // 400: the request cannot work (no such table, bad sort column, ...)
  kConflict,     // 409: not in a state that allows it
  kUnavailable,  // 503: Postgres cannot be reached now, or shutting down
  kInternal,     // 500: the state store failed
};

struct ControlOutcome {
  ControlError error = ControlError::kNone;
  std::string field;  // for kInvalid: the request field at fault, if one is
  std::string message;
  std::vector<state::BackfillRecord> backfills;  // the result, when no error

  bool ok() const { return error == ControlError::kNone; }
  static ControlOutcome Error(ControlError error, std::string message, std::string field = {}) {
    ControlOutcome o;
    o.error = error;
    o.message = std::move(message);
    o.field = std::move(field);
    return o;
  }
};

// Runs exactly once, on a thread of the backfill manager.
using ControlDone = std::function<void(ControlOutcome)>;

// Thread-safe. List and Get answer at once from memory; the others run on
// the manager's control thread (they query Postgres or wait for a worker to
// stop) and call `done` when finished.
class BackfillControl {
 public:
  virtual ~BackfillControl() = default;
  virtual ControlOutcome List(const std::string& sink) = 0;
  virtual ControlOutcome Get(const std::string& sink, int64_t id) = 0;
  virtual void Start(BackfillRequest request, ControlDone done) = 0;
  virtual void Pause(const std::string& sink, int64_t id, ControlDone done) = 0;
  virtual void Resume(const std::string& sink, int64_t id, ControlDone done) = 0;
  virtual void Cancel(const std::string& sink, int64_t id, ControlDone done) = 0;
};

}  // namespace sluice::backfill
