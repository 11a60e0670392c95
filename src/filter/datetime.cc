#include "filter/datetime.h"

#include <cstdio>

#include "common/civil_date.h"

namespace sluice::filter {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;
// 1970-01-01 is this many days before 2000-01-01.
constexpr int64_t kUnixEpochDays = 10957;

// Postgres' ranges: dates from 4714-11-24 BC (Julian day 0); timestamps
// from 4714-11-24 BC to before 294277-01-01.
const int64_t kMinDays = DaysFromCivil(-4713, 11, 24) - kUnixEpochDays;
const int64_t kMaxDateDays = DaysFromCivil(5874898, 1, 1) - kUnixEpochDays - 1;
const int64_t kMaxTimestampDays = DaysFromCivil(294277, 1, 1) - kUnixEpochDays;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  void advance(size_t n = 1) { i_ += n; }
  void SkipSpaces() {
    while (!done() && IsSpace(s_[i_])) ++i_;
  }
  // Reads 1..max_digits digits; the count read goes to *count.
  bool Digits(size_t max_digits, int64_t* value, size_t* count = nullptr) {
    size_t n = 0;
    int64_t v = 0;
    while (!done() && IsDigit(s_[i_]) && n < max_digits) {
      v = v * 10 + (s_[i_] - '0');
      ++i_;
      ++n;
    }
    if (count != nullptr) *count = n;
    *value = v;
    return n > 0;
  }
  bool Word(std::string_view word) {
    if (i_ + word.size() > s_.size()) return false;
    if (!EqualsIgnoreCase(s_.substr(i_, word.size()), word)) return false;
    i_ += word.size();
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

Status Invalid(std::string_view text, DateTimeType type) {
  return Status::Permanent("invalid input syntax for type " + std::string(DateTimeTypeName(type)) +
                           ": \"" + std::string(text) +
                           "\" (use ISO 8601: YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH:MM])");
}

Status OutOfRange(std::string_view text) {
  return Status::Permanent("date/time field value out of range: \"" + std::string(text) + "\"");
}

}  // namespace

const char* DateTimeTypeName(DateTimeType type) {
  switch (type) {
    case DateTimeType::kDate:
      return "date";
    case DateTimeType::kTimestamp:
      return "timestamp without time zone";
    case DateTimeType::kTimestampTz:
      return "timestamp with time zone";
  }
  return "date";
}

Result<int64_t> ParseDateTime(std::string_view text, DateTimeType type) {
  const bool is_date = type == DateTimeType::kDate;
  std::string_view s = Trim(text);
  if (EqualsIgnoreCase(s, "infinity") || EqualsIgnoreCase(s, "+infinity")) {
    return is_date ? kDatePositiveInfinity : kTimestampPositiveInfinity;
  }
  if (EqualsIgnoreCase(s, "-infinity")) {
    return is_date ? kDateNegativeInfinity : kTimestampNegativeInfinity;
  }
  if (EqualsIgnoreCase(s, "epoch")) {
    return is_date ? -kUnixEpochDays : -kUnixEpochDays * kMicrosPerDay;
  }
  for (std::string_view word : {"now", "today", "tomorrow", "yesterday", "allballs"}) {
    if (EqualsIgnoreCase(s, word)) {
      return Status::Permanent("\"" + std::string(s) +
                               "\" is relative to the current time: " + "not supported in filters");
    }
  }
  Scanner sc(s);
  int64_t year = 0, month = 0, day = 0;
  size_t year_digits = 0;
  if (!sc.Digits(9, &year, &year_digits) || year_digits < 4) return Invalid(text, type);
  if (sc.peek() != '-') return Invalid(text, type);
  sc.advance();
  if (!sc.Digits(2, &month)) return Invalid(text, type);
  if (sc.peek() != '-') return Invalid(text, type);
  sc.advance();
  if (!sc.Digits(2, &day)) return Invalid(text, type);

  int64_t hour = 0, minute = 0, second = 0, micros = 0;
  // A time of day: 'T' or spaces, then a digit.
  {
    size_t spaces = 0;
    while (IsSpace(sc.peek(spaces))) ++spaces;
    bool t_sep = spaces == 0 && (sc.peek() == 'T' || sc.peek() == 't') && IsDigit(sc.peek(1));
    if (t_sep || (spaces > 0 && IsDigit(sc.peek(spaces)))) {
      sc.advance(t_sep ? 1 : spaces);
      if (!sc.Digits(2, &hour)) return Invalid(text, type);
      if (sc.peek() != ':') return Invalid(text, type);
      sc.advance();
      size_t n = 0;
      if (!sc.Digits(2, &minute, &n) || n != 2) return Invalid(text, type);
      if (sc.peek() == ':') {
        sc.advance();
        if (!sc.Digits(2, &second, &n) || n != 2) return Invalid(text, type);
        if (sc.peek() == '.') {
          sc.advance();
          int64_t scale = 100000;
          bool any = false;
          bool round_up = false;
          size_t count = 0;
          while (IsDigit(sc.peek())) {
            int d = sc.peek() - '0';
            if (count < 6) {
              micros += d * scale;
              scale /= 10;
            } else if (count == 6) {
              round_up = d >= 5;
            }
            ++count;
            any = true;
            sc.advance();
          }
          if (!any) return Invalid(text, type);
          if (round_up) ++micros;
        }
      }
    }
  }
  // A zone.
  int64_t zone_seconds = 0;
  sc.SkipSpaces();
  if (sc.peek() == 'Z' || sc.peek() == 'z') {
    sc.advance();
  } else if (sc.Word("utc") || sc.Word("gmt")) {
  } else if (sc.peek() == '+' || sc.peek() == '-') {
    const int sign = sc.peek() == '-' ? -1 : 1;
    sc.advance();
    int64_t zh = 0, zm = 0, zs = 0;
    size_t n = 0;
    if (!sc.Digits(2, &zh, &n)) return Invalid(text, type);
    if (n == 2 && IsDigit(sc.peek())) {
      if (!sc.Digits(2, &zm, &n) || n != 2) return Invalid(text, type);
      if (IsDigit(sc.peek()) && (!sc.Digits(2, &zs, &n) || n != 2)) return Invalid(text, type);
    } else if (sc.peek() == ':') {
      sc.advance();
      if (!sc.Digits(2, &zm, &n) || n != 2) return Invalid(text, type);
      if (sc.peek() == ':') {
        sc.advance();
        if (!sc.Digits(2, &zs, &n) || n != 2) return Invalid(text, type);
      }
    }
    if (zh > 15 || zm > 59 || zs > 59) {
      return Status::Permanent("time zone displacement out of range: \"" + std::string(text) +
                               "\"");
    }
    zone_seconds = sign * (zh * 3600 + zm * 60 + zs);
  }
  sc.SkipSpaces();
  bool bc = false;
  if (sc.Word("bc")) {
    bc = true;
  } else {
    (void)sc.Word("ad");
  }
  sc.SkipSpaces();
  if (!sc.done()) return Invalid(text, type);

  if (year == 0 || month < 1 || month > 12) return OutOfRange(text);
  const int64_t astro_year = bc ? 1 - year : year;
  if (day < 1 || day > DaysInMonth(astro_year, month)) return OutOfRange(text);
  if (hour > 24 || minute > 59 || second > 60) return OutOfRange(text);
  if (hour == 24 && (minute != 0 || second != 0 || micros != 0)) return OutOfRange(text);

  const int64_t days = DaysFromCivil(astro_year, month, day) - kUnixEpochDays;
  if (is_date) {
    if (days < kMinDays || days > kMaxDateDays) {
      return Status::Permanent("date out of range: \"" + std::string(text) + "\"");
    }
    return days;
  }
  if (days < kMinDays - 1 || days > kMaxTimestampDays) {
    return Status::Permanent("timestamp out of range: \"" + std::string(text) + "\"");
  }
  int64_t value =
      days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + micros;
  if (type == DateTimeType::kTimestampTz) value -= zone_seconds * kMicrosPerSecond;
  if (value < kMinDays * kMicrosPerDay || value >= kMaxTimestampDays * kMicrosPerDay) {
    return Status::Permanent("timestamp out of range: \"" + std::string(text) + "\"");
  }
  return value;
}

std::string FormatDateTime(int64_t value, DateTimeType type) {
  const bool is_date = type == DateTimeType::kDate;
  if (is_date ? value == kDatePositiveInfinity : value == kTimestampPositiveInfinity) {
    return "infinity";
  }
  if (is_date ? value == kDateNegativeInfinity : value == kTimestampNegativeInfinity) {
    return "-infinity";
  }
  int64_t days = value;
  int64_t time_micros = 0;
  if (!is_date) {
    days = value / kMicrosPerDay;
    time_micros = value % kMicrosPerDay;
    if (time_micros < 0) {
      time_micros += kMicrosPerDay;
      days -= 1;
    }
  }
  int64_t y, m, d;
  CivilFromDays(days + kUnixEpochDays, &y, &m, &d);
  const bool bc = y <= 0;
  const int64_t shown_year = bc ? 1 - y : y;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld", static_cast<long long>(shown_year),
                static_cast<long long>(m), static_cast<long long>(d));
  std::string out = buf;
  if (!is_date) {
    const int64_t secs = time_micros / kMicrosPerSecond;
    const int64_t frac = time_micros % kMicrosPerSecond;
    std::snprintf(buf, sizeof(buf), " %02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    out += buf;
    if (frac != 0) {
      std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
      std::string f = buf;
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    if (type == DateTimeType::kTimestampTz) out += "+00";
  }
  if (bc) out += " BC";
  return out;
}

int64_t DateToTimestamp(int64_t days) {
  if (days == kDatePositiveInfinity) return kTimestampPositiveInfinity;
  if (days == kDateNegativeInfinity) return kTimestampNegativeInfinity;
  // Dates beyond the timestamp range still order correctly against every
  // timestamp (Postgres compares them without overflow).
  if (days >= kMaxTimestampDays) return kTimestampPositiveInfinity - 1;
  if (days < kMinDays) return kTimestampNegativeInfinity + 1;
  return days * kMicrosPerDay;
}

int64_t TimestampToDate(int64_t micros) {
  if (micros == kTimestampPositiveInfinity) return kDatePositiveInfinity;
  if (micros == kTimestampNegativeInfinity) return kDateNegativeInfinity;
  int64_t days = micros / kMicrosPerDay;
  if (micros % kMicrosPerDay < 0) days -= 1;
  return days;
}

}  // namespace sluice::filter
