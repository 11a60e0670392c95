// Postgres log sequence numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

using Lsn = uint64_t;

// "16/B374D848" form, as Postgres prints it.
std::string FormatLsn(Lsn lsn);
// Parses "16/B374D848"; nullopt when malformed.
std::optional<Lsn> ParseLsn(std::string_view text);

// A change's place in the stream: commit order, then order inside the
// transaction. Backfilled rows use the position of the watermark they were
// emitted at.
struct Position {
  Lsn commit_lsn = 0;
  uint32_t commit_idx = 0;
  auto operator<=>(const Position&) const = default;
};

}  // namespace sluice
