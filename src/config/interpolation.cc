#include "config/interpolation.h"

#include <optional>

namespace sluice::config {
namespace {

bool IsNameStart(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

bool IsValidName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

}  // namespace

Interpolated Interpolate(std::string_view text, const EnvLookup& env) {
  Interpolated result;
  std::string& out = result.text;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next != '{') {
      out += c;
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      result.error = "unterminated \"${\" (missing \"}\"; write $$ for a literal $)";
      return result;
    }
    const std::string_view body = text.substr(i + 2, close - i - 2);
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (const size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    if (!IsValidName(name)) {
      result.error = "invalid variable reference \"${" + std::string(body) +
                     "}\": use ${NAME} or ${NAME:-default}, where NAME is letters, digits and _ "
                     "and does not start with a digit";
      return result;
    }
    if (fallback && fallback->find("${") != std::string_view::npos) {
      result.error =
          "nested \"${\" in the default of ${" + std::string(name) + "} is not supported";
      return result;
    }
    std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
    if (fallback) {
      out += (value && !value->empty()) ? *value : std::string(*fallback);
    } else if (value) {
      out += *value;
    } else {
      result.error = "environment variable " + std::string(name) + " is not set (write ${" +
                     std::string(name) + ":-default} to give a default)";
      return result;
    }
    result.substituted = true;
    i = close + 1;
  }
  return result;
}

}  // namespace sluice::config
