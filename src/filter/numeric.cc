#include "filter/numeric.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace sluice::filter {
namespace {

// Postgres rejects exponents beyond this in numeric input.
constexpr int32_t kMaxInputExponent = 1000;
// numeric division never shows more digits than this.
constexpr int32_t kMaxDisplayScale = 1000;
// At least this many significant digits in a quotient (NUMERIC_MIN_SIG_DIGITS).
constexpr int32_t kMinSignificantDigits = 16;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// Unsigned magnitudes as decimal digit strings, most significant first,
// without leading zeros ("" is zero).
std::string StripLeadingZeros(std::string s) {
  size_t i = 0;
  while (i < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

int CompareMag(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string AddMag(const std::string& a, const std::string& b) {
  std::string out;
  out.reserve(std::max(a.size(), b.size()) + 1);
  int carry = 0;
  size_t i = a.size(), j = b.size();
  while (i > 0 || j > 0 || carry) {
    int d = carry;
    if (i > 0) d += a[--i] - '0';
    if (j > 0) d += b[--j] - '0';
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return StripLeadingZeros(std::move(out));
}

// a - b for a >= b.
std::string SubMag(const std::string& a, const std::string& b) {
  std::string out;
  out.reserve(a.size());
  int borrow = 0;
  size_t i = a.size(), j = b.size();
  while (i > 0) {
    int d = (a[--i] - '0') - borrow;
    if (j > 0) d -= b[--j] - '0';
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    out.push_back(static_cast<char>('0' + d));
  }
  std::reverse(out.begin(), out.end());
  return StripLeadingZeros(std::move(out));
}

std::string MulMag(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return "";
  std::vector<int> acc(a.size() + b.size(), 0);
  for (size_t i = a.size(); i-- > 0;) {
    int carry = 0;
    for (size_t j = b.size(); j-- > 0;) {
      int cur = acc[i + j + 1] + (a[i] - '0') * (b[j] - '0') + carry;
      acc[i + j + 1] = cur % 10;
      carry = cur / 10;
    }
    acc[i] += carry;
  }
  std::string out;
  out.reserve(acc.size());
  for (int d : acc) out.push_back(static_cast<char>('0' + d));
  return StripLeadingZeros(std::move(out));
}

// Truncating division of magnitudes; b non-zero.
std::string DivMag(const std::string& a, const std::string& b) {
  std::string quotient;
  quotient.reserve(a.size());
  std::string rem;
  for (char c : a) {
    rem.push_back(c);
    rem = StripLeadingZeros(std::move(rem));
    int q = 0;
    while (CompareMag(rem, b) >= 0) {
      rem = SubMag(rem, b);
      ++q;
    }
    quotient.push_back(static_cast<char>('0' + q));
  }
  return StripLeadingZeros(std::move(quotient));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::optional<Numeric> Numeric::Parse(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  std::string_view s = text.substr(begin, end - begin);
  if (EqualsIgnoreCase(s, "nan")) return NaN();
  for (std::string_view word : {"infinity", "+infinity", "inf", "+inf"}) {
    if (EqualsIgnoreCase(s, word)) return Infinity(false);
  }
  for (std::string_view word : {"-infinity", "-inf"}) {
    if (EqualsIgnoreCase(s, word)) return Infinity(true);
  }
  Numeric n;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    n.negative_ = s[i] == '-';
    ++i;
  }
  std::string digits;
  int64_t int_digits = 0, frac_digits = 0;
  bool seen_point = false, any_digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
      any_digit = true;
      if (seen_point) {
        ++frac_digits;
      } else {
        ++int_digits;
      }
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return std::nullopt;
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      exponent = exponent * 10 + (s[i] - '0');
      if (exponent > kMaxInputExponent) return std::nullopt;
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;
  n.dscale_ = static_cast<int32_t>(std::max<int64_t>(0, frac_digits - exponent));
  // Leading zeros do not move the point: the value is
  // 0.<digits> x 10^(int_digits + exponent).
  n.exponent_ = static_cast<int32_t>(int_digits + exponent);
  n.digits_ = std::move(digits);
  n.Normalize();
  return n;
}

Numeric Numeric::FromInt(int64_t value) {
  Numeric n;
  n.negative_ = value < 0;
  uint64_t mag = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  n.digits_ = std::to_string(mag);
  n.exponent_ = static_cast<int32_t>(n.digits_.size());
  n.Normalize();
  return n;
}

Numeric Numeric::NaN() {
  Numeric n;
  n.special_ = Special::kNaN;
  return n;
}

Numeric Numeric::Infinity(bool negative) {
  Numeric n;
  n.special_ = negative ? Special::kNegativeInfinity : Special::kPositiveInfinity;
  n.negative_ = negative;
  return n;
}

void Numeric::Normalize() {
  size_t lead = 0;
  while (lead < digits_.size() && digits_[lead] == '0') ++lead;
  if (lead == digits_.size()) {
    digits_.clear();
    exponent_ = 0;
    negative_ = false;
    return;
  }
  digits_.erase(0, lead);
  exponent_ -= static_cast<int32_t>(lead);
  size_t last = digits_.find_last_not_of('0');
  digits_.resize(last + 1);
}

int Numeric::DigitAt(int64_t place) const {
  int64_t index = static_cast<int64_t>(exponent_) - 1 - place;
  if (index < 0 || index >= static_cast<int64_t>(digits_.size())) return 0;
  return digits_[static_cast<size_t>(index)] - '0';
}

std::string Numeric::ToString() const {
  switch (special_) {
    case Special::kNaN:
      return "NaN";
    case Special::kPositiveInfinity:
      return "Infinity";
    case Special::kNegativeInfinity:
      return "-Infinity";
    case Special::kNone:
      break;
  }
  std::string out;
  if (negative_) out.push_back('-');
  if (exponent_ <= 0) {
    out.push_back('0');
  } else {
    for (int64_t place = exponent_ - 1; place >= 0; --place) {
      out.push_back(static_cast<char>('0' + DigitAt(place)));
    }
  }
  if (dscale_ > 0) {
    out.push_back('.');
    for (int64_t place = -1; place >= -static_cast<int64_t>(dscale_); --place) {
      out.push_back(static_cast<char>('0' + DigitAt(place)));
    }
  }
  return out;
}

double Numeric::ToDouble() const {
  switch (special_) {
    case Special::kNaN:
      return std::numeric_limits<double>::quiet_NaN();
    case Special::kPositiveInfinity:
      return std::numeric_limits<double>::infinity();
    case Special::kNegativeInfinity:
      return -std::numeric_limits<double>::infinity();
    case Special::kNone:
      break;
  }
  if (digits_.empty()) return 0.0;
  std::string text = "0." + digits_ + "e" + std::to_string(exponent_);
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // Overflow gives infinity, underflow zero (as strtod).
    value = exponent_ > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  (void)ptr;
  return negative_ ? -value : value;
}

Result<int64_t> Numeric::ToInteger(int64_t min, int64_t max, std::string_view type_name) const {
  const std::string out_of_range = std::string(type_name) + " out of range";
  if (special_ == Special::kNaN) {
    return Status::Permanent("cannot convert NaN to " + std::string(type_name));
  }
  if (special_ != Special::kNone) {
    return Status::Permanent("cannot convert infinity to " + std::string(type_name));
  }
  Numeric rounded = Round(0);
  if (rounded.digits_.empty()) return int64_t{0};
  if (rounded.exponent_ > 19) return Status::Permanent(out_of_range);
  __int128 mag = 0;
  for (int64_t place = rounded.exponent_ - 1; place >= 0; --place) {
    mag = mag * 10 + rounded.DigitAt(place);
  }
  __int128 value = rounded.negative_ ? -mag : mag;
  if (value < min || value > max) return Status::Permanent(out_of_range);
  return static_cast<int64_t>(value);
}

int Numeric::CompareMagnitude(const Numeric& a, const Numeric& b) {
  if (a.digits_.empty() || b.digits_.empty()) {
    if (a.digits_.empty() && b.digits_.empty()) return 0;
    return a.digits_.empty() ? -1 : 1;
  }
  if (a.exponent_ != b.exponent_) return a.exponent_ < b.exponent_ ? -1 : 1;
  int c = a.digits_.compare(b.digits_);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int Numeric::Compare(const Numeric& other) const {
  auto rank = [](const Numeric& n) {
    switch (n.special_) {
      case Special::kNegativeInfinity:
        return 0;
      case Special::kNone:
        return 1;
      case Special::kPositiveInfinity:
        return 2;
      case Special::kNaN:
        return 3;
    }
    return 1;
  };
  int ra = rank(*this), rb = rank(other);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra != 1) return 0;
  if (negative_ != other.negative_) return negative_ ? -1 : 1;
  int mag = CompareMagnitude(*this, other);
  return negative_ ? -mag : mag;
}

Numeric Numeric::Negate() const {
  Numeric n = *this;
  switch (special_) {
    case Special::kNaN:
      return n;
    case Special::kPositiveInfinity:
      return Infinity(true);
    case Special::kNegativeInfinity:
      return Infinity(false);
    case Special::kNone:
      break;
  }
  if (!n.digits_.empty()) n.negative_ = !n.negative_;
  return n;
}

Numeric Numeric::Round(int32_t scale) const {
  Numeric n = *this;
  if (special_ != Special::kNone) return n;
  n.dscale_ = scale;
  // Number of digits kept: those at places >= -scale.
  int64_t keep = static_cast<int64_t>(exponent_) + scale;
  if (keep >= static_cast<int64_t>(digits_.size())) return n;
  if (keep < 0) {
    n.digits_.clear();
    n.Normalize();
    return n;
  }
  bool round_up = digits_[static_cast<size_t>(keep)] >= '5';
  n.digits_ = digits_.substr(0, static_cast<size_t>(keep));
  if (round_up) {
    // Add one unit at place -scale.
    int64_t i = keep - 1;
    while (i >= 0 && n.digits_[static_cast<size_t>(i)] == '9') {
      n.digits_[static_cast<size_t>(i)] = '0';
      --i;
    }
    if (i >= 0) {
      n.digits_[static_cast<size_t>(i)]++;
    } else {
      n.digits_.insert(n.digits_.begin(), '1');
      n.exponent_ += 1;
    }
  }
  bool was_negative = n.negative_;
  n.Normalize();
  if (!n.digits_.empty()) n.negative_ = was_negative;
  return n;
}

Result<Numeric> Numeric::ApplyTypmod(int32_t precision, int32_t scale) const {
  if (special_ == Special::kNaN) return *this;
  if (special_ != Special::kNone) {
    return Status::Permanent("numeric field overflow: cannot hold an infinite value");
  }
  Numeric n = Round(scale);
  if (!n.digits_.empty() && n.exponent_ > precision - scale) {
    return Status::Permanent("numeric field overflow: a field with precision " +
                             std::to_string(precision) + ", scale " + std::to_string(scale) +
                             " must round to an absolute value less than 10^" +
                             std::to_string(precision - scale));
  }
  return n;
}

namespace {

// |value| x 10^scale as a digit string; scale covers every fractional digit.
std::string Scaled(const std::string& digits, int32_t exponent, int32_t scale) {
  if (digits.empty()) return "";
  int64_t total = static_cast<int64_t>(exponent) + scale;  // digits before the cut
  std::string out = digits;
  if (total > static_cast<int64_t>(out.size())) {
    out.append(static_cast<size_t>(total - static_cast<int64_t>(out.size())), '0');
  }
  return StripLeadingZeros(std::move(out));
}

}  // namespace

Numeric Numeric::Add(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return NaN();
  if (!a.is_finite() || !b.is_finite()) {
    if (!a.is_finite() && !b.is_finite()) {
      return a.special_ == b.special_ ? a : NaN();
    }
    return a.is_finite() ? b : a;
  }
  auto frac = [](const Numeric& n) {
    return std::max<int32_t>(0, static_cast<int32_t>(n.digits_.size()) - n.exponent_);
  };
  int32_t scale = std::max(frac(a), frac(b));
  std::string ma = Scaled(a.digits_, a.exponent_, scale);
  std::string mb = Scaled(b.digits_, b.exponent_, scale);
  Numeric r;
  if (a.negative_ == b.negative_) {
    r.digits_ = AddMag(ma, mb);
    r.negative_ = a.negative_;
  } else if (CompareMag(ma, mb) >= 0) {
    r.digits_ = SubMag(ma, mb);
    r.negative_ = a.negative_;
  } else {
    r.digits_ = SubMag(mb, ma);
    r.negative_ = b.negative_;
  }
  r.exponent_ = static_cast<int32_t>(r.digits_.size()) - scale;
  r.dscale_ = std::max(a.dscale_, b.dscale_);
  bool negative = r.negative_;
  r.Normalize();
  if (!r.digits_.empty()) r.negative_ = negative;
  return r;
}

Numeric Numeric::Subtract(const Numeric& a, const Numeric& b) { return Add(a, b.Negate()); }

Numeric Numeric::Multiply(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return NaN();
  if (!a.is_finite() || !b.is_finite()) {
    if (a.is_zero() || b.is_zero()) return NaN();
    return Infinity(a.negative_ != b.negative_);
  }
  Numeric r;
  r.digits_ = MulMag(a.digits_, b.digits_);
  // 0.A x 10^ea * 0.B x 10^eb = 0.(A*B) x 10^(ea+eb) when A*B has
  // len(A)+len(B) digits; one less when the product is shorter.
  r.exponent_ = a.exponent_ + b.exponent_ -
                static_cast<int32_t>(a.digits_.size() + b.digits_.size() - r.digits_.size());
  r.negative_ = a.negative_ != b.negative_;
  r.dscale_ = a.dscale_ + b.dscale_;
  bool negative = r.negative_;
  r.Normalize();
  if (!r.digits_.empty()) r.negative_ = negative;
  return r;
}

Result<Numeric> Numeric::Divide(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return NaN();
  if (!a.is_finite()) {
    if (!b.is_finite()) return NaN();
    if (b.is_zero()) return Status::Permanent("division by zero");
    return Infinity(a.negative_ != b.negative_);
  }
  if (!b.is_finite()) return Numeric();
  if (b.is_zero()) return Status::Permanent("division by zero");
  // Postgres' select_div_scale works on base-10000 digits: the weight and
  // value of the first non-zero base-10000 digit of each operand.
  auto weight_and_first = [](const Numeric& n, int64_t* weight, int* first) {
    if (n.digits_.empty()) {
      *weight = 0;
      *first = 0;
      return;
    }
    int64_t top = static_cast<int64_t>(n.exponent_) - 1;
    *weight = FloorDiv(top, 4);
    int value = 0;
    for (int k = 3; k >= 0; --k) value = value * 10 + n.DigitAt(*weight * 4 + k);
    *first = value;
  };
  int64_t w1, w2;
  int f1, f2;
  weight_and_first(a, &w1, &f1);
  weight_and_first(b, &w2, &f2);
  int64_t qweight = w1 - w2;
  if (f1 <= f2) --qweight;
  int64_t rscale = kMinSignificantDigits - qweight * 4;
  rscale = std::max<int64_t>(rscale, a.dscale_);
  rscale = std::max<int64_t>(rscale, b.dscale_);
  rscale = std::max<int64_t>(rscale, 0);
  rscale = std::min<int64_t>(rscale, kMaxDisplayScale);
  if (a.is_zero()) {
    Numeric zero;
    zero.dscale_ = static_cast<int32_t>(rscale);
    return zero;
  }
  // q = trunc(|a| / |b| x 10^(rscale+1)), then round on the last digit.
  auto frac = [](const Numeric& n) {
    return std::max<int32_t>(0, static_cast<int32_t>(n.digits_.size()) - n.exponent_);
  };
  int32_t scale = std::max(frac(a), frac(b));
  std::string ma = Scaled(a.digits_, a.exponent_, scale);
  std::string mb = Scaled(b.digits_, b.exponent_, scale);
  ma.append(static_cast<size_t>(rscale + 1), '0');
  std::string q = DivMag(ma, mb);
  Numeric r;
  r.digits_ = q;
  r.exponent_ = static_cast<int32_t>(q.size()) - static_cast<int32_t>(rscale + 1);
  r.negative_ = a.negative_ != b.negative_;
  r.dscale_ = static_cast<int32_t>(rscale + 1);
  bool negative = r.negative_;
  r.Normalize();
  if (!r.digits_.empty()) r.negative_ = negative;
  return r.Round(static_cast<int32_t>(rscale));
}

Result<Numeric> Numeric::Modulo(const Numeric& a, const Numeric& b) {
  if (a.is_nan() || b.is_nan()) return NaN();
  if (!a.is_finite()) return NaN();
  if (!b.is_finite()) return a;
  if (b.is_zero()) return Status::Permanent("division by zero");
  auto frac = [](const Numeric& n) {
    return std::max<int32_t>(0, static_cast<int32_t>(n.digits_.size()) - n.exponent_);
  };
  int32_t scale = std::max(frac(a), frac(b));
  std::string ma = Scaled(a.digits_, a.exponent_, scale);
  std::string mb = Scaled(b.digits_, b.exponent_, scale);
  std::string q = DivMag(ma, mb);
  std::string rem = SubMag(ma, MulMag(q, mb));
  Numeric r;
  r.digits_ = rem;
  r.exponent_ = static_cast<int32_t>(rem.size()) - scale;
  r.negative_ = a.negative_;  // the remainder takes the dividend's sign
  r.dscale_ = std::max(a.dscale_, b.dscale_);
  bool negative = r.negative_;
  r.Normalize();
  if (!r.digits_.empty()) r.negative_ = negative;
  return r;
}

}  // namespace sluice::filter
