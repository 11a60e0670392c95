// Typed reading of a map Node with error collection, for every part of the
// config schema (the loader's own sections and sink destinations). Each getter
// records the key as known; Finish() reports every other key as unknown with
// the list of allowed keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/node.h"

namespace sluice::config {

// How a value reads in an error message: `"ten"`, `the quoted string "5"`,
// `null`, `a list`, `a map`. Long scalars are shortened.
std::string DescribeNode(const Node& node);

class MapReader {
 public:
  // Reports an error (and reads nothing) when `node` is not a map. A null node
  // (key present with no value, or absent) reads as an empty map.
  MapReader(const Node& node, ConfigErrors& errors);

  // Each getter returns nullopt when the key is absent (reporting
  // "missing required key" if `required`) or has the wrong type (reported).
  std::optional<std::string> String(const std::string& key, bool required = false);
  std::optional<int64_t> Int(const std::string& key, bool required = false, int64_t min = INT64_MIN,
                             int64_t max = INT64_MAX);
  std::optional<bool> Bool(const std::string& key, bool required = false);
  // An integer number of milliseconds, between min and max.
  std::optional<std::chrono::milliseconds> Millis(const std::string& key, bool required = false,
                                                  int64_t min = 0, int64_t max = INT64_MAX);
  // One of `allowed`; anything else is reported with the allowed list.
  std::optional<std::string> Enum(const std::string& key, const std::vector<std::string>& allowed,
                                  bool required = false);
  std::optional<std::vector<std::string>> StringList(const std::string& key, bool required = false);
  // A map of string to scalar (numbers and booleans are kept as their text).
  std::optional<std::vector<std::pair<std::string, std::string>>> StringMap(const std::string& key,
                                                                            bool required = false);
  // Raw access for nested sections; marks the key as known. nullptr if absent
  // or null.
  const Node* Child(const std::string& key, bool required = false);
  // Like Child, but reports (and returns nullptr for) anything but a list.
  const Node* Sequence(const std::string& key, bool required = false);

  // Accepts, without reading them, keys that start with `prefix` (such as
  // "x-" for blocks that only hold YAML anchors). Finish lists them as
  // "<prefix>*".
  void AllowPrefix(const std::string& prefix);

  // Records an error at `at` (its file/line/path).
  void Error(const Node& at, const std::string& message);
  // Reports unknown keys. Call once, after every getter.
  void Finish();

  const Node& node() const { return node_; }

 private:
  // Marks `key` as known and returns its value; nullptr when absent or null
  // (reporting that if `required`).
  const Node* Lookup(const std::string& key, bool required);
  // Reports "expected <what>, got <node>" at `at`.
  void TypeError(const Node& at, const std::string& what);
  std::optional<int64_t> ReadInt(const Node& value, int64_t min, int64_t max,
                                 const std::string& what);

  const Node& node_;
  ConfigErrors& errors_;
  bool is_map_ = false;
  std::vector<std::string> known_;
  std::vector<std::string> allowed_prefixes_;
};

}  // namespace sluice::config
