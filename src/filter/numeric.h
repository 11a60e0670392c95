// Arbitrary-precision decimal with Postgres `numeric` semantics: input and
// output forms, ordering (NaN above +Infinity above every number), the
// display scale, and the arithmetic the filter needs. Values are decimal
// digit strings; nothing goes through a double.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::filter {

class Numeric {
 public:
  enum class Special : unsigned char { kNone, kNaN, kPositiveInfinity, kNegativeInfinity };

  Numeric() = default;  // 0

  // numeric_in: optional surrounding whitespace, sign, digits with an
  // optional point, optional exponent; NaN, [+-]Infinity, [+-]inf (any case).
  // nullopt when `text` is not that.
  static std::optional<Numeric> Parse(std::string_view text);
  static Numeric FromInt(int64_t value);
  static Numeric NaN();
  static Numeric Infinity(bool negative);

  // numeric_out: "-12.340" (digits to the display scale), "NaN",
  // "Infinity", "-Infinity".
  std::string ToString() const;
  // Nearest double (correctly rounded); NaN and infinities map over.
  double ToDouble() const;
  // Rounded half away from zero to an integer; error when it does not fit
  // in [min, max] (or is NaN or infinite). `type_name` is for the message.
  Result<int64_t> ToInteger(int64_t min, int64_t max, std::string_view type_name) const;

  // Total order of Postgres: -Infinity < numbers < Infinity < NaN, NaN = NaN.
  int Compare(const Numeric& other) const;

  bool is_nan() const { return special_ == Special::kNaN; }
  bool is_finite() const { return special_ == Special::kNone; }
  bool is_zero() const { return special_ == Special::kNone && digits_.empty(); }
  bool negative() const { return negative_; }
  int32_t display_scale() const { return dscale_; }

  Numeric Negate() const;
  // Rounds half away from zero to `scale` digits after the point (scale >= 0);
  // the display scale becomes `scale`.
  Numeric Round(int32_t scale) const;
  // numeric(precision, scale): rounds to `scale`, error when the integer part
  // needs more than precision - scale digits.
  Result<Numeric> ApplyTypmod(int32_t precision, int32_t scale) const;

  // Arithmetic with Postgres' result scales; errors: division by zero.
  static Numeric Add(const Numeric& a, const Numeric& b);
  static Numeric Subtract(const Numeric& a, const Numeric& b);
  static Numeric Multiply(const Numeric& a, const Numeric& b);
  static Result<Numeric> Divide(const Numeric& a, const Numeric& b);
  static Result<Numeric> Modulo(const Numeric& a, const Numeric& b);

 private:
  // Magnitude comparison of two finite values.
  static int CompareMagnitude(const Numeric& a, const Numeric& b);
  void Normalize();
  // Digit of the value at decimal place `place` (0 = units, -1 = tenths).
  int DigitAt(int64_t place) const;

  Special special_ = Special::kNone;
  bool negative_ = false;
  // Significant digits without leading or trailing zeros; empty for zero.
  // The value is 0.<digits_> x 10^exponent_.
  std::string digits_;
  int32_t exponent_ = 0;
  int32_t dscale_ = 0;  // digits shown after the point
};

}  // namespace sluice::filter
