// Minimal, allocation-friendly JSON text building: appends to a std::string.
// The caller is responsible for structure (commas, braces); these helpers only
// escape. Used on the hot path where a DOM would cost an allocation per node.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// Appends `value` as a JSON string literal, quotes included. Invalid UTF-8
// bytes are replaced with U+FFFD so that the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view value);

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 when the
// bytes there are not valid UTF-8 (overlong forms and surrogates included).
size_t Utf8SequenceLength(std::string_view s, size_t i);
void AppendJsonInt(std::string& out, int64_t value);
void AppendJsonUint(std::string& out, uint64_t value);

}  // namespace sluice
