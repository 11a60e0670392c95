// Typed SQL values for filter evaluation and the Postgres rules that apply
// to them: input and output text forms, casts, comparison of two values
// (with the implicit type resolution Postgres does, e.g. an untyped string
// literal takes the other operand's type, int vs numeric compares as
// numeric), and arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "filter/json_document.h"
#include "filter/numeric.h"

namespace sluice::filter {

enum class Type : unsigned char {
  kUnknown,  // an untyped string literal ('...') or an untyped NULL
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kNumeric,
  kFloat4,
  kFloat8,
  kText,    // text, varchar, name, "char", citext, enums: compared as text (C collation)
  kBpchar,  // character(n): trailing spaces do not count in comparisons
  kDate,
  kTimestamp,
  kTimestampTz,
  kUuid,
  kJson,
  kJsonb,
  kOther,  // a column type the filter does not interpret (interval, inet, arrays...)
};

// Postgres' name of `type` ("integer", "timestamp with time zone").
std::string TypeName(Type type);

// A cast target: the type and its modifiers (numeric(p,s), varchar(n),
// character(n)); -1 when absent.
struct TypeSpec {
  Type type = Type::kText;
  int32_t mod1 = -1;
  int32_t mod2 = -1;
};

// A value. Which member holds the value depends on `type`:
//   kBool: boolean; kInt*: integer; kFloat*: real; kNumeric: numeric;
//   kDate: integer (days since 2000-01-01); kTimestamp/kTimestampTz: integer
//   (microseconds since 2000-01-01); kUnknown, kText, kBpchar, kUuid
//   (canonical form), kOther: text; kJson/kJsonb: json + node.
struct Value {
  Type type = Type::kUnknown;
  bool null = true;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  Numeric numeric;
  JsonRef json;
  const JsonNode* node = nullptr;
  uint32_t type_oid = 0;  // kOther: the column's type, for messages

  static Value Null(Type type = Type::kUnknown);
  static Value Bool(bool b);
  static Value Int(Type type, int64_t v);
  static Value Float(Type type, double v);
  static Value Num(Numeric n);
  static Value Text(Type type, std::string s);
  static Value Json(Type type, JsonRef doc, const JsonNode* node);
};

// The input function of `type` applied to `text` (what '...'::type does),
// e.g. "invalid input syntax for type integer: \"abc\"". Also parses the
// text output form of every type, so it reads row values too. kOther keeps
// the text.
Result<Value> ParseValue(Type type, std::string_view text);

// The output function: Postgres' text form of a non-NULL value (bool: t/f).
std::string OutputText(const Value& value);

// An explicit cast (`value::target`). NULL stays NULL (typed).
Result<Value> Cast(const Value& value, const TypeSpec& target);

enum class CompareOp : unsigned char { kEq, kNe, kLt, kLe, kGt, kGe };
const char* CompareOpName(CompareOp op);

// `a op b` with Postgres' type resolution. nullopt when either is NULL.
Result<std::optional<bool>> CompareValues(const Value& a, const Value& b, CompareOp op);

// The three-valued truth of a value in a boolean position: an untyped
// literal takes type boolean; other types are errors ("argument of AND must
// be type boolean, not type integer").
Result<std::optional<bool>> AsBoolean(const Value& value, std::string_view context);

// An untyped literal given the type of the other operand of `op`, as
// Postgres resolves `col = '...'` (CompareValues does this itself; this is
// for callers that cache the result).
Result<Value> ResolveLiteral(const Value& literal, const Value& other, std::string_view op);

// Arithmetic (+ - * / %) and unary minus on numbers.
Result<Value> Arithmetic(char op, const Value& a, const Value& b);
Result<Value> Negate(const Value& value);

// The text a LIKE operand stands for (text, character(n) with its padding,
// untyped literals); errors for other types.
Result<std::string_view> LikeOperand(const Value& value, std::string_view op);

// `doc -> key_or_index` / `->>`: NULL when absent or of the wrong shape.
Result<Value> JsonGet(const Value& container, const Value& key, bool as_text);

// Postgres' float output (shortest exact form, %g-like exponent rule).
std::string FormatFloat(double value, bool float4);

}  // namespace sluice::filter
