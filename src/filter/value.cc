#include "filter/value.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "filter/datetime.h"

namespace sluice::filter {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// Postgres quotes the offending input in its messages.
std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Status InvalidInput(Type type, std::string_view text) {
  return Status::Permanent("invalid input syntax for type " + TypeName(type) + ": " + Quoted(text));
}

bool IsInteger(Type t) { return t == Type::kInt2 || t == Type::kInt4 || t == Type::kInt8; }
bool IsFloat(Type t) { return t == Type::kFloat4 || t == Type::kFloat8; }
bool IsNumber(Type t) { return IsInteger(t) || IsFloat(t) || t == Type::kNumeric; }
bool IsString(Type t) { return t == Type::kText || t == Type::kBpchar; }
bool IsDateTime(Type t) {
  return t == Type::kDate || t == Type::kTimestamp || t == Type::kTimestampTz;
}

DateTimeType ToDateTimeType(Type t) {
  switch (t) {
    case Type::kDate:
      return DateTimeType::kDate;
    case Type::kTimestamp:
      return DateTimeType::kTimestamp;
    default:
      return DateTimeType::kTimestampTz;
  }
}

void IntRange(Type t, int64_t* min, int64_t* max) {
  switch (t) {
    case Type::kInt2:
      *min = std::numeric_limits<int16_t>::min();
      *max = std::numeric_limits<int16_t>::max();
      return;
    case Type::kInt4:
      *min = std::numeric_limits<int32_t>::min();
      *max = std::numeric_limits<int32_t>::max();
      return;
    default:
      *min = std::numeric_limits<int64_t>::min();
      *max = std::numeric_limits<int64_t>::max();
  }
}

Status IntOutOfRange(Type t) {
  return Status::Permanent(t == Type::kInt2   ? "smallint out of range"
                           : t == Type::kInt4 ? "integer out of range"
                                              : "bigint out of range");
}

Result<Value> CheckedInt(Type t, __int128 v) {
  int64_t min, max;
  IntRange(t, &min, &max);
  if (v < min || v > max) return IntOutOfRange(t);
  return Value::Int(t, static_cast<int64_t>(v));
}

Result<Value> ParseInteger(Type type, std::string_view text) {
  std::string_view s = Trim(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  if (i >= s.size()) return InvalidInput(type, text);
  __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return InvalidInput(type, text);
    v = v * 10 + (s[i] - '0');
    if (v > (static_cast<__int128>(1) << 64)) break;
  }
  if (i < s.size()) {
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return InvalidInput(type, text);
    }
  }
  int64_t min, max;
  IntRange(type, &min, &max);
  if (negative) v = -v;
  if (v < min || v > max) {
    return Status::Permanent("value " + Quoted(text) + " is out of range for type " +
                             TypeName(type));
  }
  return Value::Int(type, static_cast<int64_t>(v));
}

Result<Value> ParseFloat(Type type, std::string_view text) {
  std::string_view s = Trim(text);
  const double inf = std::numeric_limits<double>::infinity();
  if (EqualsIgnoreCase(s, "nan")) {
    return Value::Float(type, std::numeric_limits<double>::quiet_NaN());
  }
  for (std::string_view w : {"infinity", "+infinity", "inf", "+inf"}) {
    if (EqualsIgnoreCase(s, w)) return Value::Float(type, inf);
  }
  for (std::string_view w : {"-infinity", "-inf"}) {
    if (EqualsIgnoreCase(s, w)) return Value::Float(type, -inf);
  }
  // strtod would also take hex floats and "nan(...)"; Postgres takes what
  // strtod takes, so only the decimal form is checked for here.
  if (s.empty()) return InvalidInput(type, text);
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return InvalidInput(type, text);
    }
  }
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double v;
  bool range_error;
  if (type == Type::kFloat4) {
    float f = std::strtof(buf.c_str(), &end);
    range_error = errno == ERANGE && (f == 0.0f || std::isinf(f));
    v = f;
  } else {
    v = std::strtod(buf.c_str(), &end);
    range_error = errno == ERANGE && (v == 0.0 || std::isinf(v));
  }
  if (end == buf.c_str() || *end != '\0') return InvalidInput(type, text);
  if (range_error) {
    return Status::Permanent(Quoted(s) + " is out of range for type " + TypeName(type));
  }
  return Value::Float(type, v);
}

Result<Value> ParseBool(std::string_view text) {
  std::string_view s = Trim(text);
  auto prefix_of = [&](std::string_view word, size_t min_len) {
    return s.size() >= min_len && s.size() <= word.size() &&
           EqualsIgnoreCase(s, word.substr(0, s.size()));
  };
  if (prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || s == "1") {
    return Value::Bool(true);
  }
  if (prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || s == "0") {
    return Value::Bool(false);
  }
  return InvalidInput(Type::kBool, text);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Value> ParseUuid(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '{') {
    if (s.size() < 2 || s.back() != '}') return InvalidInput(Type::kUuid, text);
    s = s.substr(1, s.size() - 2);
  }
  std::string hex;
  hex.reserve(32);
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (HexValue(c) >= 0) {
      hex.push_back(Lower(c));
    } else if (c == '-' && hex.size() % 4 == 0 && !hex.empty() && hex.size() < 32 &&
               i + 1 < s.size() && s[i + 1] != '-') {
      // Postgres allows a hyphen after any group of four digits.
    } else {
      return InvalidInput(Type::kUuid, text);
    }
  }
  if (hex.size() != 32) return InvalidInput(Type::kUuid, text);
  std::string canonical = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
                          "-" + hex.substr(16, 4) + "-" + hex.substr(20);
  return Value::Text(Type::kUuid, std::move(canonical));
}

// Characters (not bytes) of UTF-8 text.
size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// The first `n` characters of UTF-8 text.
std::string_view FirstChars(std::string_view s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == n) return s.substr(0, i);
      ++count;
    }
  }
  return s;
}

std::string_view RTrimSpaces(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

Result<Value> ApplyStringTypmod(Value v, const TypeSpec& target) {
  v.type = target.type;
  if (target.mod1 < 0) return v;
  const size_t n = static_cast<size_t>(target.mod1);
  if (target.type == Type::kText) {
    v.text = std::string(FirstChars(v.text, n));
  } else {
    v.text = std::string(FirstChars(v.text, n));
    size_t chars = CharCount(v.text);
    if (chars < n) v.text.append(n - chars, ' ');
  }
  return v;
}

double ToDouble(const Value& v) {
  if (IsInteger(v.type)) return static_cast<double>(v.integer);
  if (v.type == Type::kNumeric) return v.numeric.ToDouble();
  return v.real;
}

Numeric ToNumeric(const Value& v) {
  if (IsInteger(v.type)) return Numeric::FromInt(v.integer);
  return v.numeric;
}

int CompareDoubles(double a, double b) {
  // Postgres: NaN equals NaN and sorts above everything.
  if (std::isnan(a)) return std::isnan(b) ? 0 : 1;
  if (std::isnan(b)) return -1;
  return a < b ? -1 : (a > b ? 1 : 0);
}

int CompareBytes(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int64_t ToMicros(const Value& v) {
  return v.type == Type::kDate ? DateToTimestamp(v.integer) : v.integer;
}

bool Holds(CompareOp op, int c) {
  switch (op) {
    case CompareOp::kEq:
      return c == 0;
    case CompareOp::kNe:
      return c != 0;
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
  }
  return false;
}

std::string OtherTypeName(const Value& v) { return "type with OID " + std::to_string(v.type_oid); }

std::string DisplayType(const Value& v) {
  return v.type == Type::kOther ? OtherTypeName(v) : TypeName(v.type);
}

Status NoOperator(std::string_view op, const Value& a, const Value& b) {
  std::string message =
      "operator does not exist: " + DisplayType(a) + " " + std::string(op) + " " + DisplayType(b);
  if (a.type == Type::kOther || b.type == Type::kOther) {
    message += " (the filter compares this type only after a cast to text: col::text)";
  } else {
    message += " (add an explicit cast)";
  }
  return Status::Permanent(message);
}

}  // namespace

Result<Value> ResolveLiteral(const Value& literal, const Value& other, std::string_view op) {
  if (other.type == Type::kOther || other.type == Type::kJson) {
    return NoOperator(op, other, literal);
  }
  return ParseValue(other.type, literal.text);
}

namespace {

Result<Value> FloatResult(Type type, double result, double a, double b, bool check_zero) {
  if (type == Type::kFloat4) {
    float f = static_cast<float>(result);
    if (std::isinf(f) && !std::isinf(a) && !std::isinf(b)) {
      return Status::Permanent("value out of range: overflow");
    }
    if (check_zero && f == 0.0f && a != 0.0 && b != 0.0) {
      return Status::Permanent("value out of range: underflow");
    }
    return Value::Float(type, f);
  }
  if (std::isinf(result) && !std::isinf(a) && !std::isinf(b)) {
    return Status::Permanent("value out of range: overflow");
  }
  if (check_zero && result == 0.0 && a != 0.0 && b != 0.0) {
    return Status::Permanent("value out of range: underflow");
  }
  return Value::Float(type, result);
}

Type WiderInt(Type a, Type b) {
  if (a == Type::kInt8 || b == Type::kInt8) return Type::kInt8;
  if (a == Type::kInt4 || b == Type::kInt4) return Type::kInt4;
  return Type::kInt2;
}

}  // namespace

std::string TypeName(Type type) {
  switch (type) {
    case Type::kUnknown:
      return "unknown";
    case Type::kBool:
      return "boolean";
    case Type::kInt2:
      return "smallint";
    case Type::kInt4:
      return "integer";
    case Type::kInt8:
      return "bigint";
    case Type::kNumeric:
      return "numeric";
    case Type::kFloat4:
      return "real";
    case Type::kFloat8:
      return "double precision";
    case Type::kText:
      return "text";
    case Type::kBpchar:
      return "character";
    case Type::kDate:
      return "date";
    case Type::kTimestamp:
      return "timestamp without time zone";
    case Type::kTimestampTz:
      return "timestamp with time zone";
    case Type::kUuid:
      return "uuid";
    case Type::kJson:
      return "json";
    case Type::kJsonb:
      return "jsonb";
    case Type::kOther:
      return "an unsupported type";
  }
  return "unknown";
}

Value Value::Null(Type type) {
  Value v;
  v.type = type;
  v.null = true;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.type = Type::kBool;
  v.null = false;
  v.boolean = b;
  return v;
}

Value Value::Int(Type type, int64_t i) {
  Value v;
  v.type = type;
  v.null = false;
  v.integer = i;
  return v;
}

Value Value::Float(Type type, double d) {
  Value v;
  v.type = type;
  v.null = false;
  v.real = d;
  return v;
}

Value Value::Num(Numeric n) {
  Value v;
  v.type = Type::kNumeric;
  v.null = false;
  v.numeric = std::move(n);
  return v;
}

Value Value::Text(Type type, std::string s) {
  Value v;
  v.type = type;
  v.null = false;
  v.text = std::move(s);
  return v;
}

Value Value::Json(Type type, JsonRef doc, const JsonNode* node) {
  Value v;
  v.type = type;
  v.null = false;
  v.json = std::move(doc);
  v.node = node;
  return v;
}

std::string FormatFloat(double value, bool float4) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  char buf[64];
  std::to_chars_result r;
  if (float4) {
    r = std::to_chars(buf, buf + sizeof(buf), static_cast<float>(value),
                      std::chars_format::scientific);
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  }
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  // sci: [-]d[.ddd]e(+|-)XX
  const bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exponent);
  std::string out = negative ? "-" : "";
  const int max_fixed = float4 ? 6 : 15;  // FLT_DIG / DBL_DIG
  if (exponent < -4 || exponent >= max_fixed) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                  exponent < 0 ? -exponent : exponent);
    out += exp_buf;
  } else if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
  } else {
    const size_t int_len = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_len) {
      out += digits;
      out.append(int_len - digits.size(), '0');
    } else {
      out.append(digits, 0, int_len);
      out.push_back('.');
      out.append(digits, int_len, std::string::npos);
    }
  }
  return out;
}

Result<Value> ParseValue(Type type, std::string_view text) {
  switch (type) {
    case Type::kUnknown:
    case Type::kText:
    case Type::kBpchar:
    case Type::kOther:
      return Value::Text(type, std::string(text));
    case Type::kBool:
      return ParseBool(text);
    case Type::kInt2:
    case Type::kInt4:
    case Type::kInt8:
      return ParseInteger(type, text);
    case Type::kNumeric: {
      auto n = Numeric::Parse(text);
      if (!n.has_value()) return InvalidInput(type, text);
      return Value::Num(std::move(*n));
    }
    case Type::kFloat4:
    case Type::kFloat8:
      return ParseFloat(type, text);
    case Type::kDate:
    case Type::kTimestamp:
    case Type::kTimestampTz: {
      SLUICE_ASSIGN_OR_RETURN(int64_t v, ParseDateTime(text, ToDateTimeType(type)));
      return Value::Int(type, v);
    }
    case Type::kUuid:
      return ParseUuid(text);
    case Type::kJson:
    case Type::kJsonb: {
      SLUICE_ASSIGN_OR_RETURN(JsonRef doc, ParseJson(std::string(text), type == Type::kJsonb));
      const JsonNode* root = &doc->root;
      return Value::Json(type, std::move(doc), root);
    }
  }
  return InvalidInput(type, text);
}

std::string OutputText(const Value& v) {
  switch (v.type) {
    case Type::kBool:
      return v.boolean ? "t" : "f";
    case Type::kInt2:
    case Type::kInt4:
    case Type::kInt8:
      return std::to_string(v.integer);
    case Type::kNumeric:
      return v.numeric.ToString();
    case Type::kFloat4:
    case Type::kFloat8:
      return FormatFloat(v.real, v.type == Type::kFloat4);
    case Type::kDate:
    case Type::kTimestamp:
    case Type::kTimestampTz:
      return FormatDateTime(v.integer, ToDateTimeType(v.type));
    case Type::kJson:
    case Type::kJsonb:
      return JsonText(*v.json, *v.node);
    case Type::kUnknown:
    case Type::kText:
    case Type::kBpchar:
    case Type::kUuid:
    case Type::kOther:
      return v.text;
  }
  return v.text;
}

Result<Value> Cast(const Value& v, const TypeSpec& target) {
  const Type to = target.type;
  if (v.null) return Value::Null(to);
  const Type from = v.type;
  auto cannot = [&]() {
    return Status::Permanent("cannot cast type " + DisplayType(v) + " to " + TypeName(to));
  };
  if (to == Type::kText || to == Type::kBpchar) {
    Value out;
    if (from == Type::kBpchar && to == Type::kText) {
      out = Value::Text(to, std::string(RTrimSpaces(v.text)));
    } else if (from == Type::kBool) {
      out = Value::Text(to, v.boolean ? "true" : "false");
    } else {
      out = Value::Text(to, OutputText(v));
    }
    return ApplyStringTypmod(std::move(out), target);
  }
  if (to == Type::kNumeric && target.mod1 >= 0) {
    SLUICE_ASSIGN_OR_RETURN(Value n, Cast(v, TypeSpec{Type::kNumeric}));
    SLUICE_ASSIGN_OR_RETURN(Numeric rounded,
                            n.numeric.ApplyTypmod(target.mod1, std::max(0, target.mod2)));
    return Value::Num(std::move(rounded));
  }
  if (from == Type::kUnknown || IsString(from) || from == Type::kOther) {
    if (from == Type::kOther && to != Type::kOther) return cannot();
    return ParseValue(to, v.text);
  }
  if (from == to) return v;
  if (IsNumber(from) && IsNumber(to)) {
    if (IsInteger(to)) {
      if (IsInteger(from)) return CheckedInt(to, v.integer);
      int64_t min, max;
      IntRange(to, &min, &max);
      if (from == Type::kNumeric) {
        SLUICE_ASSIGN_OR_RETURN(int64_t i, v.numeric.ToInteger(min, max, TypeName(to)));
        return Value::Int(to, i);
      }
      // float -> int rounds half to even (rint); NaN and out of range fail.
      const double r = std::nearbyint(v.real);
      if (std::isnan(r) || r < static_cast<double>(min) || r >= -static_cast<double>(min)) {
        return IntOutOfRange(to);
      }
      return CheckedInt(to, static_cast<int64_t>(r));
    }
    if (to == Type::kNumeric) {
      if (IsInteger(from)) return Value::Num(Numeric::FromInt(v.integer));
      if (std::isnan(v.real)) return Value::Num(Numeric::NaN());
      if (std::isinf(v.real)) return Value::Num(Numeric::Infinity(v.real < 0));
      // Postgres converts through "%.*g" with FLT_DIG / DBL_DIG digits.
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.*g", from == Type::kFloat4 ? 6 : 15, v.real);
      auto n = Numeric::Parse(buf);
      if (!n.has_value()) return cannot();
      return Value::Num(std::move(*n));
    }
    // to float
    const double d = ToDouble(v);
    if (to == Type::kFloat4) {
      const float f = static_cast<float>(d);
      if (std::isinf(f) && !std::isinf(d)) {
        return Status::Permanent("value out of range: overflow");
      }
      if (f == 0.0f && d != 0.0) return Status::Permanent("value out of range: underflow");
      return Value::Float(to, f);
    }
    return Value::Float(to, d);
  }
  if (from == Type::kBool && to == Type::kInt4) return Value::Int(to, v.boolean ? 1 : 0);
  if (from == Type::kInt4 && to == Type::kBool) return Value::Bool(v.integer != 0);
  if (IsDateTime(from) && IsDateTime(to)) {
    if (to == Type::kDate) return Value::Int(to, TimestampToDate(v.integer));
    if (from == Type::kDate) {
      const int64_t days = v.integer;
      if (days != kDatePositiveInfinity && days != kDateNegativeInfinity) {
        const int64_t micros = DateToTimestamp(days);
        if (micros == kTimestampPositiveInfinity - 1 || micros == kTimestampNegativeInfinity + 1) {
          return Status::Permanent("date out of range for timestamp");
        }
      }
      return Value::Int(to, DateToTimestamp(days));
    }
    return Value::Int(to, v.integer);  // timestamp <-> timestamptz in UTC
  }
  if (from == Type::kJson && to == Type::kJsonb) {
    SLUICE_ASSIGN_OR_RETURN(JsonRef doc, ParseJson(JsonText(*v.json, *v.node), true));
    const JsonNode* root = &doc->root;
    return Value::Json(to, std::move(doc), root);
  }
  if (from == Type::kJsonb && to == Type::kJson) {
    SLUICE_ASSIGN_OR_RETURN(JsonRef doc, ParseJson(JsonbText(*v.node), false));
    const JsonNode* root = &doc->root;
    return Value::Json(to, std::move(doc), root);
  }
  if (from == Type::kJsonb && (IsNumber(to) || to == Type::kBool)) {
    const JsonNode& node = *v.node;
    const char* kind = "";
    switch (node.kind) {
      case JsonNode::Kind::kNull:
        kind = "null";
        break;
      case JsonNode::Kind::kTrue:
      case JsonNode::Kind::kFalse:
        kind = "boolean";
        break;
      case JsonNode::Kind::kNumber:
        kind = "numeric";
        break;
      case JsonNode::Kind::kString:
        kind = "string";
        break;
      case JsonNode::Kind::kArray:
        kind = "array";
        break;
      case JsonNode::Kind::kObject:
        kind = "object";
        break;
    }
    if (to == Type::kBool) {
      if (node.kind == JsonNode::Kind::kTrue || node.kind == JsonNode::Kind::kFalse) {
        return Value::Bool(node.kind == JsonNode::Kind::kTrue);
      }
    } else if (node.kind == JsonNode::Kind::kNumber) {
      auto n = Numeric::Parse(node.text);
      if (!n.has_value()) return cannot();
      return Cast(Value::Num(std::move(*n)), target);
    }
    return Status::Permanent(std::string("cannot cast jsonb ") + kind + " to type " + TypeName(to));
  }
  return cannot();
}

const char* CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "<>";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "=";
}

Result<std::optional<bool>> CompareValues(const Value& a_in, const Value& b_in, CompareOp op) {
  if (a_in.null || b_in.null) return std::optional<bool>();
  const char* op_name = CompareOpName(op);
  // An untyped literal takes the other side's type; two of them compare as
  // text.
  Value resolved;
  const Value* a = &a_in;
  const Value* b = &b_in;
  if (a->type == Type::kUnknown && b->type != Type::kUnknown) {
    SLUICE_ASSIGN_OR_RETURN(resolved, ResolveLiteral(*a, *b, op_name));
    a = &resolved;
  } else if (b->type == Type::kUnknown && a->type != Type::kUnknown) {
    SLUICE_ASSIGN_OR_RETURN(resolved, ResolveLiteral(*b, *a, op_name));
    b = &resolved;
  }
  const Type ta = a->type == Type::kUnknown ? Type::kText : a->type;
  const Type tb = b->type == Type::kUnknown ? Type::kText : b->type;
  int c = 0;
  if (IsNumber(ta) && IsNumber(tb)) {
    if (IsInteger(ta) && IsInteger(tb)) {
      c = a->integer < b->integer ? -1 : (a->integer > b->integer ? 1 : 0);
    } else if (IsFloat(ta) || IsFloat(tb)) {
      c = CompareDoubles(ToDouble(*a), ToDouble(*b));
    } else {
      c = ToNumeric(*a).Compare(ToNumeric(*b));
    }
  } else if (IsString(ta) && IsString(tb)) {
    // character(n) drops its padding when compared, also against text.
    std::string_view x = ta == Type::kBpchar ? RTrimSpaces(a->text) : std::string_view(a->text);
    std::string_view y = tb == Type::kBpchar ? RTrimSpaces(b->text) : std::string_view(b->text);
    c = CompareBytes(x, y);
  } else if (ta == Type::kBool && tb == Type::kBool) {
    c = static_cast<int>(a->boolean) - static_cast<int>(b->boolean);
  } else if (IsDateTime(ta) && IsDateTime(tb)) {
    if (ta == Type::kDate && tb == Type::kDate) {
      c = a->integer < b->integer ? -1 : (a->integer > b->integer ? 1 : 0);
    } else {
      const int64_t x = ToMicros(*a), y = ToMicros(*b);
      c = x < y ? -1 : (x > y ? 1 : 0);
    }
  } else if (ta == Type::kUuid && tb == Type::kUuid) {
    c = CompareBytes(a->text, b->text);
  } else if (ta == Type::kJsonb && tb == Type::kJsonb &&
             (op == CompareOp::kEq || op == CompareOp::kNe)) {
    c = JsonbEqual(*a->node, *b->node) ? 0 : 1;
  } else {
    return NoOperator(op_name, *a, *b);
  }
  return std::optional<bool>(Holds(op, c));
}

Result<std::optional<bool>> AsBoolean(const Value& v, std::string_view context) {
  if (v.type == Type::kBool) {
    return v.null ? std::optional<bool>() : std::optional<bool>(v.boolean);
  }
  if (v.null && v.type == Type::kUnknown) return std::optional<bool>();
  if (v.type == Type::kUnknown) {
    SLUICE_ASSIGN_OR_RETURN(Value b, ParseBool(v.text));
    return std::optional<bool>(b.boolean);
  }
  return Status::Permanent("argument of " + std::string(context) +
                           " must be type boolean, not type " + DisplayType(v));
}

Result<Value> Negate(const Value& v) {
  if (v.type == Type::kUnknown && !v.null) {
    return Status::Permanent("operator is not unique: - unknown (add a cast)");
  }
  if (v.null) return v;
  if (IsInteger(v.type)) return CheckedInt(v.type, -static_cast<__int128>(v.integer));
  if (IsFloat(v.type)) return Value::Float(v.type, -v.real);
  if (v.type == Type::kNumeric) return Value::Num(v.numeric.Negate());
  return Status::Permanent("operator does not exist: - " + DisplayType(v));
}

Result<Value> Arithmetic(char op, const Value& a_in, const Value& b_in) {
  const std::string op_name(1, op);
  Value resolved;
  const Value* a = &a_in;
  const Value* b = &b_in;
  if (a->type == Type::kUnknown && b->type == Type::kUnknown) {
    return Status::Permanent("operator is not unique: unknown " + op_name +
                             " unknown (add a cast)");
  }
  if (a->type == Type::kUnknown && !a->null && !b->null) {
    SLUICE_ASSIGN_OR_RETURN(resolved, ResolveLiteral(*a, *b, op_name));
    a = &resolved;
  } else if (b->type == Type::kUnknown && !b->null && !a->null) {
    SLUICE_ASSIGN_OR_RETURN(resolved, ResolveLiteral(*b, *a, op_name));
    b = &resolved;
  }
  const Type ta = a->type == Type::kUnknown ? b->type : a->type;
  const Type tb = b->type == Type::kUnknown ? a->type : b->type;
  if (!IsNumber(ta) || !IsNumber(tb)) {
    Value x = *a, y = *b;
    x.type = ta;
    y.type = tb;
    return NoOperator(op_name, x, y);
  }
  // The result type, as Postgres resolves the operator.
  Type result;
  if (IsInteger(ta) && IsInteger(tb)) {
    result = WiderInt(ta, tb);
  } else if (IsFloat(ta) || IsFloat(tb)) {
    result = (ta == Type::kFloat4 && tb == Type::kFloat4) ? Type::kFloat4 : Type::kFloat8;
  } else {
    result = Type::kNumeric;
  }
  if (a->null || b->null) return Value::Null(result);
  if (result == Type::kNumeric) {
    const Numeric x = ToNumeric(*a), y = ToNumeric(*b);
    switch (op) {
      case '+':
        return Value::Num(Numeric::Add(x, y));
      case '-':
        return Value::Num(Numeric::Subtract(x, y));
      case '*':
        return Value::Num(Numeric::Multiply(x, y));
      case '/': {
        SLUICE_ASSIGN_OR_RETURN(Numeric q, Numeric::Divide(x, y));
        return Value::Num(std::move(q));
      }
      case '%': {
        SLUICE_ASSIGN_OR_RETURN(Numeric r, Numeric::Modulo(x, y));
        return Value::Num(std::move(r));
      }
    }
  } else if (IsFloat(result)) {
    const double x = ToDouble(*a), y = ToDouble(*b);
    switch (op) {
      case '+':
        return FloatResult(result, x + y, x, y, false);
      case '-':
        return FloatResult(result, x - y, x, y, false);
      case '*':
        return FloatResult(result, x * y, x, y, true);
      case '/':
        if (y == 0.0 && !std::isnan(x)) return Status::Permanent("division by zero");
        return FloatResult(result, x / y, x, y, true);
      case '%':
        break;
    }
    return NoOperator(op_name, *a, *b);
  } else {
    const __int128 x = a->integer, y = b->integer;
    switch (op) {
      case '+':
        return CheckedInt(result, x + y);
      case '-':
        return CheckedInt(result, x - y);
      case '*':
        return CheckedInt(result, x * y);
      case '/':
        if (y == 0) return Status::Permanent("division by zero");
        return CheckedInt(result, x / y);
      case '%':
        if (y == 0) return Status::Permanent("division by zero");
        return CheckedInt(result, x % y);
    }
  }
  return NoOperator(op_name, *a, *b);
}

Result<std::string_view> LikeOperand(const Value& v, std::string_view op) {
  if (v.type == Type::kUnknown || IsString(v.type)) return std::string_view(v.text);
  return Status::Permanent("operator does not exist: " + DisplayType(v) + " " + std::string(op) +
                           " text (cast to text first)");
}

Result<Value> JsonGet(const Value& container, const Value& key, bool as_text) {
  const Type result_type = as_text ? Type::kText : container.type;
  // A missing column (NULL of no type) gives NULL.
  if (container.null && container.type == Type::kUnknown) return Value::Null(result_type);
  if (container.type != Type::kJson && container.type != Type::kJsonb) {
    return Status::Permanent(std::string("operator does not exist: ") + DisplayType(container) +
                             (as_text ? " ->> " : " -> ") + DisplayType(key) +
                             " (the left side must be json or jsonb)");
  }
  if (container.null || key.null) return Value::Null(result_type);
  const JsonNode* found = nullptr;
  if (IsInteger(key.type)) {
    found = JsonElement(*container.node, key.integer);
  } else if (key.type == Type::kUnknown || IsString(key.type)) {
    found = JsonField(*container.json, *container.node, key.text);
  } else {
    return Status::Permanent(std::string("operator does not exist: ") + DisplayType(container) +
                             (as_text ? " ->> " : " -> ") + DisplayType(key) +
                             " (the right side must be text or integer)");
  }
  if (found == nullptr) return Value::Null(result_type);
  if (!as_text) return Value::Json(container.type, container.json, found);
  switch (found->kind) {
    case JsonNode::Kind::kNull:
      return Value::Null(Type::kText);
    case JsonNode::Kind::kString:
      return Value::Text(Type::kText, found->text);
    case JsonNode::Kind::kTrue:
      return Value::Text(Type::kText, "true");
    case JsonNode::Kind::kFalse:
      return Value::Text(Type::kText, "false");
    default:
      return Value::Text(Type::kText, JsonText(*container.json, *found));
  }
}

}  // namespace sluice::filter
