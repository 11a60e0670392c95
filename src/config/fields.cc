#include "config/fields.h"

#include <algorithm>
#include <charconv>

namespace sluice::config {
namespace {

constexpr size_t kMaxShownScalar = 60;

// `text` in double quotes, with quotes, backslashes and control bytes escaped,
// shortened to kMaxShownScalar bytes.
std::string Quote(const std::string& text) {
  std::string out = "\"";
  const size_t shown = std::min(text.size(), kMaxShownScalar);
  for (size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < text.size()) out += "...";
  out += '"';
  return out;
}

std::string ChildPath(const Node& map, const std::string& key) {
  return map.path.empty() ? key : map.path + "." + key;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string IntegerDescription(int64_t min, int64_t max) {
  if (min != INT64_MIN && max != INT64_MAX) {
    return "an integer between " + std::to_string(min) + " and " + std::to_string(max);
  }
  if (min != INT64_MIN) return "an integer >= " + std::to_string(min);
  if (max != INT64_MAX) return "an integer <= " + std::to_string(max);
  return "an integer";
}

}  // namespace

std::string DescribeNode(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kScalar:
      return node.quoted ? "the quoted string " + Quote(node.scalar) : Quote(node.scalar);
    case Node::Kind::kSequence:
      return "a list";
    case Node::Kind::kMap:
      return "a map";
  }
  return "a value";
}

MapReader::MapReader(const Node& node, ConfigErrors& errors) : node_(node), errors_(errors) {
  if (node.IsMap() || node.IsNull()) {
    is_map_ = true;
  } else {
    TypeError(node, "a map");
  }
}

void MapReader::Error(const Node& at, const std::string& message) {
  errors_.push_back(ConfigError{at.file, at.line, at.column, at.path, message});
}

void MapReader::TypeError(const Node& at, const std::string& what) {
  Error(at, "expected " + what + ", got " + DescribeNode(at));
}

const Node* MapReader::Lookup(const std::string& key, bool required) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  if (!is_map_) return nullptr;
  const Node* value = node_.Find(key);
  if (value == nullptr) {
    if (required) {
      errors_.push_back(ConfigError{node_.file, node_.line, node_.column, node_.path,
                                    "missing required key \"" + key + "\""});
    }
    return nullptr;
  }
  if (value->IsNull()) {
    if (required) Error(*value, "a value is required");
    return nullptr;
  }
  return value;
}

std::optional<std::string> MapReader::String(const std::string& key, bool required) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  if (!value->IsScalar()) {
    TypeError(*value, "a string");
    return std::nullopt;
  }
  return value->scalar;
}

std::optional<int64_t> MapReader::ReadInt(const Node& value, int64_t min, int64_t max,
                                          const std::string& what) {
  if (!value.IsScalar() || value.quoted) {
    TypeError(value, what);
    return std::nullopt;
  }
  const std::string& text = value.scalar;
  const bool digits_only =
      !text.empty() && std::all_of(text.begin() + (text[0] == '-' ? 1 : 0), text.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
  int64_t parsed = 0;
  if (!digits_only || text == "-") {
    TypeError(value, what);
    return std::nullopt;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size() || parsed < min || parsed > max) {
    Error(value, "expected " + what + ", got " + text);
    return std::nullopt;
  }
  return parsed;
}

std::optional<int64_t> MapReader::Int(const std::string& key, bool required, int64_t min,
                                      int64_t max) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  return ReadInt(*value, min, max, IntegerDescription(min, max));
}

std::optional<bool> MapReader::Bool(const std::string& key, bool required) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  if (value->IsScalar() && !value->quoted) {
    if (value->scalar == "true") return true;
    if (value->scalar == "false") return false;
  }
  TypeError(*value, "true or false");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> MapReader::Millis(const std::string& key, bool required,
                                                           int64_t min, int64_t max) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  std::string what = "a number of milliseconds";
  if (min != INT64_MIN && max != INT64_MAX) {
    what += " between " + std::to_string(min) + " and " + std::to_string(max);
  } else if (min != INT64_MIN) {
    what += " >= " + std::to_string(min);
  } else if (max != INT64_MAX) {
    what += " <= " + std::to_string(max);
  }
  std::optional<int64_t> millis = ReadInt(*value, min, max, what);
  if (!millis) return std::nullopt;
  return std::chrono::milliseconds(*millis);
}

std::optional<std::string> MapReader::Enum(const std::string& key,
                                           const std::vector<std::string>& allowed, bool required) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  if (value->IsScalar() &&
      std::find(allowed.begin(), allowed.end(), value->scalar) != allowed.end()) {
    return value->scalar;
  }
  TypeError(*value, "one of " + Join(allowed));
  return std::nullopt;
}

std::optional<std::vector<std::string>> MapReader::StringList(const std::string& key,
                                                              bool required) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  if (!value->IsSequence()) {
    TypeError(*value, "a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const Node& item : value->items) {
    if (!item.IsScalar()) {
      TypeError(item, "a string");
      ok = false;
      continue;
    }
    out.push_back(item.scalar);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> MapReader::StringMap(
    const std::string& key, bool required) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return std::nullopt;
  if (!value->IsMap()) {
    TypeError(*value, "a map of names to strings");
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> out;
  bool ok = true;
  for (const auto& [entry_key, entry_value] : value->entries) {
    if (!entry_value.IsScalar()) {
      TypeError(entry_value, "a string");
      ok = false;
      continue;
    }
    out.emplace_back(entry_key, entry_value.scalar);
  }
  if (!ok) return std::nullopt;
  return out;
}

const Node* MapReader::Child(const std::string& key, bool required) {
  return Lookup(key, required);
}

const Node* MapReader::Sequence(const std::string& key, bool required) {
  const Node* value = Lookup(key, required);
  if (value == nullptr) return nullptr;
  if (!value->IsSequence()) {
    TypeError(*value, "a list");
    return nullptr;
  }
  return value;
}

void MapReader::AllowPrefix(const std::string& prefix) { allowed_prefixes_.push_back(prefix); }

void MapReader::Finish() {
  if (!is_map_) return;
  std::vector<std::string> allowed = known_;
  for (const std::string& prefix : allowed_prefixes_) allowed.push_back(prefix + "*");
  for (const auto& entry : node_.entries) {
    const std::string& key = entry.first;
    const Node& value = entry.second;
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    if (std::any_of(allowed_prefixes_.begin(), allowed_prefixes_.end(),
                    [&key](const std::string& prefix) { return key.starts_with(prefix); })) {
      continue;
    }
    ConfigError error;
    error.file = value.file.empty() ? node_.file : value.file;
    error.line = value.key_line != 0 ? value.key_line : value.line;
    error.column = value.key_line != 0 ? value.key_column : value.column;
    error.path = ChildPath(node_, key);
    error.message = allowed.empty() ? "unknown key; this map takes no keys"
                                    : "unknown key; allowed: " + Join(allowed);
    errors_.push_back(std::move(error));
  }
}

}  // namespace sluice::config
