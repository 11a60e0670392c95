#include "backfill/page_snapshot.h"

#include <limits>

namespace sluice::backfill {

bool PageSnapshot::Sees(uint32_t xid) const {
  // 32-bit comparison modulo 2^32, as Postgres' TransactionIdPrecedes: the
  // stream's xids are within 2^31 of the snapshot's.
  if (static_cast<int32_t>(xid - static_cast<uint32_t>(xmax)) >= 0) return false;
  for (uint64_t x : xip) {
    if (static_cast<uint32_t>(x) == xid) return false;
  }
  return true;
}

std::optional<PageSnapshot> ParsePageSnapshot(std::string_view text) {
  auto number = [](std::string_view s, uint64_t* out) {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || v > (std::numeric_limits<uint64_t>::max() - 9) / 10) return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
  };
  const size_t a = text.find(':');
  const size_t b = a == std::string_view::npos ? a : text.find(':', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  PageSnapshot s;
  if (!number(text.substr(0, a), &s.xmin) || !number(text.substr(a + 1, b - a - 1), &s.xmax)) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(b + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    uint64_t x = 0;
    if (!number(rest.substr(0, comma), &x)) return std::nullopt;
    s.xip.push_back(x);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty()) return std::nullopt;
  }
  return s;
}

}  // namespace sluice::backfill
