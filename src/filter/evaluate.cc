// Evaluation of the compiled expression tree with SQL's three-valued logic.
#include <optional>

#include "filter/expression.h"
#include "filter/like.h"

namespace sluice::filter {
namespace {

using Tri = std::optional<bool>;

Status AtPosition(const Status& status, int position) {
  return Status::Permanent(status.message() + " (at position " + std::to_string(position) + ")");
}

Value BoolOrNull(Tri b) { return b.has_value() ? Value::Bool(*b) : Value::Null(Type::kBool); }

// Three-valued AND / OR / NOT.
Tri And3(Tri a, Tri b) {
  if (a == false || b == false) return false;
  if (!a.has_value() || !b.has_value()) return std::nullopt;
  return true;
}

Tri Or3(Tri a, Tri b) {
  if (a == true || b == true) return true;
  if (!a.has_value() || !b.has_value()) return std::nullopt;
  return false;
}

Tri Not3(Tri a) {
  if (!a.has_value()) return std::nullopt;
  return !*a;
}

// The value of `node`: constants are used in place, other nodes are
// evaluated into `storage`.
Result<const Value*> Operand(const Node& node, const RowAccess& row, Value& storage) {
  if (node.kind == NodeKind::kConstant) return &node.constant;
  SLUICE_ASSIGN_OR_RETURN(storage, EvaluateNode(node, row));
  return &storage;
}

// An untyped literal meeting a typed value takes that type (as Postgres
// does at parse time); the conversion is cached in the literal's node.
Result<const Value*> Typed(const Node& node, const Value* value, const Value& other,
                           std::string_view op) {
  if (node.kind != NodeKind::kConstant || value->type != Type::kUnknown || value->null ||
      other.null || other.type == Type::kUnknown) {
    return value;
  }
  for (const auto& [type, resolved] : node.resolved) {
    if (type == other.type) return &resolved;
  }
  auto resolved = ResolveLiteral(*value, other, op);
  if (!resolved.ok()) return AtPosition(resolved.status(), node.position);
  node.resolved.emplace_back(other.type, std::move(resolved).value());
  return &node.resolved.back().second;
}

// `a op b` for the operand nodes `na` and `nb` whose values are `a`, `b`.
Result<Tri> Compare(const Node& node, const Node& na, const Value* a, const Node& nb,
                    const Value* b, CompareOp op) {
  const char* op_name = CompareOpName(op);
  SLUICE_ASSIGN_OR_RETURN(a, Typed(na, a, *b, op_name));
  SLUICE_ASSIGN_OR_RETURN(b, Typed(nb, b, *a, op_name));
  auto r = CompareValues(*a, *b, op);
  if (!r.ok()) return AtPosition(r.status(), node.position);
  return *r;
}

Result<Tri> EvalBoolean(const Node& node, const RowAccess& row, std::string_view context) {
  Value storage;
  SLUICE_ASSIGN_OR_RETURN(const Value* v, Operand(node, row, storage));
  auto b = AsBoolean(*v, context);
  if (!b.ok()) return AtPosition(b.status(), node.position);
  return *b;
}

Result<Value> EvalBetween(const Node& node, const RowAccess& row) {
  const Node& nx = *node.args[0];
  const Node& nlo = *node.args[1];
  const Node& nhi = *node.args[2];
  Value sx, slo, shi;
  SLUICE_ASSIGN_OR_RETURN(const Value* x, Operand(nx, row, sx));
  SLUICE_ASSIGN_OR_RETURN(const Value* lo, Operand(nlo, row, slo));
  SLUICE_ASSIGN_OR_RETURN(const Value* hi, Operand(nhi, row, shi));
  // As Postgres rewrites it:
  //   x BETWEEN a AND b            -> x >= a AND x <= b
  //   x NOT BETWEEN a AND b        -> x < a OR x > b
  //   x BETWEEN SYMMETRIC a AND b  -> (x >= a AND x <= b) OR (x >= b AND x <= a)
  //   x NOT BETWEEN SYMMETRIC ...  -> (x < a OR x > b) AND (x < b OR x > a)
  auto inside = [&](const Node& na, const Value* a, const Node& nb, const Value* b) -> Result<Tri> {
    SLUICE_ASSIGN_OR_RETURN(Tri ge, Compare(node, nx, x, na, a, CompareOp::kGe));
    SLUICE_ASSIGN_OR_RETURN(Tri le, Compare(node, nx, x, nb, b, CompareOp::kLe));
    return And3(ge, le);
  };
  auto outside = [&](const Node& na, const Value* a, const Node& nb,
                     const Value* b) -> Result<Tri> {
    SLUICE_ASSIGN_OR_RETURN(Tri lt, Compare(node, nx, x, na, a, CompareOp::kLt));
    SLUICE_ASSIGN_OR_RETURN(Tri gt, Compare(node, nx, x, nb, b, CompareOp::kGt));
    return Or3(lt, gt);
  };
  Tri result;
  if (!node.negated) {
    SLUICE_ASSIGN_OR_RETURN(result, inside(nlo, lo, nhi, hi));
    if (node.symmetric) {
      SLUICE_ASSIGN_OR_RETURN(Tri swapped, inside(nhi, hi, nlo, lo));
      result = Or3(result, swapped);
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(result, outside(nlo, lo, nhi, hi));
    if (node.symmetric) {
      SLUICE_ASSIGN_OR_RETURN(Tri swapped, outside(nhi, hi, nlo, lo));
      result = And3(result, swapped);
    }
  }
  return BoolOrNull(result);
}

Result<Value> EvalLike(const Node& node, const RowAccess& row) {
  Value st, sp;
  SLUICE_ASSIGN_OR_RETURN(const Value* text, Operand(*node.args[0], row, st));
  SLUICE_ASSIGN_OR_RETURN(const Value* pattern, Operand(*node.args[1], row, sp));
  const char* op =
      node.case_insensitive ? (node.negated ? "!~~*" : "~~*") : (node.negated ? "!~~" : "~~");
  auto t = LikeOperand(*text, op);
  if (!t.ok()) return AtPosition(t.status(), node.position);
  auto p = LikeOperand(*pattern, op);
  if (!p.ok()) return AtPosition(p.status(), node.position);
  if (text->null || pattern->null) return Value::Null(Type::kBool);
  std::string_view pat = *p;
  // The pattern is text: character(n) loses its padding on the way.
  if (pattern->type == Type::kBpchar) {
    while (!pat.empty() && pat.back() == ' ') pat.remove_suffix(1);
  }
  auto m = LikeMatch(*t, pat, node.case_insensitive, node.escape);
  if (!m.ok()) return AtPosition(m.status(), node.position);
  return Value::Bool(*m != node.negated);
}

}  // namespace

Result<Value> EvaluateNode(const Node& node, const RowAccess& row) {
  switch (node.kind) {
    case NodeKind::kConstant:
      return node.constant;
    case NodeKind::kColumn:
      return row.Column(node.column, false);
    case NodeKind::kOldColumn:
      return row.Column(node.column, true);
    case NodeKind::kAction:
      return row.ActionText();
    case NodeKind::kCast: {
      Value storage;
      SLUICE_ASSIGN_OR_RETURN(const Value* v, Operand(*node.args[0], row, storage));
      auto r = Cast(*v, node.cast);
      if (!r.ok()) return AtPosition(r.status(), node.position);
      return std::move(r).value();
    }
    case NodeKind::kNegate: {
      Value storage;
      SLUICE_ASSIGN_OR_RETURN(const Value* v, Operand(*node.args[0], row, storage));
      if (!node.negated) {
        // Unary plus: numbers only.
        auto r = Arithmetic('+', Value::Int(Type::kInt2, 0), *v);
        if (!r.ok()) return AtPosition(r.status(), node.position);
        return *v;
      }
      auto r = Negate(*v);
      if (!r.ok()) return AtPosition(r.status(), node.position);
      return std::move(r).value();
    }
    case NodeKind::kArithmetic: {
      Value sa, sb;
      SLUICE_ASSIGN_OR_RETURN(const Value* a, Operand(*node.args[0], row, sa));
      SLUICE_ASSIGN_OR_RETURN(const Value* b, Operand(*node.args[1], row, sb));
      const std::string op(1, node.arith_op);
      SLUICE_ASSIGN_OR_RETURN(a, Typed(*node.args[0], a, *b, op));
      SLUICE_ASSIGN_OR_RETURN(b, Typed(*node.args[1], b, *a, op));
      auto r = Arithmetic(node.arith_op, *a, *b);
      if (!r.ok()) return AtPosition(r.status(), node.position);
      return std::move(r).value();
    }
    case NodeKind::kCompare: {
      Value sa, sb;
      SLUICE_ASSIGN_OR_RETURN(const Value* a, Operand(*node.args[0], row, sa));
      SLUICE_ASSIGN_OR_RETURN(const Value* b, Operand(*node.args[1], row, sb));
      SLUICE_ASSIGN_OR_RETURN(Tri c,
                              Compare(node, *node.args[0], a, *node.args[1], b, node.compare_op));
      return BoolOrNull(c);
    }
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      const bool is_and = node.kind == NodeKind::kAnd;
      bool saw_null = false;
      for (const auto& arg : node.args) {
        SLUICE_ASSIGN_OR_RETURN(Tri v, EvalBoolean(*arg, row, is_and ? "AND" : "OR"));
        if (!v.has_value()) {
          saw_null = true;
        } else if (*v != is_and) {
          return Value::Bool(!is_and);  // false for AND, true for OR: decided
        }
      }
      return saw_null ? Value::Null(Type::kBool) : Value::Bool(is_and);
    }
    case NodeKind::kNot: {
      SLUICE_ASSIGN_OR_RETURN(Tri v, EvalBoolean(*node.args[0], row, "NOT"));
      return BoolOrNull(Not3(v));
    }
    case NodeKind::kIn: {
      // x IN (a, b) is x = a OR x = b; NOT IN is x <> a AND x <> b.
      Value sx;
      SLUICE_ASSIGN_OR_RETURN(const Value* x, Operand(*node.args[0], row, sx));
      const CompareOp op = node.negated ? CompareOp::kNe : CompareOp::kEq;
      Tri result = node.negated;
      for (size_t i = 1; i < node.args.size(); ++i) {
        Value si;
        SLUICE_ASSIGN_OR_RETURN(const Value* item, Operand(*node.args[i], row, si));
        SLUICE_ASSIGN_OR_RETURN(Tri c, Compare(node, *node.args[0], x, *node.args[i], item, op));
        result = node.negated ? And3(result, c) : Or3(result, c);
        if (result.has_value() && *result != node.negated) break;
      }
      return BoolOrNull(result);
    }
    case NodeKind::kBetween:
      return EvalBetween(node, row);
    case NodeKind::kNullTest: {
      Value storage;
      SLUICE_ASSIGN_OR_RETURN(const Value* v, Operand(*node.args[0], row, storage));
      return Value::Bool(v->null != node.negated);
    }
    case NodeKind::kBoolTest: {
      SLUICE_ASSIGN_OR_RETURN(Tri b, EvalBoolean(*node.args[0], row, "IS TRUE/FALSE/UNKNOWN"));
      switch (node.bool_test) {
        case BoolTestKind::kIsTrue:
          return Value::Bool(b == true);
        case BoolTestKind::kIsNotTrue:
          return Value::Bool(b != true);
        case BoolTestKind::kIsFalse:
          return Value::Bool(b == false);
        case BoolTestKind::kIsNotFalse:
          return Value::Bool(b != false);
        case BoolTestKind::kIsUnknown:
          return Value::Bool(!b.has_value());
        case BoolTestKind::kIsNotUnknown:
          return Value::Bool(b.has_value());
      }
      return Value::Null(Type::kBool);
    }
    case NodeKind::kDistinct: {
      Value sa, sb;
      SLUICE_ASSIGN_OR_RETURN(const Value* a, Operand(*node.args[0], row, sa));
      SLUICE_ASSIGN_OR_RETURN(const Value* b, Operand(*node.args[1], row, sb));
      bool distinct;
      if (a->null || b->null) {
        distinct = a->null != b->null;
      } else {
        SLUICE_ASSIGN_OR_RETURN(Tri ne,
                                Compare(node, *node.args[0], a, *node.args[1], b, CompareOp::kNe));
        distinct = ne.value_or(false);
      }
      return Value::Bool(distinct != node.negated);
    }
    case NodeKind::kLike:
      return EvalLike(node, row);
    case NodeKind::kJsonGet: {
      Value sc, sk;
      SLUICE_ASSIGN_OR_RETURN(const Value* container, Operand(*node.args[0], row, sc));
      SLUICE_ASSIGN_OR_RETURN(const Value* key, Operand(*node.args[1], row, sk));
      auto r = JsonGet(*container, *key, node.as_text);
      if (!r.ok()) return AtPosition(r.status(), node.position);
      return std::move(r).value();
    }
  }
  return Status::Permanent("unknown filter node");
}

}  // namespace sluice::filter
