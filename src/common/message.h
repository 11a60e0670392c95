// A change rendered for one sink: what flows from the pipeline into sinks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/lsn.h"

namespace sluice {

enum class Action : unsigned char { kInsert, kUpdate, kDelete, kRead, kTruncate };

const char* ActionName(Action action);

// Where a routing function sent a message (DESIGN §5): sink keys such as
// path, method, topic, key, subject, queue, and extra headers. Each sink's
// README says which keys it reads.
struct MessageRoute {
  std::vector<std::pair<std::string, std::string>> keys;
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of `key`, or null when the function did not set it.
  const std::string* Find(const std::string& key) const {
    for (const auto& [k, v] : keys) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool operator==(const MessageRoute&) const = default;
};

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
  std::shared_ptr<const MessageRoute> route;  // set by a routing function; else null
  // Set when the sink's SQL filter could not be evaluated for this change
  // (e.g. a cast of a column value failed): the message is not sent but held
  // as failed with this error until retried (sent) or discarded through the
  // API.
  std::string hold_error;

  // Bytes this message accounts for in queue caps.
  size_t ByteSize() const {
    return sizeof(Message) + table_schema.size() + table_name.size() + group_key.size() +
           idempotency_key.size() + json.size();
  }
};

}  // namespace sluice
