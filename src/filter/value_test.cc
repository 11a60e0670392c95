#include "filter/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "filter/datetime.h"
#include "filter/json_document.h"
#include "filter/like.h"
#include "filter/numeric.h"

namespace sluice::filter {
namespace {

Numeric N(const char* text) {
  auto n = Numeric::Parse(text);
  EXPECT_TRUE(n.has_value()) << text;
  return n.value_or(Numeric());
}

TEST(NumericTest, ParsesAndPrintsLikePostgres) {
  EXPECT_EQ(N("1.50").ToString(), "1.50");
  EXPECT_EQ(N(" -0 ").ToString(), "0");
  EXPECT_EQ(N("-0.00").ToString(), "0.00");
  EXPECT_EQ(N(".5").ToString(), "0.5");
  EXPECT_EQ(N("5.").ToString(), "5");
  EXPECT_EQ(N("1e-3").ToString(), "0.001");
  EXPECT_EQ(N("1.0E+2").ToString(), "100");
  EXPECT_EQ(N("1.50e1").ToString(), "15.0");
  EXPECT_EQ(N("00012.3400").ToString(), "12.3400");
  EXPECT_EQ(N("nan").ToString(), "NaN");
  EXPECT_EQ(N("-Infinity").ToString(), "-Infinity");
  EXPECT_EQ(N("inf").ToString(), "Infinity");
  EXPECT_FALSE(Numeric::Parse("1e").has_value());
  EXPECT_FALSE(Numeric::Parse("abc").has_value());
  EXPECT_FALSE(Numeric::Parse(".").has_value());
  EXPECT_FALSE(Numeric::Parse("1 2").has_value());
}

TEST(NumericTest, ComparesExactlyWithNaNAboveEverything) {
  EXPECT_EQ(N("123456789012345678901234567890.000000000000000000001")
                .Compare(N("123456789012345678901234567890")),
            1);
  EXPECT_EQ(N("1.10").Compare(N("1.1")), 0);
  EXPECT_EQ(N("-2").Compare(N("-10")), 1);
  EXPECT_EQ(N("0.001").Compare(N("0.01")), -1);
  EXPECT_EQ(N("NaN").Compare(N("Infinity")), 1);
  EXPECT_EQ(N("NaN").Compare(N("NaN")), 0);
  EXPECT_EQ(N("-Infinity").Compare(N("-1e1000")), -1);
  EXPECT_EQ(N("0").Compare(N("-0.0")), 0);
}

TEST(NumericTest, ArithmeticUsesPostgresScales) {
  EXPECT_EQ(Numeric::Add(N("1.5"), N("2.25")).ToString(), "3.75");
  EXPECT_EQ(Numeric::Subtract(N("1.50"), N("2")).ToString(), "-0.50");
  EXPECT_EQ(Numeric::Multiply(N("1.5"), N("-2.00")).ToString(), "-3.000");
  EXPECT_EQ(Numeric::Divide(N("1"), N("3"))->ToString(), "0.33333333333333333333");
  EXPECT_EQ(Numeric::Divide(N("10"), N("2"))->ToString(), "5.0000000000000000");
  EXPECT_EQ(Numeric::Divide(N("2"), N("3"))->ToString(), "0.66666666666666666667");
  EXPECT_EQ(Numeric::Divide(N("12345678"), N("0.001"))->ToString(), "12345678000.00000000");
  EXPECT_EQ(Numeric::Modulo(N("-7.5"), N("2"))->ToString(), "-1.5");
  EXPECT_FALSE(Numeric::Divide(N("1"), N("0")).ok());
  EXPECT_EQ(N("2.5").ToInteger(-100, 100, "integer").value(), 3);
  EXPECT_EQ(N("-2.5").ToInteger(-100, 100, "integer").value(), -3);
  EXPECT_FALSE(N("2147483648").ToInteger(INT32_MIN, INT32_MAX, "integer").ok());
}

TEST(DateTimeTest, ParsesIsoFormsAndOutput) {
  auto ts = [](const char* s) { return ParseDateTime(s, DateTimeType::kTimestampTz); };
  EXPECT_EQ(ts("2000-01-01").value(), 0);
  EXPECT_EQ(ts("2000-01-01 00:00:01+00").value(), 1000000);
  EXPECT_EQ(ts("2000-01-01T02:00:00+02").value(), 0);
  EXPECT_EQ(ts("2000-01-01 05:30:00+05:30").value(), 0);
  EXPECT_EQ(ts("1999-12-31 23:00:00-0100").value(), 0);
  EXPECT_EQ(ts("2000-01-01 00:00:00.000001Z").value(), 1);
  EXPECT_EQ(ts("2000-01-01 00:00:00 UTC").value(), 0);
  EXPECT_EQ(ts("epoch").value(), -946684800LL * 1000000);
  EXPECT_EQ(ts("infinity").value(), kTimestampPositiveInfinity);
  EXPECT_FALSE(ts("2024-02-30").ok());
  EXPECT_FALSE(ts("24-01-01").ok());
  EXPECT_FALSE(ts("today").ok());
  EXPECT_FALSE(ts("0000-01-01").ok());
  EXPECT_EQ(FormatDateTime(ts("0044-03-15 12:00:00+00 BC").value(), DateTimeType::kTimestampTz),
            "0044-03-15 12:00:00+00 BC");
  EXPECT_EQ(FormatDateTime(ts("2024-02-29 10:00:00.25").value(), DateTimeType::kTimestamp),
            "2024-02-29 10:00:00.25");
  // A zone is ignored for timestamp without time zone.
  EXPECT_EQ(ParseDateTime("2000-01-01 10:00+05", DateTimeType::kTimestamp).value(),
            10LL * 3600 * 1000000);
  EXPECT_EQ(ParseDateTime("2000-01-02 23:59", DateTimeType::kDate).value(), 1);
  EXPECT_EQ(FormatDateTime(ParseDateTime("12345-06-07", DateTimeType::kDate).value(),
                           DateTimeType::kDate),
            "12345-06-07");
}

TEST(LikeTest, PercentUnderscoreAndEscapes) {
  EXPECT_TRUE(LikeMatch("abc", "a%", false).value());
  EXPECT_TRUE(LikeMatch("abc", "%c", false).value());
  EXPECT_TRUE(LikeMatch("abc", "a_c", false).value());
  EXPECT_FALSE(LikeMatch("abc", "a_", false).value());
  EXPECT_TRUE(LikeMatch("", "%", false).value());
  EXPECT_TRUE(LikeMatch("a%c", "a\\%c", false).value());
  EXPECT_FALSE(LikeMatch("abc", "a\\%c", false).value());
  EXPECT_TRUE(LikeMatch("a_c", "a#_c", false, "#").value());
  EXPECT_TRUE(LikeMatch("a\\c", "a\\c", false, "").value());
  EXPECT_TRUE(LikeMatch("mississippi", "%iss%ppi", false).value());
  EXPECT_FALSE(LikeMatch("mississippi", "%iss%ppix", false).value());
  // One character, not one byte.
  EXPECT_TRUE(LikeMatch("ñ", "_", false).value());
  EXPECT_TRUE(LikeMatch("日本語", "日_語", false).value());
  // ILIKE folds ASCII only.
  EXPECT_TRUE(LikeMatch("ABC", "a%c", true).value());
  EXPECT_FALSE(LikeMatch("É", "é", true).value());
  EXPECT_FALSE(LikeMatch("abcd", "abc\\", false).ok());
  EXPECT_FALSE(LikeMatch("abc", "abc\\", false).value());
  EXPECT_FALSE(LikeMatch("x", "%\\", false).ok());
}

TEST(JsonTest, JsonbOutputForm) {
  auto doc = ParseJson(R"({"b": [1, 2.50, 1e2, -0], "a": {"z": null, "y": "é\n"}, "a": 2})", true);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(JsonbText((*doc)->root), R"({"a": 2, "b": [1, 2.50, 100, 0]})");
  auto json = ParseJson(R"({"a": {"x" : 1}, "a": [1,  2]})", false);
  ASSERT_TRUE(json.ok());
  const JsonNode* a = JsonField(**json, (*json)->root, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(JsonText(**json, *a), "[1,  2]");
  EXPECT_EQ(JsonElement(*a, -1)->text, "2");
  EXPECT_EQ(JsonElement(*a, -3), nullptr);
  EXPECT_FALSE(ParseJson("{\"a\":}", false).ok());
  EXPECT_FALSE(ParseJson("\"\\u0000\"", true).ok());
  EXPECT_FALSE(ParseJson("[1] x", false).ok());
}

TEST(ValueTest, FloatOutputMatchesPostgres) {
  EXPECT_EQ(FormatFloat(1500, false), "1500");
  EXPECT_EQ(FormatFloat(1e15, false), "1e+15");
  EXPECT_EQ(FormatFloat(1e14, false), "100000000000000");
  EXPECT_EQ(FormatFloat(0.0001, false), "0.0001");
  EXPECT_EQ(FormatFloat(0.00001, false), "1e-05");
  EXPECT_EQ(FormatFloat(0.1, false), "0.1");
  EXPECT_EQ(FormatFloat(1e6, true), "1e+06");
  EXPECT_EQ(FormatFloat(123456.7f, true), "123456.7");
  EXPECT_EQ(FormatFloat(-1.5e-300, false), "-1.5e-300");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::quiet_NaN(), false), "NaN");
}

TEST(ValueTest, UuidInputForms) {
  const std::string canonical = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
  for (const char* text :
       {"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"}) {
    auto v = ParseValue(Type::kUuid, text);
    ASSERT_TRUE(v.ok()) << text;
    EXPECT_EQ(v->text, canonical) << text;
  }
  EXPECT_FALSE(ParseValue(Type::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1").ok());
  EXPECT_FALSE(ParseValue(Type::kUuid, "-a0eebc999c0b4ef8bb6d6bb9bd380a11").ok());
}

TEST(ValueTest, BooleanInputForms) {
  for (const char* t : {"t", "TRUE", "tr", "yes", "y", "on", "1", " true "}) {
    EXPECT_TRUE(ParseValue(Type::kBool, t)->boolean) << t;
  }
  for (const char* f : {"f", "false", "no", "n", "off", "of", "0"}) {
    EXPECT_FALSE(ParseValue(Type::kBool, f)->boolean) << f;
  }
  EXPECT_FALSE(ParseValue(Type::kBool, "o").ok());
  EXPECT_FALSE(ParseValue(Type::kBool, "maybe").ok());
}

TEST(ValueTest, IntegerInputRanges) {
  EXPECT_EQ(ParseValue(Type::kInt8, "-9223372036854775808")->integer, INT64_MIN);
  EXPECT_FALSE(ParseValue(Type::kInt8, "9223372036854775808").ok());
  EXPECT_FALSE(ParseValue(Type::kInt2, "32768").ok());
  EXPECT_EQ(ParseValue(Type::kInt4, " +42 ")->integer, 42);
  EXPECT_FALSE(ParseValue(Type::kInt4, "4.2").ok());
  EXPECT_FALSE(ParseValue(Type::kInt4, "").ok());
}

}  // namespace
}  // namespace sluice::filter
