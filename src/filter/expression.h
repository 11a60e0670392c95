// The compiled form of a filter: a tree of nodes built from libpg_query's
// parse tree. Internal to the filter module.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "filter/value.h"

namespace sluice::filter {

enum class NodeKind : unsigned char {
  kConstant,    // constant
  kColumn,      // record.col / col: the row's value
  kOldColumn,   // changes.col: the old value of a changed column
  kAction,      // action: 'insert', 'update', ...
  kCast,        // args[0]::cast
  kNegate,      // -args[0]; `negated` false: unary plus
  kArithmetic,  // args[0] arith_op args[1]
  kCompare,     // args[0] compare_op args[1]
  kAnd,         // args...
  kOr,          // args...
  kNot,         // NOT args[0]
  kIn,          // args[0] [NOT] IN (args[1..])
  kBetween,     // args[0] [NOT] BETWEEN [SYMMETRIC] args[1] AND args[2]
  kNullTest,    // args[0] IS [NOT] NULL
  kBoolTest,    // args[0] IS [NOT] TRUE|FALSE|UNKNOWN
  kDistinct,    // args[0] IS [NOT] DISTINCT FROM args[1]
  kLike,        // args[0] [NOT] [I]LIKE args[1] [ESCAPE escape]
  kJsonGet,     // args[0] -> args[1], ->> when as_text
};

enum class BoolTestKind : unsigned char {
  kIsTrue,
  kIsNotTrue,
  kIsFalse,
  kIsNotFalse,
  kIsUnknown,
  kIsNotUnknown,
};

struct Node {
  NodeKind kind = NodeKind::kConstant;
  int position = 1;  // 1-based character position in the filter text
  std::vector<std::unique_ptr<Node>> args;
  Value constant;     // kConstant
  size_t column = 0;  // kColumn, kOldColumn: index into the filter's column names
  TypeSpec cast;      // kCast
  CompareOp compare_op = CompareOp::kEq;
  char arith_op = '+';
  bool negated = false;  // NOT IN, NOT BETWEEN, IS NOT NULL, IS NOT DISTINCT, NOT LIKE; kNegate
  bool symmetric = false;
  bool case_insensitive = false;
  bool as_text = false;
  BoolTestKind bool_test = BoolTestKind::kIsTrue;
  std::string escape = "\\";  // kLike; empty: none
  // kConstant holding an untyped literal: the literal converted to the
  // types it met so far (`created_at > '2024-01-01'` parses the timestamp
  // once). Evaluation is single-threaded per Filter.
  mutable std::deque<std::pair<Type, Value>> resolved;
};

// The compiled expression and the distinct column names it references.
struct CompiledFilter {
  std::unique_ptr<Node> root;
  std::vector<std::string> columns;
};

// Parses and checks `sql` (see Filter::Compile for the errors).
Result<CompiledFilter> CompileExpression(std::string_view sql);

// Where a referenced column is in the current relation.
struct ColumnSlot {
  int index = -1;  // in the relation's columns; -1: not in the table
  Type type = Type::kUnknown;
  uint32_t type_oid = 0;
};

// Evaluation of one node given the row (see filter.cc). Also used to fold
// constants at compile time, with no row.
class RowAccess {
 public:
  virtual ~RowAccess() = default;
  virtual Result<Value> Column(size_t column, bool old) const = 0;
  virtual Value ActionText() const = 0;
};

Result<Value> EvaluateNode(const Node& node, const RowAccess& row);

}  // namespace sluice::filter
