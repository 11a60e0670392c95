// A change rendered for one sink: what flows from the pipeline into sinks.
#pragma once

#include <cstdint>
#include <string>

#include "common/lsn.h"

namespace sluice {

enum class Action : unsigned char { kInsert, kUpdate, kDelete, kRead, kTruncate };

const char* ActionName(Action action);

// Immutable once queued. `json` is the complete message object of DESIGN §2
// (or what the sink's transform made of it); the other fields are there so
// sinks can route, key and header without parsing JSON.
struct Message {
  Position position;  // (commit_lsn, commit_idx)
  Action action = Action::kInsert;
  int64_t commit_time_us = 0;  // Unix epoch microseconds of the commit.
  std::string table_schema;
  std::string table_name;
  std::string group_key;        // Messages with equal keys are delivered in order.
  std::string idempotency_key;  // base64("<commit_lsn>:<commit_idx>")
  std::string json;

  // Bytes this message accounts for in queue caps.
  size_t ByteSize() const {
    return sizeof(Message) + table_schema.size() + table_name.size() + group_key.size() +
           idempotency_key.size() + json.size();
  }
};

}  // namespace sluice
