// date, timestamp and timestamptz as Postgres keeps them: days and
// microseconds since 2000-01-01 (UTC for timestamptz), with +-infinity at
// the ends of the range. Parses the ISO output form (DateStyle ISO,
// TimeZone UTC) and the common ISO input forms; formats the ISO output form.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::filter {

// Days since 2000-01-01; the extremes stand for -infinity / infinity.
constexpr int64_t kDateNegativeInfinity = std::numeric_limits<int32_t>::min();
constexpr int64_t kDatePositiveInfinity = std::numeric_limits<int32_t>::max();
// Microseconds since 2000-01-01 00:00:00; extremes are -infinity / infinity.
constexpr int64_t kTimestampNegativeInfinity = std::numeric_limits<int64_t>::min();
constexpr int64_t kTimestampPositiveInfinity = std::numeric_limits<int64_t>::max();

enum class DateTimeType : unsigned char { kDate, kTimestamp, kTimestampTz };

// Parses `text` as input for `type`:
//   YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][ ][Z|UTC|GMT|(+|-)HH[[:]MM[[:]SS]]][ BC|AD]
// and infinity, -infinity, +infinity, epoch. Years have at least 4 digits.
// A zone is applied for timestamptz and ignored for timestamp and date (as
// Postgres does); a time of day is ignored for date. Relative words (now,
// today, ...) and other formats are errors. Returns days for kDate,
// microseconds otherwise.
Result<int64_t> ParseDateTime(std::string_view text, DateTimeType type);

// The ISO output form: "2024-01-31", "2024-01-31 10:00:00.5",
// "2024-01-31 10:00:00.5+00", " BC" suffix, "infinity", "-infinity".
std::string FormatDateTime(int64_t value, DateTimeType type);

// Conversions between the three (UTC for the zone). Infinity stays infinity.
int64_t DateToTimestamp(int64_t days);
int64_t TimestampToDate(int64_t micros);

const char* DateTimeTypeName(DateTimeType type);

}  // namespace sluice::filter
