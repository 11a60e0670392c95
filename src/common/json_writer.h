// Minimal, allocation-friendly JSON text building: appends to a std::string.
// The caller is responsible for structure (commas, braces); these helpers only
// escape. Used on the hot path where a DOM would cost an allocation per node.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice {

// Appends `value` as a JSON string literal, quotes included. Invalid UTF-8
// bytes are replaced with U+FFFD so that the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view value);

// The index of the first byte at or after `i` in `s` that a JSON string
// cannot hold as it is (a control character, '"', '\\', or a byte of 0x80 or
// above: the start of a UTF-8 sequence to check), or s.size(). Reads eight
// bytes at a time.
inline size_t PlainJsonRun(std::string_view s, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  // Nonzero when a byte of `v` is zero (exact whenever the word has one).
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const char* p = s.data();
  const size_t n = s.size();
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    // A byte below 0x20 or of 0x80 and above, a quote, a backslash.
    if (((w - 0x20 * kOnes) | w | has_zero(w ^ ('"' * kOnes)) | has_zero(w ^ ('\\' * kOnes))) &
        kHigh) {
      break;
    }
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
  }
  return i;
}

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 when the
// bytes there are not valid UTF-8 (overlong forms and surrogates included).
size_t Utf8SequenceLength(std::string_view s, size_t i);
// `,"name":`: `name` as a JSON string, between a comma and a colon. A
// renderer appends it whole, or without the comma for an object's first
// member.
std::string JsonMemberKey(std::string_view name);

void AppendJsonInt(std::string& out, int64_t value);
void AppendJsonUint(std::string& out, uint64_t value);

}  // namespace sluice
