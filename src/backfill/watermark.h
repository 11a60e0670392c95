// Backfill watermarks: transactional logical messages that a backfill worker
// writes around each page query, so that the page can be placed in the
// change stream (DBLog). Prefix "sluice:backfill.low" before the query,
// "sluice:backfill.high" after it; content {"backfill":ID,"page":K,"run":R}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::backfill {

inline constexpr std::string_view kLowWatermarkPrefix = "sluice:backfill.low";
inline constexpr std::string_view kHighWatermarkPrefix = "sluice:backfill.high";

struct Watermark {
  bool high = false;
  int64_t backfill_id = 0;
  uint64_t page = 0;
  // Random per process: watermarks of an earlier process, streamed again
  // after a restart, do not match.
  uint64_t run = 0;
};

std::string WatermarkContent(const Watermark& watermark);
// nullopt for an unknown prefix or malformed content.
std::optional<Watermark> ParseWatermark(std::string_view prefix, std::string_view content);

// A random run id below 2^53 (exact as a JSON number).
uint64_t NewRunId();

}  // namespace sluice::backfill
