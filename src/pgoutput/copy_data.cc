#include "pgoutput/copy_data.h"

#include <string>

#include "pgoutput/messages.h"

namespace sluice::pgoutput {
namespace {

uint64_t LoadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

constexpr size_t kXLogDataHeaderSize = 1 + 8 + 8 + 8;
constexpr size_t kKeepaliveSize = 1 + 8 + 8 + 1;

Status Truncated(const char* what, size_t need, size_t have) {
  return Status::Permanent(std::string("replication protocol: truncated ") + what + ": needs " +
                           std::to_string(need) + " bytes, got " + std::to_string(have));
}

}  // namespace

Result<CopyDataMessage> ParseCopyData(std::string_view bytes) {
  if (bytes.empty()) return Status::Permanent("replication protocol: empty CopyData message");
  const char* p = bytes.data();
  switch (bytes[0]) {
    case 'w': {
      if (bytes.size() < kXLogDataHeaderSize) {
        return Truncated("XLogData header", kXLogDataHeaderSize, bytes.size());
      }
      XLogData m;
      m.wal_start = LoadU64(p + 1);
      m.wal_end = LoadU64(p + 9);
      m.send_time_us = PostgresToUnixUs(static_cast<int64_t>(LoadU64(p + 17)));
      m.payload = bytes.substr(kXLogDataHeaderSize);
      return CopyDataMessage(m);
    }
    case 'k': {
      if (bytes.size() < kKeepaliveSize) {
        return Truncated("primary keepalive", kKeepaliveSize, bytes.size());
      }
      if (bytes.size() > kKeepaliveSize) {
        return Status::Permanent("replication protocol: primary keepalive has " +
                                 std::to_string(bytes.size() - kKeepaliveSize) + " trailing bytes");
      }
      PrimaryKeepalive m;
      m.wal_end = LoadU64(p + 1);
      m.send_time_us = PostgresToUnixUs(static_cast<int64_t>(LoadU64(p + 9)));
      m.reply_requested = p[17] != 0;
      return CopyDataMessage(m);
    }
    default: {
      auto type = static_cast<unsigned char>(bytes[0]);
      return Status::Permanent(
          "replication protocol: unknown CopyData message type " + std::to_string(type) +
          (type >= 0x20 && type < 0x7F ? std::string(" '") + bytes[0] + "'" : std::string()));
    }
  }
}

std::string EncodeStandbyStatusUpdate(Lsn written, Lsn flushed, Lsn applied, int64_t now_unix_us,
                                      bool reply_requested) {
  std::string out;
  out.reserve(1 + 8 * 4 + 1);
  out.push_back('r');
  AppendU64(out, written);
  AppendU64(out, flushed);
  AppendU64(out, applied);
  AppendU64(out, static_cast<uint64_t>(UnixToPostgresUs(now_unix_us)));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

}  // namespace sluice::pgoutput
