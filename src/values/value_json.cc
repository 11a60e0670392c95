#include "values/value_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <unordered_map>

#include "common/base64.h"
#include "common/civil_date.h"
#include "common/json_writer.h"

namespace sluice::values {
namespace {

// ---------------------------------------------------------------------------
// Built-in types.

struct BuiltinEntry {
  uint32_t oid;
  uint32_t array_oid;
  ValueKind kind;
  char delimiter;  // For the array type.
};

// From pg_type (Postgres 15; the same OIDs in 14 to 17), every base, range
// and multirange type in pg_catalog that has an array type.
constexpr BuiltinEntry kBuiltins[] = {
    {16, 1000, ValueKind::kBool, ','},           // bool
    {17, 1001, ValueKind::kBytea, ','},          // bytea
    {18, 1002, ValueKind::kText, ','},           // "char"
    {19, 1003, ValueKind::kText, ','},           // name
    {20, 1016, ValueKind::kInteger, ','},        // int8
    {21, 1005, ValueKind::kInteger, ','},        // int2
    {22, 1006, ValueKind::kText, ','},           // int2vector
    {23, 1007, ValueKind::kInteger, ','},        // int4
    {24, 1008, ValueKind::kText, ','},           // regproc
    {25, 1009, ValueKind::kText, ','},           // text
    {26, 1028, ValueKind::kInteger, ','},        // oid
    {27, 1010, ValueKind::kText, ','},           // tid
    {28, 1011, ValueKind::kText, ','},           // xid
    {29, 1012, ValueKind::kText, ','},           // cid
    {30, 1013, ValueKind::kText, ','},           // oidvector
    {114, 199, ValueKind::kJson, ','},           // json
    {142, 143, ValueKind::kText, ','},           // xml
    {600, 1017, ValueKind::kText, ','},          // point
    {601, 1018, ValueKind::kText, ','},          // lseg
    {602, 1019, ValueKind::kText, ','},          // path
    {603, 1020, ValueKind::kText, ';'},          // box
    {604, 1027, ValueKind::kText, ','},          // polygon
    {628, 629, ValueKind::kText, ','},           // line
    {650, 651, ValueKind::kText, ','},           // cidr
    {700, 1021, ValueKind::kFloat, ','},         // float4
    {701, 1022, ValueKind::kFloat, ','},         // float8
    {718, 719, ValueKind::kText, ','},           // circle
    {774, 775, ValueKind::kText, ','},           // macaddr8
    {790, 791, ValueKind::kText, ','},           // money (locale formatted)
    {829, 1040, ValueKind::kText, ','},          // macaddr
    {869, 1041, ValueKind::kText, ','},          // inet
    {1033, 1034, ValueKind::kText, ','},         // aclitem
    {1042, 1014, ValueKind::kText, ','},         // bpchar
    {1043, 1015, ValueKind::kText, ','},         // varchar
    {1082, 1182, ValueKind::kText, ','},         // date
    {1083, 1183, ValueKind::kText, ','},         // time
    {1114, 1115, ValueKind::kTimestamp, ','},    // timestamp
    {1184, 1185, ValueKind::kTimestampTz, ','},  // timestamptz
    {1186, 1187, ValueKind::kText, ','},         // interval
    {1266, 1270, ValueKind::kText, ','},         // timetz
    {1560, 1561, ValueKind::kText, ','},         // bit
    {1562, 1563, ValueKind::kText, ','},         // varbit
    {1700, 1231, ValueKind::kNumeric, ','},      // numeric
    {1790, 2201, ValueKind::kText, ','},         // refcursor
    {2202, 2207, ValueKind::kText, ','},         // regprocedure
    {2203, 2208, ValueKind::kText, ','},         // regoper
    {2204, 2209, ValueKind::kText, ','},         // regoperator
    {2205, 2210, ValueKind::kText, ','},         // regclass
    {2206, 2211, ValueKind::kText, ','},         // regtype
    {2950, 2951, ValueKind::kText, ','},         // uuid
    {2970, 2949, ValueKind::kText, ','},         // txid_snapshot
    {3220, 3221, ValueKind::kText, ','},         // pg_lsn
    {3614, 3643, ValueKind::kText, ','},         // tsvector
    {3615, 3645, ValueKind::kText, ','},         // tsquery
    {3642, 3644, ValueKind::kText, ','},         // gtsvector
    {3734, 3735, ValueKind::kText, ','},         // regconfig
    {3769, 3770, ValueKind::kText, ','},         // regdictionary
    {3802, 3807, ValueKind::kJson, ','},         // jsonb
    {3904, 3905, ValueKind::kText, ','},         // int4range
    {3906, 3907, ValueKind::kText, ','},         // numrange
    {3908, 3909, ValueKind::kText, ','},         // tsrange
    {3910, 3911, ValueKind::kText, ','},         // tstzrange
    {3912, 3913, ValueKind::kText, ','},         // daterange
    {3926, 3927, ValueKind::kText, ','},         // int8range
    {4072, 4073, ValueKind::kText, ','},         // jsonpath
    {4089, 4090, ValueKind::kText, ','},         // regnamespace
    {4096, 4097, ValueKind::kText, ','},         // regrole
    {4191, 4192, ValueKind::kText, ','},         // regcollation
    {4451, 6150, ValueKind::kText, ','},         // int4multirange
    {4532, 6151, ValueKind::kText, ','},         // nummultirange
    {4533, 6152, ValueKind::kText, ','},         // tsmultirange
    {4534, 6153, ValueKind::kText, ','},         // tstzmultirange
    {4535, 6155, ValueKind::kText, ','},         // datemultirange
    {4536, 6157, ValueKind::kText, ','},         // int8multirange
    {5038, 5039, ValueKind::kText, ','},         // pg_snapshot
    {5069, 271, ValueKind::kText, ','},          // xid8
};

using BuiltinMap = std::unordered_map<uint32_t, TypeRef>;

const BuiltinMap& Builtins() {
  // Built once, never destroyed: TypeRefs handed out stay valid at exit.
  static const BuiltinMap* const map = [] {
    auto* m = new BuiltinMap();
    m->reserve(2 * std::size(kBuiltins));
    std::unordered_map<int, TypeRef> by_kind;
    for (const BuiltinEntry& e : kBuiltins) {
      TypeRef& scalar = by_kind[static_cast<int>(e.kind)];
      if (scalar == nullptr) scalar = std::make_shared<const TypeInfo>(TypeInfo{e.kind, nullptr});
      (*m)[e.oid] = scalar;
      (*m)[e.array_oid] = ArrayOf(scalar, e.delimiter);
    }
    return m;
  }();
  return *map;
}

// ---------------------------------------------------------------------------
// Small scanners.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The JSON number grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// matched from `pos`; returns the end or npos.
size_t ScanJsonNumber(std::string_view s, size_t pos) {
  size_t i = pos;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
  if (s[i] == '0') {
    ++i;
  } else {
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return std::string_view::npos;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i;
}

bool IsJsonNumber(std::string_view s) { return ScanJsonNumber(s, 0) == s.size(); }

// A JSON number that a double holds without overflowing to infinity or
// underflowing to zero, as every float4/float8 Postgres prints does.
bool IsFiniteJsonNumber(std::string_view s) {
  if (!IsJsonNumber(s)) return false;
  double value;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  return error == std::errc() && end == s.data() + s.size();
}

// Digits only, no leading zeros, and at most 20 digits (int8 has 19, oid 10):
// longer runs cannot come from Postgres and overflow common JSON parsers.
bool IsJsonInteger(std::string_view s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i >= s.size() || s.size() - i > 20) return false;
  if (s[i] == '0') return i + 1 == s.size();
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------------------
// json / jsonb: validated and re-written without insignificant whitespace, so
// that a value never breaks a newline-delimited stream of messages.

// Appends to a string through a pointer: room for `expected` bytes is made
// at once, so that a character costs a store rather than a call; it grows
// when needed and trims the string to what was written when destroyed.
class Appender {
 public:
  Appender(std::string& s, size_t expected) : s_(s) {
    const size_t used = s_.size();
    s_.resize(used + expected);
    p_ = s_.data() + used;
    end_ = s_.data() + s_.size();
  }
  ~Appender() { s_.resize(static_cast<size_t>(p_ - s_.data())); }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  void push_back(char c) {
    if (p_ == end_) Grow(1);
    *p_++ = c;
  }
  void append(std::string_view v) {
    if (static_cast<size_t>(end_ - p_) < v.size()) Grow(v.size());
    std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }

 private:
  void Grow(size_t n) {
    const size_t used = static_cast<size_t>(p_ - s_.data());
    s_.resize(std::max(used + n, 2 * s_.size()));
    p_ = s_.data() + used;
    end_ = s_.data() + s_.size();
  }

  std::string& s_;
  char* p_;
  char* end_;
};

class JsonCompactor {
 public:
  // Compacting never makes JSON longer but for replaced characters: room
  // for the input is all it usually needs.
  JsonCompactor(std::string& out, std::string_view in) : out_(out, in.size()), in_(in) {}

  bool Run() {
    // Containers still open, innermost last: '{' or '['.
    std::string open;
    bool expect_value = true;
    while (true) {
      SkipSpace();
      if (expect_value) {
        if (pos_ >= in_.size()) return false;
        const char c = in_[pos_];
        if (c == '{' || c == '[') {
          out_.push_back(c);
          ++pos_;
          SkipSpace();
          const char close = c == '{' ? '}' : ']';
          if (pos_ < in_.size() && in_[pos_] == close) {
            out_.push_back(close);
            ++pos_;
            expect_value = false;
            continue;
          }
          open.push_back(c);
          if (c == '{' && !Key()) return false;
          continue;
        }
        if (!Scalar()) return false;
        expect_value = false;
        continue;
      }
      if (open.empty()) return pos_ == in_.size();
      if (pos_ >= in_.size()) return false;
      const char c = in_[pos_++];
      if (c == ',') {
        out_.push_back(',');
        if (open.back() == '{') {
          SkipSpace();
          if (!Key()) return false;
        }
        expect_value = true;
      } else if ((c == '}' && open.back() == '{') || (c == ']' && open.back() == '[')) {
        out_.push_back(c);
        open.pop_back();
      } else {
        return false;
      }
    }
  }

 private:
  void SkipSpace() {
    while (pos_ < in_.size() && IsJsonSpace(in_[pos_])) ++pos_;
  }

  // "key" then ':'.
  bool Key() {
    if (pos_ >= in_.size() || in_[pos_] != '"' || !String()) return false;
    SkipSpace();
    if (pos_ >= in_.size() || in_[pos_] != ':') return false;
    ++pos_;
    out_.push_back(':');
    return true;
  }

  bool Scalar() {
    const char c = in_[pos_];
    if (c == '"') return String();
    if (c == '-' || IsDigit(c)) {
      size_t end = ScanJsonNumber(in_, pos_);
      if (end == std::string_view::npos) return false;
      out_.append(in_.substr(pos_, end - pos_));
      pos_ = end;
      return true;
    }
    for (std::string_view literal : {"true", "false", "null"}) {
      if (in_.substr(pos_, literal.size()) == literal) {
        out_.append(literal);
        pos_ += literal.size();
        return true;
      }
    }
    return false;
  }

  // Reads \uXXXX at pos_ (pointing at the backslash); -1 if malformed.
  int32_t ReadUnicodeEscape() {
    if (pos_ + 6 > in_.size() || in_[pos_] != '\\' || in_[pos_ + 1] != 'u') return -1;
    int32_t v = 0;
    for (size_t k = 2; k < 6; ++k) {
      int h = HexValue(in_[pos_ + k]);
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    return v;
  }

  // A string literal at pos_ (the opening quote), copied to out_. Lone
  // surrogate escapes, which Postgres' json type accepts but strict parsers
  // reject, become \ufffd; so do invalid UTF-8 bytes.
  bool String() {
    out_.push_back('"');
    ++pos_;
    size_t run = pos_;
    auto flush = [&] { out_.append(in_.substr(run, pos_ - run)); };
    while ((pos_ = PlainJsonRun(in_, pos_)) < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        flush();
        out_.push_back('"');
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        size_t len = Utf8SequenceLength(in_, pos_);
        if (len == 0) {
          flush();
          out_.append("\xEF\xBF\xBD");
          ++pos_;
          run = pos_;
        } else {
          pos_ += len;
        }
        continue;
      }
      if (pos_ + 1 >= in_.size()) return false;
      const char e = in_[pos_ + 1];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
          e == 't') {
        pos_ += 2;
        continue;
      }
      if (e != 'u') return false;
      const int32_t unit = ReadUnicodeEscape();
      if (unit < 0) return false;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        const size_t high = pos_;
        pos_ += 6;
        const int32_t low = ReadUnicodeEscape();
        if (low >= 0xDC00 && low <= 0xDFFF) {
          pos_ += 6;
          continue;
        }
        pos_ = high;
        flush();
        out_.append("\\ufffd");
        pos_ += 6;
        run = pos_;
        continue;
      }
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        flush();
        out_.append("\\ufffd");
        pos_ += 6;
        run = pos_;
        continue;
      }
      pos_ += 6;
    }
    return false;
  }

  Appender out_;
  std::string_view in_;
  size_t pos_ = 0;
};

bool AppendJson(std::string& out, std::string_view text) { return JsonCompactor(out, text).Run(); }

// ---------------------------------------------------------------------------
// bytea -> base64, decoded in chunks without allocating.

class Base64Sink {
 public:
  explicit Base64Sink(std::string& out) : out_(out) {}
  void Put(unsigned char byte) {
    buf_[len_++] = static_cast<char>(byte);
    if (len_ == buf_.size()) Flush();
  }
  void Flush() {
    AppendBase64(out_, std::string_view(buf_.data(), len_));
    len_ = 0;
  }

 private:
  std::string& out_;
  std::array<char, 3 * 256> buf_;  // A multiple of 3: no padding between chunks.
  size_t len_ = 0;
};

bool AppendBytea(std::string& out, std::string_view text) {
  Base64Sink sink(out);
  out.push_back('"');
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    // Hex format (bytea_output = hex, the default).
    if (text.size() % 2 != 0) return false;
    for (size_t i = 2; i < text.size(); i += 2) {
      int hi = HexValue(text[i]);
      int lo = HexValue(text[i + 1]);
      if (hi < 0 || lo < 0) return false;
      sink.Put(static_cast<unsigned char>((hi << 4) | lo));
    }
  } else {
    // Escape format (bytea_output = escape): \\ is a backslash, \ooo an octal
    // byte, anything else the byte itself.
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\') {
        sink.Put(static_cast<unsigned char>(text[i]));
      } else if (i + 1 < text.size() && text[i + 1] == '\\') {
        sink.Put('\\');
        i += 1;
      } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
                 text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
                 text[i + 3] <= '7') {
        sink.Put(static_cast<unsigned char>(((text[i + 1] - '0') << 6) |
                                            ((text[i + 2] - '0') << 3) | (text[i + 3] - '0')));
        i += 3;
      } else {
        return false;
      }
    }
  }
  sink.Flush();
  out.push_back('"');
  return true;
}

// ---------------------------------------------------------------------------
// timestamp / timestamptz, in the ISO DateStyle:
//   "2026-11-21 10:00:00.123+00", "0044-03-15 12:00:00+00 BC",
//   "1799-12-31 19:03:58-04:56:02", "12345-01-01 00:00:00" ...

class TextScanner {
 public:
  explicit TextScanner(std::string_view s) : s_(s) {}
  bool AtEnd() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool ConsumeWord(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  // Exactly `n` digits.
  bool Digits(size_t n, int64_t* out) {
    if (pos_ + n > s_.size()) return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!IsDigit(s_[pos_ + i])) return false;
      v = v * 10 + (s_[pos_ + i] - '0');
    }
    pos_ += n;
    *out = v;
    return true;
  }
  // Between `min` and `max` digits; `count` gets how many.
  bool DigitRun(size_t min, size_t max, int64_t* out, size_t* count) {
    size_t n = 0;
    int64_t v = 0;
    while (pos_ + n < s_.size() && n < max && IsDigit(s_[pos_ + n])) {
      v = v * 10 + (s_[pos_ + n] - '0');
      ++n;
    }
    if (n < min || (pos_ + n < s_.size() && IsDigit(s_[pos_ + n]))) return false;
    pos_ += n;
    *out = v;
    *count = n;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Writes `v` (>= 0) with at least `width` digits, zero-padded, at `p`;
// returns the end.
char* WritePadded(char* p, int64_t v, int width) {
  if (width == 2 && v < 100) {  // month, day, hour, minute, second
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
    return p + 2;
  }
  char digits[24];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = len; i < width; ++i) *p++ = '0';
  while (len > 0) *p++ = digits[--len];
  return p;
}

}  // namespace

char* WriteIsoTimestamp(char* p, int64_t year, int64_t month, int64_t day, int64_t hour,
                        int64_t minute, int64_t second, int64_t micros, bool utc) {
  if (year >= 0 && year <= 9999) {
    p = WritePadded(p, year, 4);
  } else {
    *p++ = year < 0 ? '-' : '+';
    p = WritePadded(p, year < 0 ? -year : year, 6);
  }
  *p++ = '-';
  p = WritePadded(p, month, 2);
  *p++ = '-';
  p = WritePadded(p, day, 2);
  *p++ = 'T';
  p = WritePadded(p, hour, 2);
  *p++ = ':';
  p = WritePadded(p, minute, 2);
  *p++ = ':';
  p = WritePadded(p, second, 2);
  *p++ = '.';
  p = WritePadded(p, micros, 6);
  if (utc) *p++ = 'Z';
  return p;
}

namespace {

// The same in quotes, composed on the stack and appended once: every
// timestamp column of every row comes through here.
void AppendIsoTimestamp(std::string& out, int64_t year, int64_t month, int64_t day, int64_t hour,
                        int64_t minute, int64_t second, int64_t micros, bool utc) {
  char buf[kIsoTimestampMax + 2];
  buf[0] = '"';
  char* p = WriteIsoTimestamp(buf + 1, year, month, day, hour, minute, second, micros, utc);
  *p++ = '"';
  out.append(buf, static_cast<size_t>(p - buf));
}

bool AppendTimestamp(std::string& out, std::string_view text, bool with_zone) {
  if (text == "infinity" || text == "-infinity") {
    AppendJsonString(out, text);
    return true;
  }
  TextScanner s(text);
  int64_t year, month, day, hour, minute, second, micros = 0;
  size_t year_digits;
  if (!s.DigitRun(4, 9, &year, &year_digits) || !s.Consume('-') || !s.Digits(2, &month) ||
      !s.Consume('-') || !s.Digits(2, &day) || !s.Consume(' ') || !s.Digits(2, &hour) ||
      !s.Consume(':') || !s.Digits(2, &minute) || !s.Consume(':') || !s.Digits(2, &second)) {
    return false;
  }
  if (s.Consume('.')) {
    size_t n;
    if (!s.DigitRun(1, 6, &micros, &n)) return false;
    for (size_t i = n; i < 6; ++i) micros *= 10;
  }
  int64_t offset_seconds = 0;
  if (with_zone) {
    int sign;
    if (s.Consume('+')) {
      sign = 1;
    } else if (s.Consume('-')) {
      sign = -1;
    } else {
      return false;
    }
    int64_t oh, om = 0, os = 0;
    if (!s.Digits(2, &oh)) return false;
    if (s.Consume(':')) {
      if (!s.Digits(2, &om)) return false;
      if (s.Consume(':') && !s.Digits(2, &os)) return false;
    }
    if (oh > 15 || om > 59 || os > 59) return false;
    offset_seconds = sign * (oh * 3600 + om * 60 + os);
  }
  const bool bc = s.ConsumeWord(" BC");
  if (!s.AtEnd()) return false;
  if (year == 0 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  if (bc) year = 1 - year;
  if (day < 1 || day > DaysInMonth(year, month)) return false;
  if (offset_seconds != 0) {
    int64_t t = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                offset_seconds;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rest = t - days * 86400;
    CivilFromDays(days, &year, &month, &day);
    hour = rest / 3600;
    minute = rest / 60 % 60;
    second = rest % 60;
  }
  AppendIsoTimestamp(out, year, month, day, hour, minute, second, micros, with_zone);
  return true;
}

// ---------------------------------------------------------------------------
// Arrays: Postgres' array output, "{1,2}", "{{1,2},{3,4}}", "[0:1]={1,2}",
// "{\"a b\",NULL,\"NULL\"}".

// Postgres allows 6 dimensions; anything deeper is not its output.
constexpr int kMaxArrayDepth = 6;

// An element that does not parse as its type becomes a JSON string (through
// AppendValueJson); only a malformed array structure makes the whole value a
// string.

class ArrayWriter {
 public:
  ArrayWriter(std::string& out, const TypeInfo& type, std::string_view text)
      : out_(out),
        element_(type.element != nullptr ? *type.element : *TextType()),
        delimiter_(type.delimiter),
        in_(text) {}

  bool Run() {
    SkipSpace();
    if (Peek('[') && !SkipDimensions()) return false;
    SkipSpace();
    if (!Peek('{')) return false;
    if (!Level(1)) return false;
    SkipSpace();
    return pos_ == in_.size();
  }

 private:
  bool Peek(char c) const { return pos_ < in_.size() && in_[pos_] == c; }

  void SkipSpace() {
    while (pos_ < in_.size() && IsArraySpace(in_[pos_])) ++pos_;
  }

  static bool IsArraySpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }

  // "[lower:upper]..." then '='.
  bool SkipDimensions() {
    while (Peek('[')) {
      ++pos_;
      if (!Bound() || !Peek(':')) return false;
      ++pos_;
      if (!Bound() || !Peek(']')) return false;
      ++pos_;
    }
    if (!Peek('=')) return false;
    ++pos_;
    return true;
  }

  bool Bound() {
    if (Peek('-') || Peek('+')) ++pos_;
    size_t start = pos_;
    while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    return pos_ > start;
  }

  // At '{': one level of the array, written as a JSON array.
  bool Level(int depth) {
    if (depth > kMaxArrayDepth) return false;
    ++pos_;
    out_.push_back('[');
    SkipSpace();
    if (Peek('}')) {
      ++pos_;
      out_.push_back(']');
      return true;
    }
    // Postgres arrays are rectangular: a level holds only sub-arrays or only
    // elements.
    const bool nested = Peek('{');
    bool first = true;
    while (true) {
      SkipSpace();
      if (!first) out_.push_back(',');
      first = false;
      if (nested) {
        if (!Peek('{') || !Level(depth + 1)) return false;
      } else if (!Element()) {
        return false;
      }
      SkipSpace();
      if (pos_ >= in_.size()) return false;
      const char c = in_[pos_++];
      if (c == '}') break;
      if (c != delimiter_) return false;
    }
    out_.push_back(']');
    return true;
  }

  bool Element() {
    if (Peek('"')) return QuotedElement();
    const size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] != delimiter_ && in_[pos_] != '}') {
      const char c = in_[pos_];
      if (c == '"' || c == '{' || c == '\\') return false;
      ++pos_;
    }
    size_t end = pos_;
    while (end > start && IsArraySpace(in_[end - 1])) --end;
    std::string_view value = in_.substr(start, end - start);
    if (value.empty()) return false;
    if (value.size() == 4 && (value[0] | 0x20) == 'n' && (value[1] | 0x20) == 'u' &&
        (value[2] | 0x20) == 'l' && (value[3] | 0x20) == 'l') {
      out_.append("null");
      return true;
    }
    AppendValueJson(out_, element_, value);
    return true;
  }

  bool QuotedElement() {
    ++pos_;
    const size_t start = pos_;
    bool escaped = false;
    while (pos_ < in_.size() && in_[pos_] != '"') {
      if (in_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    if (pos_ >= in_.size()) return false;
    std::string_view raw = in_.substr(start, pos_ - start);
    ++pos_;
    if (!escaped) {
      AppendValueJson(out_, element_, raw);
      return true;
    }
    unescaped_.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\') ++i;
      unescaped_.push_back(raw[i]);
    }
    AppendValueJson(out_, element_, unescaped_);
    return true;
  }

  std::string& out_;
  const TypeInfo& element_;
  const char delimiter_;
  std::string_view in_;
  size_t pos_ = 0;
  std::string unescaped_;
};

// Appends `text` as `type`, or returns false (with `out` possibly partly
// written) when it does not parse as that kind.
bool AppendValueJsonOrFail(std::string& out, const TypeInfo& type, std::string_view text) {
  switch (type.kind) {
    case ValueKind::kText:
    case ValueKind::kNumeric:
      AppendJsonString(out, text);
      return true;
    case ValueKind::kInteger:
      if (IsJsonInteger(text)) {
        out.append(text);
      } else {
        AppendJsonString(out, text);
      }
      return true;
    case ValueKind::kFloat:
      // NaN, Infinity and -Infinity are not JSON numbers: they become strings
      // by the same rule as anything unexpected.
      if (IsFiniteJsonNumber(text)) {
        out.append(text);
      } else {
        AppendJsonString(out, text);
      }
      return true;
    case ValueKind::kBool:
      if (text == "t" || text == "true") {
        out.append("true");
      } else if (text == "f" || text == "false") {
        out.append("false");
      } else {
        AppendJsonString(out, text);
      }
      return true;
    case ValueKind::kJson:
      return AppendJson(out, text);
    case ValueKind::kBytea:
      return AppendBytea(out, text);
    case ValueKind::kTimestampTz:
      return AppendTimestamp(out, text, /*with_zone=*/true);
    case ValueKind::kTimestamp:
      return AppendTimestamp(out, text, /*with_zone=*/false);
    case ValueKind::kArray:
      return ArrayWriter(out, type, text).Run();
  }
  return false;
}

}  // namespace

TypeRef BuiltinType(uint32_t oid) {
  const BuiltinMap& map = Builtins();
  auto it = map.find(oid);
  return it == map.end() ? nullptr : it->second;
}

TypeRef TextType() {
  static const TypeRef* const text =
      new TypeRef(std::make_shared<const TypeInfo>(TypeInfo{ValueKind::kText, nullptr}));
  return *text;
}

TypeRef ArrayOf(TypeRef element, char delimiter) {
  return std::make_shared<const TypeInfo>(
      TypeInfo{ValueKind::kArray, std::move(element), delimiter});
}

void AppendValueJson(std::string& out, const TypeInfo& type, std::string_view text) {
  const size_t start = out.size();
  if (!AppendValueJsonOrFail(out, type, text)) {
    out.resize(start);
    AppendJsonString(out, text);
  }
}

}  // namespace sluice::values
