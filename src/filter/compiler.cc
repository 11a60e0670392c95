// libpg_query's JSON parse tree of `SELECT <filter>` -> Node tree.
//
// libpg_query 15's JSON output leaves out fields that hold their default
// value (0, false, ""), and writes integer constants that are zero or
// negative as `"ival": {}`; those are read back from the source text.
#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "filter/expression.h"

namespace sluice::filter {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPrefix = "SELECT ";

const Json* Field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringField(const Json& object, const char* key) {
  const Json* f = Field(object, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

int64_t IntField(const Json& object, const char* key, int64_t fallback) {
  const Json* f = Field(object, key);
  return f != nullptr && f->is_number_integer() ? f->get<int64_t>() : fallback;
}

bool BoolField(const Json& object, const char* key) {
  const Json* f = Field(object, key);
  return f != nullptr && f->is_boolean() && f->get<bool>();
}

// A parse node is {"TypeName": {...fields}}.
bool Unwrap(const Json& wrapper, std::string* type, const Json** body) {
  if (!wrapper.is_object() || wrapper.size() != 1) return false;
  *type = wrapper.begin().key();
  *body = &wrapper.begin().value();
  return true;
}

// The sval of a {"String": {"sval": ...}} node.
std::optional<std::string> StringNode(const Json& wrapper) {
  std::string type;
  const Json* body;
  if (!Unwrap(wrapper, &type, &body) || type != "String") return std::nullopt;
  return StringField(*body, "sval");
}

// The first "location" in a subtree (depth first), or -1.
int64_t FindLocation(const Json& j, int depth = 0) {
  if (depth > 200) return -1;
  if (j.is_object()) {
    if (const Json* loc = Field(j, "location"); loc != nullptr && loc->is_number_integer()) {
      const int64_t v = loc->get<int64_t>();
      if (v >= 0) return v;
    }
    for (const auto& item : j.items()) {
      int64_t v = FindLocation(item.value(), depth + 1);
      if (v >= 0) return v;
    }
  } else if (j.is_array()) {
    for (const auto& item : j) {
      int64_t v = FindLocation(item, depth + 1);
      if (v >= 0) return v;
    }
  }
  return -1;
}

using NodePtr = std::unique_ptr<Node>;

// Folding and compile-time checks evaluate nodes that reference no row.
class NoRow : public RowAccess {
 public:
  Result<Value> Column(size_t, bool) const override { return Value::Null(); }
  Value ActionText() const override { return Value::Null(); }
};

// What the compiler knows of a node's type without a row.
enum class StaticType : unsigned char { kBoolean, kUnknown, kOther };

class Compiler {
 public:
  explicit Compiler(std::string_view sql) : sql_(sql), wrapped_(std::string(kPrefix) + sql_) {}

  Result<CompiledFilter> Run() {
    if (sql_.find('\0') != std::string::npos) {
      return Status::Permanent("filter contains a NUL character");
    }
    // libpg_query recurses once per level of a left-deep chain of operators
    // (a + a + ... , x->'a'->'b'...) without a depth check: bound the input
    // so that parsing needs little stack. Operator characters are counted
    // everywhere, string literals included (a miscount cannot hide one).
    if (sql_.size() > kMaxLength) {
      return Status::Permanent("filter is longer than " + std::to_string(kMaxLength) + " bytes");
    }
    size_t operators = 0;
    for (char c : sql_) {
      if (std::string_view("+-*/%<>=!~^&|#@?:").find(c) != std::string_view::npos) ++operators;
    }
    if (operators > kMaxOperatorCharacters) {
      return Status::Permanent("filter has more than " + std::to_string(kMaxOperatorCharacters) +
                               " operator characters");
    }
    PgQueryParseResult result = pg_query_parse(wrapped_.c_str());
    if (result.error != nullptr) {
      const int cursor = result.error->cursorpos;
      std::string message = result.error->message != nullptr ? result.error->message : "error";
      pg_query_free_parse_result(result);
      // cursorpos counts characters of the wrapped text, from 1.
      const int position = std::max(1, cursor - static_cast<int>(kPrefix.size()));
      return Status::Permanent(message + " at position " + std::to_string(position));
    }
    Json tree = Json::parse(result.parse_tree != nullptr ? result.parse_tree : "", nullptr, false);
    pg_query_free_parse_result(result);
    if (tree.is_discarded()) return Status::Permanent("filter: could not read the parse tree");
    SLUICE_ASSIGN_OR_RETURN(NodePtr root, TopLevel(tree));
    SLUICE_RETURN_IF_ERROR(RequireBoolean(*root, "the filter"));
    CompiledFilter out;
    out.root = std::move(root);
    out.columns = std::move(columns_);
    return out;
  }

 private:
  // 1-based character position in the filter text of a byte offset in the
  // wrapped text.
  int PositionOf(int64_t location) const {
    if (location < static_cast<int64_t>(kPrefix.size())) return 1;
    const size_t end =
        std::min<size_t>(static_cast<size_t>(location) - kPrefix.size(), sql_.size());
    int chars = 0;
    for (size_t i = 0; i < end; ++i) {
      if ((static_cast<unsigned char>(sql_[i]) & 0xC0) != 0x80) ++chars;
    }
    return chars + 1;
  }

  int PositionOfNode(const Json& body) const { return PositionOf(IntField(body, "location", -1)); }

  // A short excerpt of the source at a byte offset of the wrapped text: a
  // parenthesised group, or one token.
  std::string SnippetAt(int64_t location) const {
    if (location < static_cast<int64_t>(kPrefix.size()) ||
        location >= static_cast<int64_t>(wrapped_.size())) {
      return "";
    }
    std::string_view s = std::string_view(wrapped_).substr(static_cast<size_t>(location));
    size_t n = 0;
    if (s[0] == '(') {
      int depth = 0;
      for (; n < s.size(); ++n) {
        if (s[n] == '(') ++depth;
        if (s[n] == ')' && --depth == 0) {
          ++n;
          break;
        }
      }
    } else {
      auto word = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.' ||
               c == '"' || (static_cast<unsigned char>(c) >= 0x80);
      };
      if (word(s[0])) {
        while (n < s.size() && word(s[n])) ++n;
      } else {
        while (n < s.size() && !word(s[n]) && !std::isspace(static_cast<unsigned char>(s[n])) &&
               s[n] != '(' && s[n] != '\'') {
          ++n;
        }
      }
    }
    n = std::max<size_t>(n, 1);
    std::string out(s.substr(0, std::min<size_t>(n, 40)));
    if (n > 40) out += "...";
    return out;
  }

  // Position of the last occurrence of `name` (any case) in the filter.
  int AliasPosition(const std::string& name) const {
    if (name.empty() || name.size() > sql_.size()) return 1;
    for (size_t i = sql_.size() - name.size() + 1; i-- > 0;) {
      bool match = true;
      for (size_t k = 0; k < name.size() && match; ++k) {
        match = std::tolower(static_cast<unsigned char>(sql_[i + k])) ==
                std::tolower(static_cast<unsigned char>(name[k]));
      }
      if (match) return PositionOf(static_cast<int64_t>(i + kPrefix.size()));
    }
    return 1;
  }

  Status Unsupported(std::string_view construct, std::string_view text, int position,
                     std::string_view hint = "") const {
    std::string message = "unsupported construct " + std::string(construct);
    if (!text.empty()) message += " `" + std::string(text) + "`";
    message += " at position " + std::to_string(position);
    if (!hint.empty()) message += " (" + std::string(hint) + ")";
    return Status::Permanent(message);
  }

  Status ErrorAt(const std::string& what, int position) const {
    return Status::Permanent(what + " at position " + std::to_string(position));
  }

  Result<NodePtr> TopLevel(const Json& tree) {
    const Json* stmts = Field(tree, "stmts");
    if (stmts == nullptr || !stmts->is_array() || stmts->empty()) {
      return Status::Permanent("empty filter: expected a boolean expression");
    }
    if (stmts->size() > 1) {
      const int64_t loc = IntField((*stmts)[1], "stmt_location", -1);
      return Unsupported("multiple statements", "", PositionOf(loc));
    }
    const Json* stmt = Field((*stmts)[0], "stmt");
    const Json* select = stmt != nullptr ? Field(*stmt, "SelectStmt") : nullptr;
    if (select == nullptr) return Unsupported("statement", "", 1);
    static const std::set<std::string> kAllowed = {"targetList", "limitOption", "op"};
    for (const auto& item : select->items()) {
      if (kAllowed.count(item.key()) > 0) continue;
      static const std::map<std::string, std::string> kClauses = {
          {"fromClause", "FROM"},         {"whereClause", "WHERE"},
          {"groupClause", "GROUP BY"},    {"havingClause", "HAVING"},
          {"windowClause", "WINDOW"},     {"sortClause", "ORDER BY"},
          {"limitCount", "LIMIT"},        {"limitOffset", "OFFSET"},
          {"distinctClause", "DISTINCT"}, {"intoClause", "INTO"},
          {"lockingClause", "FOR ..."},   {"withClause", "WITH"},
          {"valuesLists", "VALUES"},      {"larg", "set operation"},
          {"rarg", "set operation"},      {"groupDistinct", "GROUP BY DISTINCT"}};
      auto it = kClauses.find(item.key());
      const std::string name = it != kClauses.end() ? it->second : item.key();
      return Unsupported(name + " clause", "", PositionOf(FindLocation(item.value())));
    }
    if (StringField(*select, "op") != "SETOP_NONE" ||
        StringField(*select, "limitOption") != "LIMIT_OPTION_DEFAULT") {
      return Unsupported("set operation or LIMIT", "", 1);
    }
    const Json* targets = Field(*select, "targetList");
    if (targets == nullptr || !targets->is_array() || targets->empty()) {
      return Status::Permanent("empty filter: expected a boolean expression");
    }
    if (targets->size() > 1) {
      return Unsupported("second expression", "", PositionOf(FindLocation((*targets)[1])),
                         "the filter is one boolean expression; combine with AND / OR");
    }
    std::string type;
    const Json* target;
    if (!Unwrap((*targets)[0], &type, &target) || type != "ResTarget") {
      return Status::Permanent("filter: unexpected parse tree");
    }
    if (Field(*target, "name") != nullptr) {
      // `x = 1 AND` parses as `x = 1 AS "and"`: point at the label.
      const std::string name = StringField(*target, "name");
      return Unsupported("alias", name, AliasPosition(name),
                         "a trailing word is read as a column alias; is the expression complete?");
    }
    const Json* val = Field(*target, "val");
    if (val == nullptr) return Status::Permanent("filter: unexpected parse tree");
    return Expr(*val);
  }

  // ---- Types of nodes known at compile time --------------------------------

  StaticType StaticTypeOf(const Node& node) const {
    switch (node.kind) {
      case NodeKind::kConstant:
        if (node.constant.type == Type::kBool) return StaticType::kBoolean;
        if (node.constant.type == Type::kUnknown) return StaticType::kUnknown;
        return StaticType::kOther;
      case NodeKind::kColumn:
      case NodeKind::kOldColumn:
        return StaticType::kUnknown;
      case NodeKind::kCast:
        return node.cast.type == Type::kBool ? StaticType::kBoolean : StaticType::kOther;
      case NodeKind::kAction:
      case NodeKind::kNegate:
      case NodeKind::kArithmetic:
      case NodeKind::kJsonGet:
        return StaticType::kOther;
      default:
        return StaticType::kBoolean;
    }
  }

  std::string StaticTypeName(const Node& node) const {
    switch (node.kind) {
      case NodeKind::kConstant:
        return TypeName(node.constant.type);
      case NodeKind::kCast:
        return TypeName(node.cast.type);
      case NodeKind::kAction:
        return "text";
      case NodeKind::kJsonGet:
        return node.as_text ? "text" : "json";
      default:
        return "a number";
    }
  }

  Status RequireBoolean(const Node& node, std::string_view context) const {
    if (StaticTypeOf(node) != StaticType::kOther) return Status::Ok();
    return ErrorAt("argument of " + std::string(context) + " must be type boolean, not type " +
                       StaticTypeName(node),
                   node.position);
  }

  // ---- Expressions ----------------------------------------------------------

  Result<NodePtr> Expr(const Json& wrapper) {
    std::string type;
    const Json* body;
    if (!Unwrap(wrapper, &type, &body)) return Status::Permanent("filter: unexpected parse tree");
    // Compilation and evaluation recurse over the tree: bound the depth.
    if (depth_ >= kMaxDepth) {
      return ErrorAt("expression nested more than " + std::to_string(kMaxDepth) + " levels deep",
                     PositionOf(IntField(*body, "location", -1)));
    }
    ++depth_;
    auto node = ExprAtDepth(type, *body);
    --depth_;
    return node;
  }

  Result<NodePtr> ExprAtDepth(const std::string& type, const Json& body_ref) {
    const Json* body = &body_ref;
    if (type == "A_Const") return Constant(*body);
    if (type == "ColumnRef") return ColumnRef(*body);
    if (type == "A_Expr") return AExpr(*body);
    if (type == "BoolExpr") return BoolExpr(*body);
    if (type == "NullTest") return NullTest(*body);
    if (type == "BooleanTest") return BooleanTest(*body);
    if (type == "TypeCast") return TypeCast(*body);
    if (type == "CollateClause") return Collate(*body);
    const int64_t location = IntField(*body, "location", -1);
    const int position = PositionOf(location);
    if (type == "FuncCall") {
      std::string name;
      if (const Json* names = Field(*body, "funcname"); names != nullptr && names->is_array()) {
        for (const auto& n : *names) {
          if (!name.empty()) name += ".";
          name += StringNode(n).value_or("?");
        }
      }
      std::string args = BoolField(*body, "agg_star") ? "*" : Field(*body, "args") ? "..." : "";
      std::string hint = Field(*body, "over") != nullptr ? "window functions are not supported"
                                                         : "function calls are not supported";
      return Unsupported("FuncCall",
                         name + "(" + args + ")" + (Field(*body, "over") ? " OVER" : ""), position,
                         hint);
    }
    if (type == "ParamRef") {
      return Unsupported("ParamRef", "$" + std::to_string(IntField(*body, "number", 0)), position,
                         "parameters are not supported");
    }
    if (type == "SubLink") {
      static const std::map<std::string, std::string> kShapes = {
          {"EXISTS_SUBLINK", "EXISTS (SELECT ...)"},
          {"ANY_SUBLINK", "IN (SELECT ...)"},
          {"ALL_SUBLINK", "ALL (SELECT ...)"},
          {"ARRAY_SUBLINK", "ARRAY(SELECT ...)"}};
      auto it = kShapes.find(StringField(*body, "subLinkType"));
      return Unsupported("SubLink", it != kShapes.end() ? it->second : "(SELECT ...)", position,
                         "subqueries are not supported");
    }
    return Unsupported(type, SnippetAt(location), position);
  }

  Result<NodePtr> Constant(const Json& body) {
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::kConstant;
    const int64_t location = IntField(body, "location", -1);
    node->position = PositionOf(location);
    if (BoolField(body, "isnull")) {
      node->constant = Value::Null();
    } else if (const Json* ival = Field(body, "ival")) {
      const Json* inner = Field(*ival, "ival");
      if (inner != nullptr && inner->is_number_integer()) {
        node->constant = Value::Int(Type::kInt4, inner->get<int64_t>());
      } else {
        SLUICE_ASSIGN_OR_RETURN(int64_t v, NonPositiveIntegerAt(location, node->position));
        node->constant = Value::Int(Type::kInt4, v);
      }
    } else if (const Json* fval = Field(body, "fval")) {
      // An integer literal too large for int4 is int8 when it fits, else
      // numeric; anything with a point or exponent is numeric.
      const std::string text = StringField(*fval, "fval");
      auto as_int = ParseValue(Type::kInt8, text);
      if (text.find_first_of(".eE") == std::string::npos && as_int.ok()) {
        node->constant = std::move(as_int).value();
      } else {
        auto n = Numeric::Parse(text);
        if (!n.has_value()) return ErrorAt("invalid numeric literal " + text, node->position);
        node->constant = Value::Num(std::move(*n));
      }
    } else if (const Json* sval = Field(body, "sval")) {
      node->constant = Value::Text(Type::kUnknown, StringField(*sval, "sval"));
    } else if (const Json* boolval = Field(body, "boolval")) {
      node->constant = Value::Bool(BoolField(*boolval, "boolval"));
    } else if (Field(body, "bsval") != nullptr) {
      return Unsupported("bit string literal", SnippetAt(location), node->position);
    } else {
      return Unsupported("A_Const", SnippetAt(location), node->position);
    }
    return node;
  }

  // libpg_query writes integer constants <= 0 without their value; the
  // literal at `location` is then [-( ]...digits with an odd or even number
  // of minus signs, and the value is minus the digits (or zero).
  Result<int64_t> NonPositiveIntegerAt(int64_t location, int position) const {
    size_t i = location < 0 ? wrapped_.size() : static_cast<size_t>(location);
    while (i < wrapped_.size()) {
      const char c = wrapped_[i];
      if (c == '/' && i + 1 < wrapped_.size() && wrapped_[i + 1] == '*') {
        size_t end = wrapped_.find("*/", i + 2);
        if (end == std::string::npos) break;
        i = end + 2;
      } else if (c == '-' && i + 1 < wrapped_.size() && wrapped_[i + 1] == '-') {
        size_t end = wrapped_.find('\n', i);
        if (end == std::string::npos) break;
        i = end + 1;
      } else if (c == '-' || c == '(' || std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else {
        break;
      }
    }
    int64_t magnitude = 0;
    size_t digits = 0;
    while (i < wrapped_.size() && std::isdigit(static_cast<unsigned char>(wrapped_[i]))) {
      magnitude = magnitude * 10 + (wrapped_[i] - '0');
      if (magnitude > (int64_t{1} << 32)) break;
      ++i;
      ++digits;
    }
    if (digits == 0) return ErrorAt("could not read the integer literal", position);
    return -magnitude;
  }

  Result<NodePtr> ColumnRef(const Json& body) {
    const int position = PositionOfNode(body);
    const Json* fields = Field(body, "fields");
    std::vector<std::string> parts;
    std::string dotted;
    bool star = false;
    if (fields != nullptr && fields->is_array()) {
      for (const auto& f : *fields) {
        std::string type;
        const Json* b;
        if (Unwrap(f, &type, &b) && type == "A_Star") {
          star = true;
          parts.push_back("*");
        } else {
          parts.push_back(StringNode(f).value_or("?"));
        }
        if (!dotted.empty()) dotted += ".";
        dotted += parts.back();
      }
    }
    if (star) return Unsupported("ColumnRef", dotted, position, "* is not supported");
    auto node = std::make_unique<Node>();
    node->position = position;
    if (parts.size() == 1) {
      if (parts[0] == "action") {
        node->kind = NodeKind::kAction;
        return node;
      }
      node->kind = NodeKind::kColumn;
      node->column = ColumnIndex(parts[0]);
      return node;
    }
    if (parts.size() == 2 && (parts[0] == "record" || parts[0] == "changes")) {
      node->kind = parts[0] == "record" ? NodeKind::kColumn : NodeKind::kOldColumn;
      node->column = ColumnIndex(parts[1]);
      return node;
    }
    return Unsupported("ColumnRef", dotted, position,
                       "columns are `col`, `record.col` or `changes.col`");
  }

  size_t ColumnIndex(const std::string& name) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] == name) return i;
    }
    columns_.push_back(name);
    return columns_.size() - 1;
  }

  // The operator name of an A_Expr: "=", or OPERATOR(pg_catalog.=).
  std::string OperatorName(const Json& body) const {
    const Json* names = Field(body, "name");
    if (names == nullptr || !names->is_array() || names->empty()) return "";
    if (names->size() == 2 && StringNode((*names)[0]).value_or("") == "pg_catalog") {
      return StringNode((*names)[1]).value_or("");
    }
    if (names->size() != 1) return "";
    return StringNode((*names)[0]).value_or("");
  }

  Result<std::vector<NodePtr>> List(const Json* rexpr) {
    std::vector<NodePtr> out;
    const Json* list = rexpr != nullptr ? Field(*rexpr, "List") : nullptr;
    const Json* items = list != nullptr ? Field(*list, "items") : nullptr;
    if (items == nullptr || !items->is_array()) {
      return Status::Permanent("filter: unexpected parse tree (expected a list)");
    }
    for (const auto& item : *items) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr n, Expr(item));
      out.push_back(std::move(n));
    }
    return out;
  }

  Result<NodePtr> AExpr(const Json& body) {
    const std::string kind = StringField(body, "kind");
    const std::string op = OperatorName(body);
    const int position = PositionOfNode(body);
    const Json* lexpr = Field(body, "lexpr");
    const Json* rexpr = Field(body, "rexpr");
    auto node = std::make_unique<Node>();
    node->position = position;

    if (kind == "AEXPR_OP") {
      static const std::map<std::string, CompareOp> kCompare = {
          {"=", CompareOp::kEq},  {"<>", CompareOp::kNe}, {"<", CompareOp::kLt},
          {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
      const bool unary = lexpr == nullptr;
      if (rexpr == nullptr) return Unsupported("postfix operator", op, position);
      if (auto it = kCompare.find(op); it != kCompare.end() && !unary) {
        node->kind = NodeKind::kCompare;
        node->compare_op = it->second;
      } else if ((op == "-" || op == "+") && unary) {
        node->kind = NodeKind::kNegate;
        node->negated = op == "-";
        SLUICE_ASSIGN_OR_RETURN(NodePtr arg, Expr(*rexpr));
        node->args.push_back(std::move(arg));
        return Fold(std::move(node));
      } else if (op.size() == 1 && std::string_view("+-*/%").find(op[0]) != std::string::npos &&
                 !unary) {
        node->kind = NodeKind::kArithmetic;
        node->arith_op = op[0];
      } else if ((op == "->" || op == "->>") && !unary) {
        node->kind = NodeKind::kJsonGet;
        node->as_text = op == "->>";
      } else {
        return Unsupported("operator", op.empty() ? "?" : op, position);
      }
      SLUICE_ASSIGN_OR_RETURN(NodePtr left, Expr(*lexpr));
      SLUICE_ASSIGN_OR_RETURN(NodePtr right, Expr(*rexpr));
      if (node->kind == NodeKind::kJsonGet && left->kind == NodeKind::kConstant &&
          left->constant.type == Type::kUnknown) {
        return ErrorAt(
            "operator is not unique: unknown " + op + " (cast the literal to json or jsonb)",
            position);
      }
      node->args.push_back(std::move(left));
      node->args.push_back(std::move(right));
      if (node->kind == NodeKind::kCompare) return node;
      return Fold(std::move(node));
    }
    if (kind == "AEXPR_IN") {
      if (op != "=" && op != "<>") return Unsupported("IN", op, position);
      node->kind = NodeKind::kIn;
      node->negated = op == "<>";
      if (lexpr == nullptr) return Status::Permanent("filter: unexpected parse tree");
      SLUICE_ASSIGN_OR_RETURN(NodePtr left, Expr(*lexpr));
      node->args.push_back(std::move(left));
      SLUICE_ASSIGN_OR_RETURN(auto items, List(rexpr));
      for (auto& item : items) node->args.push_back(std::move(item));
      return node;
    }
    if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
      node->kind = NodeKind::kLike;
      node->case_insensitive = kind == "AEXPR_ILIKE";
      node->negated = op.size() > 0 && op[0] == '!';
      if (lexpr == nullptr || rexpr == nullptr) {
        return Status::Permanent("filter: unexpected parse tree");
      }
      SLUICE_ASSIGN_OR_RETURN(NodePtr left, Expr(*lexpr));
      node->args.push_back(std::move(left));
      // `x LIKE p ESCAPE e` arrives as x LIKE like_escape(p, e).
      std::string type;
      const Json* rbody;
      if (Unwrap(*rexpr, &type, &rbody) && type == "FuncCall") {
        SLUICE_ASSIGN_OR_RETURN(NodePtr pattern, LikeEscape(*rbody, node.get()));
        node->args.push_back(std::move(pattern));
      } else {
        SLUICE_ASSIGN_OR_RETURN(NodePtr pattern, Expr(*rexpr));
        node->args.push_back(std::move(pattern));
      }
      return node;
    }
    if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
      node->kind = NodeKind::kDistinct;
      node->negated = kind == "AEXPR_NOT_DISTINCT";
      if (lexpr == nullptr || rexpr == nullptr) {
        return Status::Permanent("filter: unexpected parse tree");
      }
      SLUICE_ASSIGN_OR_RETURN(NodePtr left, Expr(*lexpr));
      SLUICE_ASSIGN_OR_RETURN(NodePtr right, Expr(*rexpr));
      node->args.push_back(std::move(left));
      node->args.push_back(std::move(right));
      return node;
    }
    if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN" || kind == "AEXPR_BETWEEN_SYM" ||
        kind == "AEXPR_NOT_BETWEEN_SYM") {
      node->kind = NodeKind::kBetween;
      node->negated = kind.find("NOT") != std::string::npos;
      node->symmetric = kind.find("SYM") != std::string::npos;
      if (lexpr == nullptr) return Status::Permanent("filter: unexpected parse tree");
      SLUICE_ASSIGN_OR_RETURN(NodePtr left, Expr(*lexpr));
      SLUICE_ASSIGN_OR_RETURN(auto bounds, List(rexpr));
      if (bounds.size() != 2) return Status::Permanent("filter: unexpected parse tree");
      node->args.push_back(std::move(left));
      node->args.push_back(std::move(bounds[0]));
      node->args.push_back(std::move(bounds[1]));
      return node;
    }
    static const std::map<std::string, std::string> kNames = {
        {"AEXPR_OP_ANY", "ANY"},         {"AEXPR_OP_ALL", "ALL"}, {"AEXPR_NULLIF", "NULLIF"},
        {"AEXPR_SIMILAR", "SIMILAR TO"}, {"AEXPR_OF", "IS OF"},   {"AEXPR_PAREN", "parenthesis"}};
    auto it = kNames.find(kind);
    return Unsupported(it != kNames.end() ? it->second : kind, op, position);
  }

  Result<NodePtr> LikeEscape(const Json& func, Node* like) {
    const int position = PositionOfNode(func);
    std::string name;
    if (const Json* names = Field(func, "funcname"); names != nullptr && names->is_array()) {
      for (const auto& n : *names) {
        if (!name.empty()) name += ".";
        name += StringNode(n).value_or("?");
      }
    }
    const Json* args = Field(func, "args");
    if (name != "pg_catalog.like_escape" || args == nullptr || !args->is_array() ||
        args->size() != 2) {
      return Unsupported("FuncCall", name + "(...)", position, "function calls are not supported");
    }
    SLUICE_ASSIGN_OR_RETURN(NodePtr pattern, Expr((*args)[0]));
    SLUICE_ASSIGN_OR_RETURN(NodePtr escape, Expr((*args)[1]));
    if (escape->kind != NodeKind::kConstant ||
        (escape->constant.type != Type::kUnknown && escape->constant.type != Type::kText) ||
        escape->constant.null) {
      return Unsupported("ESCAPE", "", escape->position, "the escape must be a string literal");
    }
    const std::string& e = escape->constant.text;
    size_t chars = 0;
    for (char c : e) {
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
    }
    if (chars > 1) {
      return ErrorAt("invalid escape string (it must be empty or one character)", escape->position);
    }
    like->escape = e;
    return pattern;
  }

  Result<NodePtr> BoolExpr(const Json& body) {
    const std::string op = StringField(body, "boolop");
    auto node = std::make_unique<Node>();
    node->position = PositionOfNode(body);
    const char* context;
    if (op == "AND_EXPR") {
      node->kind = NodeKind::kAnd;
      context = "AND";
    } else if (op == "OR_EXPR") {
      node->kind = NodeKind::kOr;
      context = "OR";
    } else if (op == "NOT_EXPR") {
      node->kind = NodeKind::kNot;
      context = "NOT";
    } else {
      return Unsupported("BoolExpr", op, node->position);
    }
    const Json* args = Field(body, "args");
    if (args == nullptr || !args->is_array() || args->empty()) {
      return Status::Permanent("filter: unexpected parse tree");
    }
    for (const auto& a : *args) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr arg, Expr(a));
      SLUICE_RETURN_IF_ERROR(RequireBoolean(*arg, context));
      node->args.push_back(std::move(arg));
    }
    return node;
  }

  Result<NodePtr> NullTest(const Json& body) {
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::kNullTest;
    node->position = PositionOfNode(body);
    node->negated = StringField(body, "nulltesttype") == "IS_NOT_NULL";
    const Json* arg = Field(body, "arg");
    if (arg == nullptr) return Status::Permanent("filter: unexpected parse tree");
    SLUICE_ASSIGN_OR_RETURN(NodePtr a, Expr(*arg));
    node->args.push_back(std::move(a));
    return node;
  }

  Result<NodePtr> BooleanTest(const Json& body) {
    static const std::map<std::string, BoolTestKind> kTests = {
        {"IS_TRUE", BoolTestKind::kIsTrue},       {"IS_NOT_TRUE", BoolTestKind::kIsNotTrue},
        {"IS_FALSE", BoolTestKind::kIsFalse},     {"IS_NOT_FALSE", BoolTestKind::kIsNotFalse},
        {"IS_UNKNOWN", BoolTestKind::kIsUnknown}, {"IS_NOT_UNKNOWN", BoolTestKind::kIsNotUnknown}};
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::kBoolTest;
    node->position = PositionOfNode(body);
    auto it = kTests.find(StringField(body, "booltesttype"));
    if (it == kTests.end()) return Unsupported("BooleanTest", "", node->position);
    node->bool_test = it->second;
    const Json* arg = Field(body, "arg");
    if (arg == nullptr) return Status::Permanent("filter: unexpected parse tree");
    SLUICE_ASSIGN_OR_RETURN(NodePtr a, Expr(*arg));
    SLUICE_RETURN_IF_ERROR(RequireBoolean(*a, "IS TRUE/FALSE/UNKNOWN"));
    node->args.push_back(std::move(a));
    return node;
  }

  Result<NodePtr> Collate(const Json& body) {
    const int position = PositionOfNode(body);
    std::string name;
    if (const Json* names = Field(body, "collname"); names != nullptr && names->is_array()) {
      for (const auto& n : *names) {
        if (!name.empty()) name += ".";
        name += StringNode(n).value_or("?");
      }
    }
    // Text always compares bytewise here: only the collations that do the
    // same are accepted.
    if (name != "C" && name != "POSIX" && name != "pg_catalog.C" && name != "pg_catalog.POSIX") {
      return Unsupported("COLLATE", name, position, "only COLLATE \"C\" is supported");
    }
    const Json* arg = Field(body, "arg");
    if (arg == nullptr) return Status::Permanent("filter: unexpected parse tree");
    return Expr(*arg);
  }

  Result<NodePtr> TypeCast(const Json& body) {
    const Json* type_name = Field(body, "typeName");
    const Json* arg = Field(body, "arg");
    if (type_name == nullptr || arg == nullptr) {
      return Status::Permanent("filter: unexpected parse tree");
    }
    auto node = std::make_unique<Node>();
    node->kind = NodeKind::kCast;
    node->position = PositionOfNode(*type_name);
    SLUICE_ASSIGN_OR_RETURN(node->cast, CastTarget(*type_name, node->position));
    SLUICE_ASSIGN_OR_RETURN(NodePtr a, Expr(*arg));
    node->args.push_back(std::move(a));
    return Fold(std::move(node));
  }

  Result<TypeSpec> CastTarget(const Json& type_name, int position) const {
    std::vector<std::string> names;
    if (const Json* n = Field(type_name, "names"); n != nullptr && n->is_array()) {
      for (const auto& part : *n) names.push_back(StringNode(part).value_or("?"));
    }
    std::string shown;
    for (const auto& n : names) shown += (shown.empty() ? "" : ".") + n;
    if (names.size() == 2 && names[0] == "pg_catalog") names.erase(names.begin());
    if (names.size() != 1 || Field(type_name, "arrayBounds") != nullptr ||
        BoolField(type_name, "setof") || BoolField(type_name, "pct_type")) {
      return Unsupported("TypeCast", "::" + shown, position, "unsupported type");
    }
    static const std::map<std::string, Type> kTypes = {
        {"int2", Type::kInt2},           {"smallint", Type::kInt2},
        {"int4", Type::kInt4},           {"int", Type::kInt4},
        {"integer", Type::kInt4},        {"int8", Type::kInt8},
        {"bigint", Type::kInt8},         {"numeric", Type::kNumeric},
        {"decimal", Type::kNumeric},     {"float4", Type::kFloat4},
        {"real", Type::kFloat4},         {"float8", Type::kFloat8},
        {"text", Type::kText},           {"varchar", Type::kText},
        {"bpchar", Type::kBpchar},       {"bool", Type::kBool},
        {"boolean", Type::kBool},        {"date", Type::kDate},
        {"timestamp", Type::kTimestamp}, {"timestamptz", Type::kTimestampTz},
        {"uuid", Type::kUuid},           {"json", Type::kJson},
        {"jsonb", Type::kJsonb}};
    auto it = kTypes.find(names[0]);
    if (it == kTypes.end()) {
      return Unsupported("TypeCast", "::" + shown, position, "unsupported type");
    }
    TypeSpec spec;
    spec.type = it->second;
    std::vector<int64_t> mods;
    if (const Json* typmods = Field(type_name, "typmods"); typmods != nullptr) {
      for (const auto& m : *typmods) {
        std::string t;
        const Json* b;
        const Json* ival = Unwrap(m, &t, &b) && t == "A_Const" ? Field(*b, "ival") : nullptr;
        const Json* inner = ival != nullptr ? Field(*ival, "ival") : nullptr;
        if (inner == nullptr || !inner->is_number_integer()) {
          return Unsupported("type modifier", "::" + shown, position);
        }
        mods.push_back(inner->get<int64_t>());
      }
    }
    if (mods.empty()) return spec;
    const bool is_varchar = names[0] == "varchar";
    if ((is_varchar || spec.type == Type::kBpchar) && mods.size() == 1 && mods[0] >= 1 &&
        mods[0] <= 10485760) {
      spec.mod1 = static_cast<int32_t>(mods[0]);
      return spec;
    }
    if (spec.type == Type::kNumeric && mods.size() <= 2 && mods[0] >= 1 && mods[0] <= 1000 &&
        (mods.size() == 1 || (mods[1] >= 0 && mods[1] <= mods[0]))) {
      spec.mod1 = static_cast<int32_t>(mods[0]);
      spec.mod2 = mods.size() == 2 ? static_cast<int32_t>(mods[1]) : 0;
      return spec;
    }
    return Unsupported("type modifier", "::" + shown, position,
                       "only numeric(p,s), varchar(n) and char(n) take modifiers");
  }

  // Evaluates a node whose arguments are all constants (casts of literals,
  // arithmetic on literals), so errors in them surface at compile time.
  Result<NodePtr> Fold(NodePtr node) {
    for (const auto& arg : node->args) {
      if (arg->kind != NodeKind::kConstant) return node;
    }
    NoRow no_row;
    auto value = EvaluateNode(*node, no_row);
    if (!value.ok()) return value.status();
    auto folded = std::make_unique<Node>();
    folded->kind = NodeKind::kConstant;
    folded->position = node->position;
    folded->constant = std::move(value).value();
    return folded;
  }

  static constexpr int kMaxDepth = 200;
  static constexpr size_t kMaxLength = 64 * 1024;
  static constexpr size_t kMaxOperatorCharacters = 10000;

  std::string sql_;
  std::string wrapped_;
  std::vector<std::string> columns_;
  int depth_ = 0;
};

}  // namespace

Result<CompiledFilter> CompileExpression(std::string_view sql) { return Compiler(sql).Run(); }

}  // namespace sluice::filter
