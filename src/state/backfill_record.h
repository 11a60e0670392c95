// A backfill as the state store keeps it (DESIGN §4, §6): what to read, how
// far it got (the keyset cursor after the last page whose rows every sink
// acknowledged) and its progress.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::state {

enum class BackfillState : unsigned char { kRunning, kPaused, kCompleted, kCancelled, kFailed };

inline const char* BackfillStateName(BackfillState state) {
  switch (state) {
    case BackfillState::kRunning:
      return "running";
    case BackfillState::kPaused:
      return "paused";
    case BackfillState::kCompleted:
      return "completed";
    case BackfillState::kCancelled:
      return "cancelled";
    case BackfillState::kFailed:
      return "failed";
  }
  return "failed";
}

inline std::optional<BackfillState> ParseBackfillState(std::string_view name) {
  for (BackfillState s :
       {BackfillState::kRunning, BackfillState::kPaused, BackfillState::kCompleted,
        BackfillState::kCancelled, BackfillState::kFailed}) {
    if (name == BackfillStateName(s)) return s;
  }
  return std::nullopt;
}

// Completed, cancelled and failed backfills do not run again by themselves.
inline bool IsTerminal(BackfillState state) {
  return state == BackfillState::kCompleted || state == BackfillState::kCancelled ||
         state == BackfillState::kFailed;
}

struct BackfillRecord {
  int64_t id = 0;  // assigned by CreateBackfill, increasing
  std::string sink;
  std::string table_schema;
  std::string table_name;
  std::string sort_column;                    // empty: the primary key
  std::optional<std::string> start_position;  // rows with sort column >= this (text form)
  std::string filter;                         // SQL expression; empty: every row
  BackfillState state = BackfillState::kRunning;
  // JSON array of the text values of the order columns (sort column, then the
  // primary key) of the last row read; nullopt before the first page.
  std::optional<std::string> cursor;
  uint64_t rows_read = 0;
  uint64_t rows_emitted = 0;
  int64_t estimated_total = -1;  // -1: not estimated yet
  int64_t created_at_ms = 0;     // Unix ms
  int64_t updated_at_ms = 0;
  std::optional<int64_t> completed_at_ms;
  std::string last_error;
  bool initial = false;  // created from a sink's initial_backfill
};

}  // namespace sluice::state
