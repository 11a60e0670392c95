#include "config/yaml_adapter.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <exception>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/fields.h"
#include "config/interpolation.h"

namespace sluice::config {
namespace {

// A config nests a handful of levels; anything deeper is not a config, and
// bounding it bounds the length of every path.
constexpr size_t kMaxDepth = 64;
// Approximate bytes of Node built, counting the copies made for aliases:
// stops "billion laughs" documents. A config with a thousand sinks uses a
// fraction of this.
constexpr size_t kMaxBuiltBytes = 32u << 20;

std::string JoinPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string IndexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

bool IsNullWord(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

bool IsQuotedTag(const std::string& tag) { return tag == "!" || tag == "tag:yaml.org,2002:str"; }

// "${VAR}" or "${VAR:-default}" and nothing else. Flow style ({a: ${X}})
// forces quotes around such a reference; its type comes from the value.
bool IsLoneReference(const std::string& text) {
  return text.size() >= 3 && text.starts_with("${") && text.find('}') == text.size() - 1;
}

// Thrown by the builder to stop yaml-cpp after a problem that makes the rest
// of the document pointless (too deep, too large); caught in ParseYaml.
struct StopParsing {};

// Builds the Node tree from yaml-cpp's parse events.
class NodeBuilder : public YAML::EventHandler {
 public:
  NodeBuilder(const std::string& file, const EnvLookup& env, ConfigErrors& errors)
      : file_(file), env_(env), errors_(errors) {}

  // The first document's root; a null node when parsing failed.
  Node TakeRoot() {
    if (failed_ || documents_ == 0) return NullAt(0, 0);
    return std::move(root_);
  }
  void Fail() { failed_ = true; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    ++documents_;
    if (documents_ == 2) {
      AddError(LineOf(mark), ColumnOf(mark), "",
               "a config file holds one YAML document; found a second one here");
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (Skipping()) return;
    if (Frame* map = PendingKeyOf()) {
      AddError(LineOf(mark), ColumnOf(mark), map->node.path, "a map key must not be empty");
      RejectKey(*map);
      return;
    }
    Node node = NullAt(LineOf(mark), ColumnOf(mark));
    node.path = NextPath();
    if (Frame* map = MapAwaitingValue()) {
      // yaml-cpp marks an empty value at the next token; its key is the
      // place a reader looks for.
      node.line = map->key_line;
      node.column = map->key_column;
    }
    Charge(node);
    Deliver(std::move(node), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (Skipping()) return;
    auto it = anchors_.find(anchor);
    Frame* map = PendingKeyOf();
    if (it == anchors_.end()) {
      const std::string path = map ? map->node.path : NextPath();
      AddError(LineOf(mark), ColumnOf(mark), path,
               "an alias may not refer to a node that contains it");
      if (map) {
        RejectKey(*map);
      } else {
        Node node = NullAt(LineOf(mark), ColumnOf(mark));
        node.path = path;
        Deliver(std::move(node), 0);
      }
      return;
    }
    if (map) {
      const Node& target = it->second;
      if (!target.IsScalar()) {
        AddError(LineOf(mark), ColumnOf(mark), map->node.path,
                 "a map key must be a string, not " + DescribeNode(target));
        RejectKey(*map);
        return;
      }
      AcceptKey(*map, target.scalar, !target.quoted, LineOf(mark), ColumnOf(mark));
      return;
    }
    Node copy;
    CopyInto(it->second, NextPath(), copy);
    Deliver(std::move(copy), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (Skipping()) return;
    if (Frame* map = PendingKeyOf()) {
      const bool quoted = IsQuotedTag(tag);
      if (anchor != 0) {
        Node key = ScalarAt(mark, quoted, value);
        Charge(key);
        anchors_[anchor] = std::move(key);
      }
      AcceptKey(*map, value, !quoted, LineOf(mark), ColumnOf(mark));
      return;
    }
    const bool quoted = IsQuotedTag(tag) && !IsLoneReference(value);
    Node node = ScalarAt(mark, quoted, value);
    node.path = NextPath();
    Interpolated expanded = Interpolate(value, env_);
    if (!expanded.error.empty()) {
      AddError(node.line, node.column, node.path, expanded.error);
    } else {
      node.scalar = std::move(expanded.text);
      if (!quoted && expanded.substituted && IsNullWord(node.scalar)) {
        node.kind = Node::Kind::kNull;
        node.scalar.clear();
      }
    }
    Charge(node);
    Deliver(std::move(node), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    StartCollection(mark, anchor, Node::Kind::kSequence);
  }
  void OnSequenceEnd() override { EndCollection(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    StartCollection(mark, anchor, Node::Kind::kMap);
  }
  void OnMapEnd() override { EndCollection(); }

 private:
  struct Frame {
    Node node;
    YAML::anchor_t anchor = 0;
    // True when this collection is itself a map key (always an error).
    bool is_key = false;
    // kMap: state of the entry being read.
    bool has_key = false;
    bool key_usable = false;  // false: the key was reported; drop its value
    bool key_is_merge = false;
    std::string key;
    int key_line = 0;
    int key_column = 0;
    std::unordered_map<std::string, int> key_lines;  // explicit keys -> line
    std::vector<Node> merges;                        // values of `<<` keys
  };

  static int LineOf(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }
  static int ColumnOf(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.column + 1; }

  Node NullAt(int line, int column) const {
    Node node;
    node.file = file_;
    node.line = line;
    node.column = column;
    return node;
  }

  Node ScalarAt(const YAML::Mark& mark, bool quoted, const std::string& value) const {
    Node node = NullAt(LineOf(mark), ColumnOf(mark));
    node.kind = Node::Kind::kScalar;
    node.quoted = quoted;
    node.scalar = value;
    return node;
  }

  void AddError(int line, int column, const std::string& path, std::string message) {
    errors_.push_back(ConfigError{file_, line, column, path, std::move(message)});
  }

  // Nothing is built after a failure or for a second document, but its
  // collections are still counted so that their ends match.
  bool Skipping() const { return failed_ || documents_ > 1; }

  // Accounts for a node about to be built; stops parsing when the budget is
  // spent.
  void Charge(const Node& node) {
    built_bytes_ += sizeof(Node) + node.path.size() + node.scalar.size() + node.file.size();
    if (built_bytes_ <= kMaxBuiltBytes) return;
    AddError(node.line, node.column, node.path,
             "the document is too large once its aliases are expanded");
    failed_ = true;
    throw StopParsing{};
  }

  // The map whose next event is a key, if any.
  Frame* PendingKeyOf() {
    if (stack_.empty()) return nullptr;
    Frame& top = stack_.back();
    return (top.node.IsMap() && !top.has_key) ? &top : nullptr;
  }
  Frame* MapAwaitingValue() {
    if (stack_.empty()) return nullptr;
    Frame& top = stack_.back();
    return (top.node.IsMap() && top.has_key) ? &top : nullptr;
  }

  // The path of the next value (not key) event.
  std::string NextPath() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (top.node.IsSequence()) return IndexPath(top.node.path, top.node.items.size());
    return JoinPath(top.node.path, top.key);
  }

  void AcceptKey(Frame& map, const std::string& key, bool plain, int line, int column) {
    map.has_key = true;
    map.key = key;
    map.key_line = line;
    map.key_column = column;
    map.key_is_merge = plain && key == "<<";
    auto [it, inserted] = map.key_lines.emplace(key, line);
    map.key_usable = inserted || map.key_is_merge;
    if (!map.key_usable) {
      AddError(line, column, JoinPath(map.node.path, key),
               "duplicate key (first written at line " + std::to_string(it->second) + ")");
    }
  }

  void RejectKey(Frame& map) {
    map.has_key = true;
    map.key_usable = false;
    map.key_is_merge = false;
    map.key.clear();
  }

  void StartCollection(const YAML::Mark& mark, YAML::anchor_t anchor, Node::Kind kind) {
    if (Skipping()) {
      ++skipped_depth_;
      return;
    }
    if (stack_.size() >= kMaxDepth) {
      AddError(LineOf(mark), ColumnOf(mark), NextPath(),
               "nested more than " + std::to_string(kMaxDepth) + " levels deep");
      failed_ = true;
      throw StopParsing{};
    }
    Frame frame;
    frame.anchor = anchor;
    frame.node = NullAt(LineOf(mark), ColumnOf(mark));
    frame.node.kind = kind;
    if (Frame* map = PendingKeyOf()) {
      frame.is_key = true;
      frame.node.path = map->node.path;
    } else {
      frame.node.path = NextPath();
    }
    Charge(frame.node);
    stack_.push_back(std::move(frame));
  }

  void EndCollection() {
    if (skipped_depth_ > 0) {
      --skipped_depth_;
      return;
    }
    if (stack_.empty()) return;
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (Skipping()) return;
    if (frame.is_key) {
      AddError(frame.node.line, frame.node.column, frame.node.path,
               "a map key must be a string, not " + DescribeNode(frame.node));
      if (Frame* map = PendingKeyOf()) RejectKey(*map);
      return;
    }
    if (frame.node.IsMap()) ApplyMerges(frame);
    Deliver(std::move(frame.node), frame.anchor);
  }

  // `<<: *base` (or a list of them) adds the keys of `base` that the map
  // does not write itself; of several maps the first that has a key wins.
  void ApplyMerges(Frame& frame) {
    for (const Node& source : frame.merges) {
      std::vector<const Node*> maps;
      if (source.IsMap()) {
        maps.push_back(&source);
      } else if (source.IsSequence()) {
        for (const Node& item : source.items) maps.push_back(&item);
      }
      bool valid = !maps.empty();
      for (const Node* map : maps) valid = valid && map->IsMap();
      if (!valid) {
        AddError(source.line, source.column, source.path,
                 "a merge key (<<) takes a map or a list of maps, not " + DescribeNode(source));
        continue;
      }
      for (const Node* map : maps) {
        for (const auto& [key, value] : map->entries) {
          if (frame.key_lines.count(key) != 0) continue;
          Node copy;
          CopyInto(value, JoinPath(frame.node.path, key), copy);
          copy.key_line = value.key_line;
          copy.key_column = value.key_column;
          frame.key_lines.emplace(key, value.key_line);
          frame.node.entries.emplace_back(key, std::move(copy));
        }
      }
    }
  }

  // Copies `source` as if written at `path`.
  void CopyInto(const Node& source, const std::string& path, Node& out) {
    out.kind = source.kind;
    out.scalar = source.scalar;
    out.quoted = source.quoted;
    out.file = source.file;
    out.line = source.line;
    out.column = source.column;
    out.path = path;
    Charge(out);
    out.items.reserve(source.items.size());
    for (const Node& item : source.items) {
      Node copy;
      CopyInto(item, IndexPath(path, out.items.size()), copy);
      out.items.push_back(std::move(copy));
    }
    out.entries.reserve(source.entries.size());
    for (const auto& [key, value] : source.entries) {
      Node copy;
      CopyInto(value, JoinPath(path, key), copy);
      copy.key_line = value.key_line;
      copy.key_column = value.key_column;
      out.entries.emplace_back(key, std::move(copy));
    }
  }

  // Places a finished value: root, list item or map value.
  void Deliver(Node node, YAML::anchor_t anchor) {
    if (anchor != 0) {
      Node stored;
      CopyInto(node, node.path, stored);
      stored.key_line = node.key_line;
      stored.key_column = node.key_column;
      anchors_[anchor] = std::move(stored);
    }
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.IsSequence()) {
      top.node.items.push_back(std::move(node));
      return;
    }
    if (top.key_usable) {
      if (top.key_is_merge) {
        top.merges.push_back(std::move(node));
      } else {
        node.key_line = top.key_line;
        node.key_column = top.key_column;
        top.node.entries.emplace_back(top.key, std::move(node));
      }
    }
    top.has_key = false;
    top.key_usable = false;
    top.key_is_merge = false;
  }

  const std::string& file_;
  const EnvLookup& env_;
  ConfigErrors& errors_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Node> anchors_;
  Node root_;
  int documents_ = 0;
  bool failed_ = false;
  size_t skipped_depth_ = 0;
  size_t built_bytes_ = 0;
};

}  // namespace

Node ParseYaml(std::string_view text, const std::string& file_name, const EnvLookup& env,
               ConfigErrors& errors) {
  Node empty;
  empty.file = file_name;
  if (text.size() > kMaxYamlBytes) {
    errors.push_back(
        ConfigError{file_name, 0, 0, "",
                    "the file is larger than " + std::to_string(kMaxYamlBytes >> 20) + " MiB"});
    return empty;
  }
  NodeBuilder builder(file_name, env, errors);
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    // A second call only detects (and reports) a second document.
    if (parser.HandleNextDocument(builder)) (void)parser.HandleNextDocument(builder);
  } catch (const StopParsing&) {
    builder.Fail();
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
    errors.push_back(ConfigError{file_name, line, column, "", "invalid YAML: " + e.msg});
    builder.Fail();
  } catch (const std::exception& e) {
    errors.push_back(ConfigError{file_name, 0, 0, "", std::string("invalid YAML: ") + e.what()});
    builder.Fail();
  } catch (...) {
    errors.push_back(ConfigError{file_name, 0, 0, "", "invalid YAML"});
    builder.Fail();
  }
  Node root = builder.TakeRoot();
  root.file = file_name;
  return root;
}

}  // namespace sluice::config
