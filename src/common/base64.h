#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// Standard alphabet with padding (RFC 4648 section 4).
std::string Base64Encode(std::string_view bytes);
void AppendBase64(std::string& out, std::string_view bytes);
// Accepts padded input; nullopt on any invalid character or length.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace sluice
