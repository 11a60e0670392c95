// DESIGN §2 value mapping: a column's Postgres text output -> JSON text.
// The walsender's session uses DateStyle=ISO, TimeZone=UTC,
// IntervalStyle=postgres and extra_float_digits=3 (set by the replication
// connection), so the text forms handled here are those.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice::values {

enum class ValueKind : unsigned char {
  kText,         // text, varchar, uuid, date, time, interval, inet, enum, unknown: JSON string
  kInteger,      // int2, int4, int8, oid: JSON number
  kFloat,        // float4, float8: number; NaN/Infinity/-Infinity as strings
  kNumeric,      // numeric: JSON string (exact)
  kBool,         // 't'/'f' -> true/false
  kJson,         // json, jsonb: embedded as JSON
  kBytea,        // '\x..' hex -> base64 string
  kTimestampTz,  // "2026-11-21 10:00:00.123+00" -> "2026-11-21T10:00:00.123000Z"
  kTimestamp,    // "2026-11-21 10:00:00" -> "2026-11-21T10:00:00.000000"
  kArray,        // '{...}' -> JSON array of `element`
};

struct TypeInfo {
  ValueKind kind = ValueKind::kText;
  std::shared_ptr<const TypeInfo> element;  // kArray only.
  char delimiter = ',';                     // kArray only (';' for box).
};

using TypeRef = std::shared_ptr<const TypeInfo>;

// The mapping for a built-in type OID (including the built-in array types);
// nullptr when `oid` is not a built-in type this knows. Callers resolve enums,
// domains and arrays of user types through the catalog and fall back to text.
TypeRef BuiltinType(uint32_t oid);
TypeRef TextType();
TypeRef ArrayOf(TypeRef element, char delimiter = ',');

// Appends the JSON for `text` (a non-NULL value in text output form). Never
// fails: input that does not parse as the kind says (which Postgres should not
// send) is written as a JSON string of the raw text. Always appends exactly
// one valid JSON value with no raw newline. Details per kind:
// - kJson: validated and re-written without insignificant whitespace; lone
//   surrogate escapes (accepted by Postgres' json type) become \ufffd.
// - kBytea: hex format, and escape format (bytea_output = escape), decoded and
//   written as base64.
// - kTimestampTz: a non-zero UTC offset is converted to UTC. Years outside
//   0000..9999 (BC, or after 9999) use ISO 8601 expanded years with sign and
//   six digits, astronomical numbering (as ECMAScript): 44 BC -> "-000043-...",
//   year 12345 -> "+012345-...". "infinity"/"-infinity" stay strings.
// - kArray: an element that does not parse as its type becomes a string; a
//   malformed array (not Postgres' array output) becomes one string.
void AppendValueJson(std::string& out, const TypeInfo& type, std::string_view text);

// Writes "YYYY-MM-DDTHH:MM:SS.ffffff" (then 'Z' when `utc`) at `p`, without
// quotes; years outside 0000..9999 in the ISO 8601 expanded form with a sign
// and six digits ("+010000-01-01T...", "-000043-03-15T...": astronomical
// numbering, 1 BC is year 0000), as ECMAScript does. Returns the end;
// writes at most kIsoTimestampMax bytes for years Postgres supports.
constexpr size_t kIsoTimestampMax = 48;
char* WriteIsoTimestamp(char* p, int64_t year, int64_t month, int64_t day, int64_t hour,
                        int64_t minute, int64_t second, int64_t micros, bool utc);

}  // namespace sluice::values
