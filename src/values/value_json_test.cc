#include "values/value_json.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"
#include "common/json_writer.h"

namespace sluice::values {
namespace {

std::string Json(const TypeRef& type, std::string_view text) {
  std::string out;
  AppendValueJson(out, *type, text);
  return out;
}

std::string Json(uint32_t oid, std::string_view text) {
  TypeRef type = BuiltinType(oid);
  EXPECT_NE(type, nullptr) << "oid " << oid;
  return type == nullptr ? std::string() : Json(type, text);
}

constexpr uint32_t kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
                   kOid = 26, kJson = 114, kFloat4 = 700, kFloat8 = 701, kMoney = 790, kInet = 869,
                   kDate = 1082, kTimestamp = 1114, kTimestampTz = 1184, kInterval = 1186,
                   kNumeric = 1700, kUuid = 2950, kJsonb = 3802;
constexpr uint32_t kBoolArray = 1000, kByteaArray = 1001, kInt4Array = 1007, kTextArray = 1009,
                   kBoxArray = 1020, kFloat8Array = 1022, kTimestampTzArray = 1185,
                   kNumericArray = 1231, kJsonbArray = 3807, kJsonArray = 199;

TEST(BuiltinTypeTest, KnowsScalarKinds) {
  EXPECT_EQ(BuiltinType(kBool)->kind, ValueKind::kBool);
  EXPECT_EQ(BuiltinType(kBytea)->kind, ValueKind::kBytea);
  for (uint32_t oid : {kInt2, kInt4, kInt8, kOid}) {
    EXPECT_EQ(BuiltinType(oid)->kind, ValueKind::kInteger) << oid;
  }
  EXPECT_EQ(BuiltinType(kFloat4)->kind, ValueKind::kFloat);
  EXPECT_EQ(BuiltinType(kFloat8)->kind, ValueKind::kFloat);
  EXPECT_EQ(BuiltinType(kNumeric)->kind, ValueKind::kNumeric);
  EXPECT_EQ(BuiltinType(kJson)->kind, ValueKind::kJson);
  EXPECT_EQ(BuiltinType(kJsonb)->kind, ValueKind::kJson);
  EXPECT_EQ(BuiltinType(kTimestamp)->kind, ValueKind::kTimestamp);
  EXPECT_EQ(BuiltinType(kTimestampTz)->kind, ValueKind::kTimestampTz);
  for (uint32_t oid : {18u,   19u,   kText,     142u,  kMoney, kInet, 650u,  829u, 1042u, 1043u,
                       kDate, 1083u, kInterval, 1266u, 1560u,  1562u, kUuid, 603u, 4072u, 3220u}) {
    ASSERT_NE(BuiltinType(oid), nullptr) << oid;
    EXPECT_EQ(BuiltinType(oid)->kind, ValueKind::kText) << oid;
  }
}

TEST(BuiltinTypeTest, KnowsArrayTypesAndTheirElements) {
  struct Case {
    uint32_t array_oid;
    ValueKind element;
  };
  for (const Case& c :
       {Case{1007, ValueKind::kInteger}, Case{1009, ValueKind::kText}, Case{3807, ValueKind::kJson},
        Case{1231, ValueKind::kNumeric}, Case{1185, ValueKind::kTimestampTz},
        Case{1000, ValueKind::kBool}, Case{1022, ValueKind::kFloat}, Case{2951, ValueKind::kText},
        Case{1001, ValueKind::kBytea}, Case{1015, ValueKind::kText},
        Case{1016, ValueKind::kInteger}, Case{1005, ValueKind::kInteger},
        Case{1021, ValueKind::kFloat}, Case{1182, ValueKind::kText},
        Case{1115, ValueKind::kTimestamp}, Case{199, ValueKind::kJson},
        Case{1028, ValueKind::kInteger}, Case{1014, ValueKind::kText}}) {
    TypeRef type = BuiltinType(c.array_oid);
    ASSERT_NE(type, nullptr) << c.array_oid;
    EXPECT_EQ(type->kind, ValueKind::kArray) << c.array_oid;
    ASSERT_NE(type->element, nullptr) << c.array_oid;
    EXPECT_EQ(type->element->kind, c.element) << c.array_oid;
    EXPECT_EQ(type->delimiter, ',') << c.array_oid;
  }
}

TEST(BuiltinTypeTest, BoxArrayUsesSemicolon) {
  EXPECT_EQ(BuiltinType(603)->kind, ValueKind::kText);
  EXPECT_EQ(BuiltinType(kBoxArray)->delimiter, ';');
}

TEST(BuiltinTypeTest, UnknownOidIsNull) {
  EXPECT_EQ(BuiltinType(0), nullptr);
  EXPECT_EQ(BuiltinType(16384), nullptr);  // First user OID: an enum, a domain...
}

TEST(BuiltinTypeTest, SameOidGivesSameInstance) {
  EXPECT_EQ(BuiltinType(kInt4).get(), BuiltinType(kInt4).get());
  EXPECT_EQ(BuiltinType(kInt4Array)->element.get(), BuiltinType(kInt4).get());
}

TEST(ValueJsonTest, TextIsEscapedString) {
  EXPECT_EQ(Json(kText, "plain"), R"("plain")");
  EXPECT_EQ(Json(kText, "a \"q\" \\ \n\t"), R"("a \"q\" \\ \n\t")");
  EXPECT_EQ(Json(kText, "h\xC3\xA9llo"), "\"h\xC3\xA9llo\"");
  EXPECT_EQ(Json(kText, ""), R"("")");
}

TEST(ValueJsonTest, InvalidUtf8TextStillValidJson) {
  EXPECT_EQ(Json(kText,
                 "a\xFF"
                 "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
}

TEST(ValueJsonTest, OtherTextTypesAreStrings) {
  EXPECT_EQ(Json(kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            R"("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")");
  EXPECT_EQ(Json(kDate, "2026-11-21"), R"("2026-11-21")");
  EXPECT_EQ(Json(kInterval, "1 day 02:03:04"), R"("1 day 02:03:04")");
  EXPECT_EQ(Json(kMoney, "$1,000.00"), R"("$1,000.00")");
  EXPECT_EQ(Json(kInet, "192.168.0.1/24"), R"("192.168.0.1/24")");
}

TEST(ValueJsonTest, IntegersAreNumbers) {
  EXPECT_EQ(Json(kInt4, "42"), "42");
  EXPECT_EQ(Json(kInt4, "-7"), "-7");
  EXPECT_EQ(Json(kInt4, "0"), "0");
  EXPECT_EQ(Json(kInt8, "9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(Json(kInt8, "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Json(kOid, "4294967295"), "4294967295");
}

TEST(ValueJsonTest, IntegerThatIsNotDigitsIsString) {
  EXPECT_EQ(Json(kInt4, "12a"), R"("12a")");
  EXPECT_EQ(Json(kInt4, ""), R"("")");
  EXPECT_EQ(Json(kInt4, "-"), R"("-")");
  EXPECT_EQ(Json(kInt4, "007"), R"("007")");  // Leading zeros are not JSON.
  EXPECT_EQ(Json(kInt4, "+1"), R"("+1")");
  EXPECT_EQ(Json(kInt4, "1.5"), R"("1.5")");
  EXPECT_EQ(Json(kInt4, " 1"), R"(" 1")");
  // Longer than any Postgres integer type prints.
  EXPECT_EQ(Json(kInt8, "123456789012345678901"), R"("123456789012345678901")");
  EXPECT_EQ(Json(kInt8, "-12345678901234567890"), "-12345678901234567890");
}

TEST(ValueJsonTest, FloatsAreNumbers) {
  EXPECT_EQ(Json(kFloat8, "1.5"), "1.5");
  EXPECT_EQ(Json(kFloat8, "1e+30"), "1e+30");
  EXPECT_EQ(Json(kFloat8, "1.5e-07"), "1.5e-07");
  EXPECT_EQ(Json(kFloat8, "-0"), "-0");
  EXPECT_EQ(Json(kFloat4, "3.4e+38"), "3.4e+38");
  EXPECT_EQ(Json(kFloat8, "123456789012"), "123456789012");
}

TEST(ValueJsonTest, FloatNanAndInfinityAreStrings) {
  EXPECT_EQ(Json(kFloat8, "NaN"), R"("NaN")");
  EXPECT_EQ(Json(kFloat8, "Infinity"), R"("Infinity")");
  EXPECT_EQ(Json(kFloat8, "-Infinity"), R"("-Infinity")");
  EXPECT_EQ(Json(kFloat4, "NaN"), R"("NaN")");
}

TEST(ValueJsonTest, FloatThatIsNotJsonNumberIsString) {
  EXPECT_EQ(Json(kFloat8, ".5"), R"(".5")");
  EXPECT_EQ(Json(kFloat8, "5."), R"("5.")");
  EXPECT_EQ(Json(kFloat8, "1e"), R"("1e")");
  EXPECT_EQ(Json(kFloat8, "0x10"), R"("0x10")");
  EXPECT_EQ(Json(kFloat8, ""), R"("")");
}

TEST(ValueJsonTest, FloatOutsideDoubleRangeIsString) {
  // Not something float4/float8 print; as numbers they would parse as
  // infinity or zero, or not at all.
  EXPECT_EQ(Json(kFloat8, "1e+333"), R"("1e+333")");
  EXPECT_EQ(Json(kFloat8, "-1e+400"), R"("-1e+400")");
  EXPECT_EQ(Json(kFloat8, "1e-400"), R"("1e-400")");
  EXPECT_EQ(Json(kFloat8, "1.7976931348623157e+308"), "1.7976931348623157e+308");
  EXPECT_EQ(Json(kFloat8, "5e-324"), "5e-324");
  EXPECT_EQ(Json(kFloat4, "1e-45"), "1e-45");
}

TEST(ValueJsonTest, NumericIsExactString) {
  EXPECT_EQ(Json(kNumeric, "19.90"), R"("19.90")");
  EXPECT_EQ(Json(kNumeric, "123456789012345678901234567890.000001"),
            R"("123456789012345678901234567890.000001")");
  EXPECT_EQ(Json(kNumeric, "NaN"), R"("NaN")");
}

TEST(ValueJsonTest, BoolMapsTAndF) {
  EXPECT_EQ(Json(kBool, "t"), "true");
  EXPECT_EQ(Json(kBool, "f"), "false");
  EXPECT_EQ(Json(kBool, "maybe"), R"("maybe")");
}

TEST(ValueJsonTest, JsonbIsEmbeddedWithoutInsignificantWhitespace) {
  EXPECT_EQ(Json(kJsonb, R"({"tier": "gold", "n": [1, 2], "s": "a b"})"),
            R"({"tier":"gold","n":[1,2],"s":"a b"})");
}

TEST(ValueJsonTest, JsonKeepsItsTextButLosesNewlines) {
  // The json type keeps the text as entered, newlines included; embedded
  // as is they would break newline-delimited output.
  EXPECT_EQ(Json(kJson, "{\n  \"a\" : [ 1 ,\t2 ],\r\n  \"b\": {}\n}\n"), R"({"a":[1,2],"b":{}})");
}

TEST(ValueJsonTest, JsonScalarsAndEscapesAreKept) {
  EXPECT_EQ(Json(kJsonb, "null"), "null");
  EXPECT_EQ(Json(kJsonb, "true"), "true");
  EXPECT_EQ(Json(kJsonb, "-1.5e+10"), "-1.5e+10");
  EXPECT_EQ(Json(kJsonb, R"("a\"b\\c\/\b\f\n\r\t\u00e9")"), R"("a\"b\\c\/\b\f\n\r\t\u00e9")");
  EXPECT_EQ(Json(kJsonb, "[[],{},[{}]]"), "[[],{},[{}]]");
  EXPECT_EQ(Json(kJsonb, "\"\xF0\x9F\x98\x80\""), "\"\xF0\x9F\x98\x80\"");
}

TEST(ValueJsonTest, JsonSurrogatePairIsKeptAndLoneSurrogateReplaced) {
  EXPECT_EQ(Json(kJson, R"("\ud83d\ude00")"), R"("\ud83d\ude00")");
  // Postgres' json type accepts lone surrogates; strict JSON parsers do not.
  EXPECT_EQ(Json(kJson, R"("a\ud800b")"), R"("a\ufffdb")");
  EXPECT_EQ(Json(kJson, R"("\udc00")"), R"("\ufffd")");
  EXPECT_EQ(Json(kJson, R"("\ud800\u0041")"), R"("\ufffd\u0041")");
  EXPECT_EQ(Json(kJson, R"(["\ud800"])"), R"(["\ufffd"])");
}

TEST(ValueJsonTest, JsonStringsOfEveryLengthAndEscapeOffset) {
  // Runs are skipped eight bytes at a time: an escape, a multi-byte
  // character or an invalid byte at every offset of a word, in strings
  // longer than one.
  for (size_t at = 0; at < 19; ++at) {
    for (const std::string& special : {std::string("\\n"), std::string("\\\""),
                                       std::string("\\u0041"), std::string("\xC3\xA9")}) {
      std::string value(at, 'a');
      value += special;
      value += std::string(11, 'b');
      const std::string text = "{\"k\": \"" + value + "\", \"l\": [\"" + value + "\"]}";
      EXPECT_EQ(Json(kJsonb, text), "{\"k\":\"" + value + "\",\"l\":[\"" + value + "\"]}") << text;
    }
    std::string invalid(at, 'a');
    invalid += "\xFF";
    EXPECT_EQ(Json(kJson, "\"" + invalid + "xyz\""), "\"" + std::string(at, 'a') +
                                                         "\xEF\xBF\xBD"
                                                         "xyz\"");
  }
}

TEST(ValueJsonTest, JsonThatGrowsWhenCompactedIsWrittenWhole) {
  // Each invalid byte becomes three: longer than the input, past the room
  // made for it.
  const std::string bytes(300, '\xFF');
  std::string expected = "[\"";
  for (size_t i = 0; i < bytes.size(); ++i) expected += "\xEF\xBF\xBD";
  expected += "\"]";
  std::string out = "prefix ";
  AppendValueJson(out, *BuiltinType(kJson), "[\"" + bytes + "\"]");
  EXPECT_EQ(out, "prefix " + expected);
}

TEST(ValueJsonTest, InvalidJsonFallsBackToString) {
  for (std::string_view bad :
       {"",        "{",         "}",    "[1,]", "[1 2]", R"({"a" 1})",       R"({"a":})",
        "{1:2}",   "01",        "nul",  "tru",  "1 2",   R"("unterminated)", "\"ctl\x01\"",
        R"("\x")", R"("\u12")", "[1]]", "{}x",  "+1",    R"({"a":1,})",      "[,]"}) {
    std::string expected;
    AppendJsonString(expected, bad);
    EXPECT_EQ(Json(kJsonb, bad), expected) << bad;
  }
}

TEST(ValueJsonTest, ByteaHexIsBase64) {
  EXPECT_EQ(Json(kBytea, "\\x00ff10"), R"("AP8Q")");
  EXPECT_EQ(Json(kBytea, "\\x"), R"("")");
  EXPECT_EQ(Json(kBytea, "\\x6162"), R"("YWI=")");
  EXPECT_EQ(Json(kBytea, "\\xDEADbeef"), R"("3q2+7w==")");
}

TEST(ValueJsonTest, LongByteaCrossesChunksCorrectly) {
  for (size_t n : {767u, 768u, 769u, 1000u, 5000u}) {
    std::string bytes;
    std::string hex = "\\x";
    for (size_t i = 0; i < n; ++i) {
      auto b = static_cast<unsigned char>(i * 37 + 11);
      bytes.push_back(static_cast<char>(b));
      static const char kHex[] = "0123456789abcdef";
      hex.push_back(kHex[b >> 4]);
      hex.push_back(kHex[b & 15]);
    }
    EXPECT_EQ(Json(kBytea, hex), "\"" + Base64Encode(bytes) + "\"") << n;
  }
}

TEST(ValueJsonTest, ByteaEscapeFormatIsDecoded) {
  // bytea_output = escape: Postgres prints '\x00415c7f80ff' as below.
  EXPECT_EQ(Json(kBytea, R"(\000A\\\177\200\377)"),
            "\"" + Base64Encode(std::string("\x00\x41\x5c\x7f\x80\xff", 6)) + "\"");
  EXPECT_EQ(Json(kBytea, "abc"), "\"" + Base64Encode("abc") + "\"");
  EXPECT_EQ(Json(kBytea, ""), R"("")");
}

TEST(ValueJsonTest, MalformedByteaIsString) {
  EXPECT_EQ(Json(kBytea, "\\x0g"), R"("\\x0g")");
  EXPECT_EQ(Json(kBytea, "\\x0"), R"("\\x0")");
  EXPECT_EQ(Json(kBytea, "\\x000"), R"("\\x000")");
  EXPECT_EQ(Json(kBytea, "a\\"), R"("a\\")");
  EXPECT_EQ(Json(kBytea, "\\400"), R"("\\400")");
  EXPECT_EQ(Json(kBytea, "\\12"), R"("\\12")");
}

TEST(ValueJsonTest, TimestampTzIsUtcIsoWithMicroseconds) {
  EXPECT_EQ(Json(kTimestampTz, "2026-11-21 10:00:00.123+00"), R"("2026-11-21T10:00:00.123000Z")");
  EXPECT_EQ(Json(kTimestampTz, "2026-11-21 10:00:00+00"), R"("2026-11-21T10:00:00.000000Z")");
  EXPECT_EQ(Json(kTimestampTz, "2026-11-21 10:00:00.999999+00"),
            R"("2026-11-21T10:00:00.999999Z")");
  EXPECT_EQ(Json(kTimestampTz, "2024-02-29 23:59:59.5+00"), R"("2024-02-29T23:59:59.500000Z")");
}

TEST(ValueJsonTest, TimestampTzInfinityIsString) {
  EXPECT_EQ(Json(kTimestampTz, "infinity"), R"("infinity")");
  EXPECT_EQ(Json(kTimestampTz, "-infinity"), R"("-infinity")");
  EXPECT_EQ(Json(kTimestamp, "infinity"), R"("infinity")");
}

TEST(ValueJsonTest, TimestampTzWithOffsetIsConvertedToUtc) {
  // What Postgres prints when the session's TimeZone is not UTC.
  EXPECT_EQ(Json(kTimestampTz, "2025-12-31 19:00:00.5-05"), R"("2026-01-01T00:00:00.500000Z")");
  EXPECT_EQ(Json(kTimestampTz, "2026-01-01 05:30:00.5+05:30"), R"("2026-01-01T00:00:00.500000Z")");
  EXPECT_EQ(Json(kTimestampTz, "1799-12-31 19:03:58-04:56:02"), R"("1800-01-01T00:00:00.000000Z")");
  EXPECT_EQ(Json(kTimestampTz, "2024-03-01 01:00:00+02"), R"("2024-02-29T23:00:00.000000Z")");
}

TEST(ValueJsonTest, TimestampTzBeforeChristUsesAstronomicalYears) {
  EXPECT_EQ(Json(kTimestampTz, "0044-03-15 12:00:00+00 BC"), R"("-000043-03-15T12:00:00.000000Z")");
  EXPECT_EQ(Json(kTimestampTz, "0001-12-31 23:59:59+00 BC"), R"("0000-12-31T23:59:59.000000Z")");
  EXPECT_EQ(Json(kTimestampTz, "4713-11-24 00:00:00+00 BC"), R"("-004712-11-24T00:00:00.000000Z")");
  // 1 BC is a leap year.
  EXPECT_EQ(Json(kTimestampTz, "0001-02-29 00:00:00+00 BC"), R"("0000-02-29T00:00:00.000000Z")");
  // An offset can move the instant across the era boundary.
  EXPECT_EQ(Json(kTimestampTz, "0001-01-01 03:00:00+05"), R"("0000-12-31T22:00:00.000000Z")");
}

TEST(ValueJsonTest, TimestampTzAfterYear9999UsesExpandedYear) {
  EXPECT_EQ(Json(kTimestampTz, "12345-01-01 00:00:00+00"), R"("+012345-01-01T00:00:00.000000Z")");
  EXPECT_EQ(Json(kTimestampTz, "294276-12-31 23:59:59.999999+00"),
            R"("+294276-12-31T23:59:59.999999Z")");
  EXPECT_EQ(Json(kTimestampTz, "9999-12-31 23:00:00-01"), R"("+010000-01-01T00:00:00.000000Z")");
}

TEST(ValueJsonTest, TimestampWithoutZoneHasNoZ) {
  EXPECT_EQ(Json(kTimestamp, "2026-11-21 10:00:00"), R"("2026-11-21T10:00:00.000000")");
  EXPECT_EQ(Json(kTimestamp, "2026-11-21 10:00:00.000001"), R"("2026-11-21T10:00:00.000001")");
  EXPECT_EQ(Json(kTimestamp, "0044-03-15 12:00:00 BC"), R"("-000043-03-15T12:00:00.000000")");
}

TEST(ValueJsonTest, MalformedTimestampIsString) {
  for (std::string_view bad :
       {"", "2026-11-21", "2026-11-21 10:00:00", "2026-13-01 00:00:00+00", "2026-02-30 00:00:00+00",
        "2026-11-21 24:00:00+00", "2026-11-21 10:00:60+00", "2026-11-21 10:00:00.1234567+00",
        "2026-11-21T10:00:00+00", "2026-11-21 10:00:00+00 AD", "0000-01-01 00:00:00+00",
        "2026-11-21 10:00:00+16", "2026-11-21 10:00:00+0", "2026-11-21 10:00:00.+00",
        "26-11-21 10:00:00+00", "2026-11-21 10:00:00+00 BC x"}) {
    std::string expected;
    AppendJsonString(expected, bad);
    EXPECT_EQ(Json(kTimestampTz, bad), expected) << bad;
  }
  EXPECT_EQ(Json(kTimestamp, "2026-11-21 10:00:00+00"), R"("2026-11-21 10:00:00+00")");
}

TEST(ArrayJsonTest, FlatIntegerArray) {
  EXPECT_EQ(Json(kInt4Array, "{1,2,3}"), "[1,2,3]");
  EXPECT_EQ(Json(kInt4Array, "{-1}"), "[-1]");
}

TEST(ArrayJsonTest, EmptyArray) {
  EXPECT_EQ(Json(kInt4Array, "{}"), "[]");
  EXPECT_EQ(Json(kTextArray, "{}"), "[]");
}

TEST(ArrayJsonTest, NestedArray) {
  EXPECT_EQ(Json(kInt4Array, "{{1,2},{3,4}}"), "[[1,2],[3,4]]");
  EXPECT_EQ(Json(kInt4Array, "{{{1},{2}},{{3},{4}}}"), "[[[1],[2]],[[3],[4]]]");
}

TEST(ArrayJsonTest, NestedArrayWithQuotedNulls) {
  EXPECT_EQ(Json(kTextArray, R"({{"a b","c\"d"},{NULL,"NULL"}})"),
            R"([["a b","c\"d"],[null,"NULL"]])");
}

TEST(ArrayJsonTest, UnquotedNullIsNullQuotedNullIsString) {
  EXPECT_EQ(Json(kTextArray, R"({"a b","c\"d",NULL,"NULL"})"), R"(["a b","c\"d",null,"NULL"])");
  EXPECT_EQ(Json(kInt4Array, "{1,NULL,null,3}"), "[1,null,null,3]");
  EXPECT_EQ(Json(kBoolArray, "{t,f,NULL}"), "[true,false,null]");
}

TEST(ArrayJsonTest, QuotedElementsWithEscapesAndSpaces) {
  EXPECT_EQ(Json(kTextArray, R"({""," a","b\\c","{","x,y","}"})"),
            R"([""," a","b\\c","{","x,y","}"])");
}

TEST(ArrayJsonTest, DimensionDecorationIsSkipped) {
  EXPECT_EQ(Json(kInt4Array, "[0:1]={1,2}"), "[1,2]");
  EXPECT_EQ(Json(kInt4Array, "[0:1][-2:-1]={{1,2},{3,4}}"), "[[1,2],[3,4]]");
}

TEST(ArrayJsonTest, WhitespaceAroundElementsIsIgnored) {
  EXPECT_EQ(Json(kInt4Array, " { 1 , 2 } "), "[1,2]");
  EXPECT_EQ(Json(kTextArray, "{ a b , c }"), R"(["a b","c"])");
}

TEST(ArrayJsonTest, ElementsUseTheElementMapping) {
  EXPECT_EQ(Json(kJsonbArray, R"({"{\"a\": 1}","null","\"x y\"","[1, 2]"})"),
            R"([{"a":1},null,"x y",[1,2]])");
  EXPECT_EQ(Json(kJsonArray, R"({NULL,"{}"})"), "[null,{}]");
  EXPECT_EQ(Json(kByteaArray, R"({"\\x00ff","\\x",NULL})"), R"(["AP8=","",null])");
  EXPECT_EQ(Json(kFloat8Array, "{NaN,Infinity,1.5,-Infinity}"),
            R"(["NaN","Infinity",1.5,"-Infinity"])");
  EXPECT_EQ(Json(kNumericArray, "{1.5,NaN}"), R"(["1.5","NaN"])");
  EXPECT_EQ(Json(kTimestampTzArray, R"({"2026-11-21 13:02:25.17306+00",infinity})"),
            R"(["2026-11-21T13:02:25.173060Z","infinity"])");
}

TEST(ArrayJsonTest, BoxArrayUsesSemicolonDelimiter) {
  EXPECT_EQ(Json(kBoxArray, "{(1,1),(0,0);(3,3),(2,2)}"), R"x(["(1,1),(0,0)","(3,3),(2,2)"])x");
}

TEST(ArrayJsonTest, ElementThatDoesNotParseBecomesString) {
  EXPECT_EQ(Json(kInt4Array, "{1,x}"), R"([1,"x"])");
  EXPECT_EQ(Json(kJsonbArray, R"({"{bad"})"), R"(["{bad"])");
}

TEST(ArrayJsonTest, ArrayOfUserTypeElements) {
  // An array of an enum: the caller resolves the element to text.
  EXPECT_EQ(Json(ArrayOf(TextType()), "{sad,happy}"), R"(["sad","happy"])");
  // Without an element type, elements are text.
  TypeInfo bare{ValueKind::kArray, nullptr, ','};
  std::string out;
  AppendValueJson(out, bare, "{1,2}");
  EXPECT_EQ(out, R"(["1","2"])");
}

TEST(ArrayJsonTest, MalformedArrayIsString) {
  for (std::string_view bad :
       {"",         "{",        "}",         "{1,2",     "1,2",      "{1,2}x", R"({"a})",
        "{,}",      "{1,}",     "{,1}",      "{{1},2}",  "{1,{2}}",  "{{1}",   "{{{{{{{1}}}}}}}",
        "[0:1]{1}", "[0:1={1}", "[a:b]={1}", R"({a"b})", R"({a\b})", "{a{b}",  R"({"a"b})",
        R"({"a\)"}) {
    std::string expected;
    AppendJsonString(expected, bad);
    EXPECT_EQ(Json(kInt4Array, bad), expected) << bad;
  }
}

TEST(ArrayJsonTest, SixDimensionsAreAllowed) {
  EXPECT_EQ(Json(kInt4Array, "{{{{{{1}}}}}}"), "[[[[[[1]]]]]]");
}

}  // namespace
}  // namespace sluice::values
