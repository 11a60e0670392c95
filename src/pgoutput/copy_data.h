// The streaming replication sub-protocol carried in CopyData (Postgres docs
// "Streaming Replication Protocol"): XLogData 'w', Primary keepalive 'k', and
// the Standby status update 'r' that a client sends back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/lsn.h"
#include "common/status.h"

namespace sluice::pgoutput {

struct XLogData {
  Lsn wal_start = 0;
  Lsn wal_end = 0;
  int64_t send_time_us = 0;  // Unix epoch microseconds.
  std::string_view payload;  // A logical replication message.
};

struct PrimaryKeepalive {
  Lsn wal_end = 0;
  int64_t send_time_us = 0;
  bool reply_requested = false;
};

using CopyDataMessage = std::variant<XLogData, PrimaryKeepalive>;

Result<CopyDataMessage> ParseCopyData(std::string_view bytes);

// 'r' message: written/flushed/applied positions, client time (Unix epoch
// microseconds), and whether the server should reply at once.
std::string EncodeStandbyStatusUpdate(Lsn written, Lsn flushed, Lsn applied, int64_t now_unix_us,
                                      bool reply_requested);

}  // namespace sluice::pgoutput
