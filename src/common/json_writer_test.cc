#include "common/json_writer.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
}

TEST(JsonWriterTest, KeepsValidUtf8) {
  EXPECT_EQ(Quote("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  EXPECT_EQ(Quote("a\xFF"
                  "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(Quote("\xC3"), "\"\xEF\xBF\xBD\"");  // truncated sequence
  EXPECT_EQ(Quote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

TEST(JsonWriterTest, IntegersAtTheirLimits) {
  std::string out;
  AppendJsonInt(out, INT64_MIN);
  out.push_back(' ');
  AppendJsonUint(out, UINT64_MAX);
  EXPECT_EQ(out, "-9223372036854775808 18446744073709551615");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(Utf8SequenceLengthTest, AcceptsValidAndRejectsOverlongAndSurrogates) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x9C\x93", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xC0\x80", 0), 0u);      // overlong NUL
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80", 0), 0u);  // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xE2\x9C", 0), 0u);      // truncated
}

}  // namespace
}  // namespace sluice
