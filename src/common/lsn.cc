#include "common/lsn.h"

#include <charconv>
#include <cstdio>

namespace sluice {

std::string FormatLsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

std::optional<Lsn> ParseLsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) {
    return std::nullopt;
  }
  uint32_t hi = 0, lo = 0;
  auto r1 = std::from_chars(text.data(), text.data() + slash, hi, 16);
  auto r2 = std::from_chars(text.data() + slash + 1, text.data() + text.size(), lo, 16);
  if (r1.ec != std::errc() || r1.ptr != text.data() + slash || r2.ec != std::errc() ||
      r2.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return (static_cast<Lsn>(hi) << 32) | lo;
}

}  // namespace sluice
