// pgoutput bytes -> messages. Pure: no I/O, no allocation beyond the result,
// never trusts its input (every read is bounds-checked; malformed input is a
// permanent error naming the message type and offset).
#pragma once

#include <string_view>

#include "common/status.h"
#include "pgoutput/messages.h"

namespace sluice::pgoutput {

// Decodes one logical replication message (the payload of an XLogData).
// Stateful only in one way the protocol requires: inside a streamed block
// (between Stream Start and Stream Stop) data messages carry a leading xid.
// Not thread-safe.
class Decoder {
 public:
  Result<Message> Decode(std::string_view bytes);

  bool in_stream() const { return in_stream_; }
  // For replaying messages that were buffered from a streamed block.
  void set_in_stream(bool in_stream) { in_stream_ = in_stream; }

 private:
  bool in_stream_ = false;
};

}  // namespace sluice::pgoutput
