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

// The escaping of every string written a byte at a time, to check the one
// that skips runs eight bytes at a time against.
std::string ByteByByte(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out += "\"";
  return out;
}

TEST(JsonWriterTest, EverySpecialByteIsFoundAtEveryOffsetOfAWord) {
  // Bytes that are escaped, checked or replaced, and the plain bytes next to
  // them in the ASCII table (0x1f/0x20, 0x21/0x22/0x23, 0x5b/0x5c/0x5d,
  // 0x7f/0x80).
  for (const std::string& special :
       {std::string(1, '\0'), std::string("\x1f"), std::string("\x1f\x20"), std::string("\""),
        std::string("\\"), std::string("!#[]\x7f"), std::string("\xC3\xA9"), std::string("\x80"),
        std::string("\xFF"), std::string("\xF0\x9F\x98\x80")}) {
    for (size_t at = 0; at < 20; ++at) {
      for (size_t len : {at + special.size(), at + special.size() + 1, size_t{24}, size_t{33}}) {
        if (len < at + special.size()) continue;
        std::string s(len, 'x');
        s.replace(at, special.size(), special);
        EXPECT_EQ(Quote(s), ByteByByte(s)) << "at " << at << " len " << len;
        // Up to the special byte; all of it when the bytes are plain.
        EXPECT_EQ(PlainJsonRun(s, 0), special == "!#[]\x7f" ? len : at)
            << "at " << at << " len " << len;
      }
    }
  }
  EXPECT_EQ(PlainJsonRun("plain text of 26 bytes....", 0), 26u);
  EXPECT_EQ(PlainJsonRun("abc\"", 2), 3u);
  EXPECT_EQ(PlainJsonRun("", 0), 0u);
}

TEST(JsonWriterTest, MemberKeyIsTheEscapedNameBetweenCommaAndColon) {
  EXPECT_EQ(JsonMemberKey("id"), ",\"id\":");
  EXPECT_EQ(JsonMemberKey("a\"b"), ",\"a\\\"b\":");
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
