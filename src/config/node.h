// A parsed YAML value with its position, free of any YAML library type, so that
// modules that own part of the config schema (sink destinations) can validate
// it and report errors with file and line. Produced by the loader after
// ${VAR} interpolation.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice::config {

struct Node {
  enum class Kind : unsigned char { kNull, kScalar, kSequence, kMap };

  // Defined out of line: inline, clang with libstdc++ cannot instantiate
  // std::pair<std::string, Node> (in `entries`) while Node is incomplete.
  Node();
  ~Node();
  Node(const Node&);
  Node(Node&&) noexcept;
  Node& operator=(const Node&);
  Node& operator=(Node&&) noexcept;

  Kind kind = Kind::kNull;
  std::string scalar;       // kScalar: the text after interpolation.
  bool quoted = false;      // kScalar: written in quotes ('...' or "..."), so never a number/bool.
  std::vector<Node> items;  // kSequence
  std::vector<std::pair<std::string, Node>> entries;  // kMap, in file order.

  std::string file;
  int line = 0;      // 1-based; 0 when unknown.
  int column = 0;    // 1-based.
  std::string path;  // "sinks[0].destination.url"
  // For a map value: where its key is written (1-based; 0 otherwise). Errors
  // about the key itself (unknown, duplicate) point here.
  int key_line = 0;
  int key_column = 0;

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsMap() const { return kind == Kind::kMap; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  // nullptr when absent or when this is not a map.
  const Node* Find(const std::string& key) const;
};

// One problem in a config, reported as "file:line:column: path: message".
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;
  std::string message;
  std::string ToString() const;
};

using ConfigErrors = std::vector<ConfigError>;

}  // namespace sluice::config
