// json and jsonb values for the -> and ->> operators, with Postgres'
// semantics: json keeps its text verbatim (a field or element is the slice
// of the source, duplicate keys: the last wins on lookup); jsonb keeps
// objects with unique keys (the last wins) sorted as Postgres stores them,
// numbers as numeric, and prints in jsonb's output form
// (`{"a": 1, "b": [1, 2]}`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sluice::filter {

struct JsonNode {
  enum class Kind : unsigned char { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  // kString: the decoded string. kNumber: the lexeme (json) or the numeric
  // output form (jsonb).
  std::string text;
  // The node's text in the document source (json only).
  size_t begin = 0;
  size_t end = 0;
  std::vector<JsonNode> elements;                         // kArray
  std::vector<std::pair<std::string, JsonNode>> members;  // kObject
};

struct JsonDocument {
  bool binary = false;  // jsonb
  std::string source;   // json: the text as given
  JsonNode root;
};

using JsonRef = std::shared_ptr<const JsonDocument>;

// Parses `text` as json (binary = false) or jsonb. Errors name the problem
// as Postgres does ("invalid input syntax for type json").
Result<JsonRef> ParseJson(std::string text, bool binary);

// The text Postgres prints for `node`: json: the source slice; jsonb: the
// jsonb output form.
std::string JsonText(const JsonDocument& doc, const JsonNode& node);
// jsonb's output form of `node`.
std::string JsonbText(const JsonNode& node);

// `node -> key` for an object (nullptr when absent or not an object).
const JsonNode* JsonField(const JsonDocument& doc, const JsonNode& node, std::string_view key);
// `node -> index` for an array; negative counts from the end (nullptr when
// out of range or not an array).
const JsonNode* JsonElement(const JsonNode& node, int64_t index);

// jsonb equality: numbers compare as numeric, objects by key set.
bool JsonbEqual(const JsonNode& a, const JsonNode& b);

}  // namespace sluice::filter
