// The MVCC snapshot of a backfill page query, and whether it sees a
// transaction of the change stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sluice::backfill {

// The MVCC snapshot a page was read with (pg_current_snapshot(): xid8
// values). A transaction that committed in the stream but is still in
// `xip` (or at or above `xmax`) is invisible to the page: its change reaches
// the sink before the page's reads, so the rows it touched must be dropped
// from the page, however early it was streamed (a commit waiting for a
// synchronous standby is decoded at once but stays invisible until the
// standby answers).
struct PageSnapshot {
  uint64_t xmin = 0;
  uint64_t xmax = 0;
  std::vector<uint64_t> xip;

  // Whether the committed transaction `xid` (a 32-bit stream xid) is
  // visible to this snapshot.
  bool Sees(uint32_t xid) const;
};

// Parses pg_current_snapshot()'s text form "xmin:xmax:xip,xip,...".
std::optional<PageSnapshot> ParsePageSnapshot(std::string_view text);

}  // namespace sluice::backfill
