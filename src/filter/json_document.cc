#include "filter/json_document.h"

#include <algorithm>
#include <cstdio>

#include "filter/numeric.h"

namespace sluice::filter {
namespace {

// Deeper documents are refused rather than risking the stack.
constexpr int kMaxDepth = 2000;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Postgres stores jsonb object keys shorter first, then bytewise.
bool JsonbKeyLess(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

class Parser {
 public:
  Parser(const std::string& s, bool binary) : s_(s), binary_(binary) {}

  Status ParseDocument(JsonNode* root) {
    SkipSpace();
    SLUICE_RETURN_IF_ERROR(ParseValue(root, 0));
    SkipSpace();
    if (i_ != s_.size()) return Error("expected end of input");
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Permanent(std::string("invalid input syntax for type ") +
                             (binary_ ? "jsonb" : "json") + ": " + what + " at offset " +
                             std::to_string(i_));
  }

  void SkipSpace() {
    while (i_ < s_.size() && IsJsonSpace(s_[i_])) ++i_;
  }

  bool Literal(std::string_view word) {
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }

  Status ParseValue(JsonNode* node, int depth) {
    if (depth > kMaxDepth) return Error("nesting deeper than " + std::to_string(kMaxDepth));
    if (i_ >= s_.size()) return Error("unexpected end of input");
    node->begin = i_;
    const char c = s_[i_];
    if (c == '{') {
      SLUICE_RETURN_IF_ERROR(ParseObject(node, depth));
    } else if (c == '[') {
      SLUICE_RETURN_IF_ERROR(ParseArray(node, depth));
    } else if (c == '"') {
      node->kind = JsonNode::Kind::kString;
      SLUICE_RETURN_IF_ERROR(ParseString(&node->text));
    } else if (c == '-' || IsDigit(c)) {
      SLUICE_RETURN_IF_ERROR(ParseNumber(node));
    } else if (Literal("true")) {
      node->kind = JsonNode::Kind::kTrue;
    } else if (Literal("false")) {
      node->kind = JsonNode::Kind::kFalse;
    } else if (Literal("null")) {
      node->kind = JsonNode::Kind::kNull;
    } else {
      return Error("unexpected character");
    }
    node->end = i_;
    return Status::Ok();
  }

  Status ParseObject(JsonNode* node, int depth) {
    node->kind = JsonNode::Kind::kObject;
    ++i_;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '"') return Error("expected an object key");
      std::string key;
      SLUICE_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != ':') return Error("expected ':'");
      ++i_;
      SkipSpace();
      JsonNode value;
      SLUICE_RETURN_IF_ERROR(ParseValue(&value, depth + 1));
      node->members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        break;
      }
      return Error("expected ',' or '}'");
    }
    if (binary_) {
      // Unique keys, the last occurrence wins, in jsonb's key order.
      auto& m = node->members;
      std::stable_sort(m.begin(), m.end(),
                       [](const auto& a, const auto& b) { return JsonbKeyLess(a.first, b.first); });
      std::vector<std::pair<std::string, JsonNode>> unique;
      unique.reserve(m.size());
      for (auto& member : m) {
        if (!unique.empty() && unique.back().first == member.first) {
          unique.back().second = std::move(member.second);
        } else {
          unique.push_back(std::move(member));
        }
      }
      m = std::move(unique);
    }
    return Status::Ok();
  }

  Status ParseArray(JsonNode* node, int depth) {
    node->kind = JsonNode::Kind::kArray;
    ++i_;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      JsonNode value;
      SLUICE_RETURN_IF_ERROR(ParseValue(&value, depth + 1));
      node->elements.push_back(std::move(value));
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return Status::Ok();
      }
      return Error("expected ',' or ']'");
    }
  }

  Status ParseHex4(uint32_t* out) {
    if (i_ + 4 > s_.size()) return Error("\\u must be followed by four hexadecimal digits");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_ + k];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("\\u must be followed by four hexadecimal digits");
      }
    }
    i_ += 4;
    *out = v;
    return Status::Ok();
  }

  Status ParseString(std::string* out) {
    ++i_;  // opening quote
    while (true) {
      if (i_ >= s_.size()) return Error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return Status::Ok();
      }
      if (c < 0x20) return Error("control character in string must be escaped");
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      ++i_;
      if (i_ >= s_.size()) return Error("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          SLUICE_RETURN_IF_ERROR(ParseHex4(&cp));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
              i_ += 2;
              SLUICE_RETURN_IF_ERROR(ParseHex4(&low));
            }
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (binary_) {
              return Error("Unicode low surrogate must follow a high surrogate");
            } else {
              cp = 0xFFFD;
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            if (binary_) return Error("Unicode low surrogate must follow a high surrogate");
            cp = 0xFFFD;
          } else if (cp == 0 && binary_) {
            return Error("unsupported Unicode escape sequence \\u0000");
          }
          AppendUtf8(*out, cp);
          break;
        }
        default:
          return Error("invalid escape sequence");
      }
    }
  }

  Status ParseNumber(JsonNode* node) {
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !IsDigit(s_[i_])) return Error("invalid number");
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !IsDigit(s_[i_])) return Error("invalid number");
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !IsDigit(s_[i_])) return Error("invalid number");
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    node->kind = JsonNode::Kind::kNumber;
    node->text = s_.substr(start, i_ - start);
    if (binary_) {
      auto n = Numeric::Parse(node->text);
      if (!n.has_value()) return Error("number out of range");
      node->text = n->ToString();
    }
    return Status::Ok();
  }

  const std::string& s_;
  bool binary_;
  size_t i_ = 0;
};

void AppendEscaped(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendJsonb(std::string& out, const JsonNode& node) {
  switch (node.kind) {
    case JsonNode::Kind::kNull:
      out += "null";
      return;
    case JsonNode::Kind::kTrue:
      out += "true";
      return;
    case JsonNode::Kind::kFalse:
      out += "false";
      return;
    case JsonNode::Kind::kNumber:
      out += node.text;
      return;
    case JsonNode::Kind::kString:
      AppendEscaped(out, node.text);
      return;
    case JsonNode::Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < node.elements.size(); ++i) {
        if (i > 0) out += ", ";
        AppendJsonb(out, node.elements[i]);
      }
      out.push_back(']');
      return;
    case JsonNode::Kind::kObject:
      out.push_back('{');
      for (size_t i = 0; i < node.members.size(); ++i) {
        if (i > 0) out += ", ";
        AppendEscaped(out, node.members[i].first);
        out += ": ";
        AppendJsonb(out, node.members[i].second);
      }
      out.push_back('}');
      return;
  }
}

}  // namespace

Result<JsonRef> ParseJson(std::string text, bool binary) {
  auto doc = std::make_shared<JsonDocument>();
  doc->binary = binary;
  doc->source = std::move(text);
  Parser parser(doc->source, binary);
  SLUICE_RETURN_IF_ERROR(parser.ParseDocument(&doc->root));
  if (binary) doc->source.clear();  // jsonb never prints its source
  return JsonRef(std::move(doc));
}

std::string JsonbText(const JsonNode& node) {
  std::string out;
  AppendJsonb(out, node);
  return out;
}

std::string JsonText(const JsonDocument& doc, const JsonNode& node) {
  if (doc.binary) return JsonbText(node);
  return doc.source.substr(node.begin, node.end - node.begin);
}

const JsonNode* JsonField(const JsonDocument& doc, const JsonNode& node, std::string_view key) {
  if (node.kind != JsonNode::Kind::kObject) return nullptr;
  (void)doc;
  // json may hold duplicate keys: the last one wins, as in Postgres.
  for (auto it = node.members.rbegin(); it != node.members.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

const JsonNode* JsonElement(const JsonNode& node, int64_t index) {
  if (node.kind != JsonNode::Kind::kArray) return nullptr;
  const int64_t size = static_cast<int64_t>(node.elements.size());
  if (index < 0) index += size;
  if (index < 0 || index >= size) return nullptr;
  return &node.elements[static_cast<size_t>(index)];
}

bool JsonbEqual(const JsonNode& a, const JsonNode& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case JsonNode::Kind::kNull:
    case JsonNode::Kind::kTrue:
    case JsonNode::Kind::kFalse:
      return true;
    case JsonNode::Kind::kString:
      return a.text == b.text;
    case JsonNode::Kind::kNumber: {
      auto x = Numeric::Parse(a.text);
      auto y = Numeric::Parse(b.text);
      return x.has_value() && y.has_value() && x->Compare(*y) == 0;
    }
    case JsonNode::Kind::kArray:
      if (a.elements.size() != b.elements.size()) return false;
      for (size_t i = 0; i < a.elements.size(); ++i) {
        if (!JsonbEqual(a.elements[i], b.elements[i])) return false;
      }
      return true;
    case JsonNode::Kind::kObject:
      if (a.members.size() != b.members.size()) return false;
      for (size_t i = 0; i < a.members.size(); ++i) {
        if (a.members[i].first != b.members[i].first) return false;
        if (!JsonbEqual(a.members[i].second, b.members[i].second)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace sluice::filter
