#include "filter/filter.h"

#include <algorithm>

#include "filter/expression.h"
#include "values/value_json.h"

namespace sluice::filter {
namespace {

using source::Change;
using source::ColumnValue;

// Built-in type OIDs the filter interprets.
Type TypeOfOid(uint32_t oid) {
  switch (oid) {
    case 16:
      return Type::kBool;
    case 20:
    case 26:  // oid: unsigned 32-bit, held as int8
      return Type::kInt8;
    case 21:
      return Type::kInt2;
    case 23:
      return Type::kInt4;
    case 1700:
      return Type::kNumeric;
    case 700:
      return Type::kFloat4;
    case 701:
      return Type::kFloat8;
    case 18:    // "char"
    case 19:    // name
    case 25:    // text
    case 1043:  // varchar
      return Type::kText;
    case 1042:
      return Type::kBpchar;
    case 1082:
      return Type::kDate;
    case 1114:
      return Type::kTimestamp;
    case 1184:
      return Type::kTimestampTz;
    case 2950:
      return Type::kUuid;
    case 114:
      return Type::kJson;
    case 3802:
      return Type::kJsonb;
    default:
      return Type::kOther;
  }
}

// The filter type of a column: built-in types by OID; other built-in types
// (interval, inet, arrays, ...) are not interpreted; enums, domains and
// extension types (citext) by the kind the source resolved them to.
Type ColumnType(const source::ColumnInfo& column) {
  const Type by_oid = TypeOfOid(column.type_oid);
  if (by_oid != Type::kOther || values::BuiltinType(column.type_oid) != nullptr) return by_oid;
  if (column.type == nullptr) return Type::kText;
  switch (column.type->kind) {
    case values::ValueKind::kText:
      return Type::kText;
    case values::ValueKind::kInteger:
      return Type::kInt8;
    case values::ValueKind::kFloat:
      return Type::kFloat8;
    case values::ValueKind::kNumeric:
      return Type::kNumeric;
    case values::ValueKind::kBool:
      return Type::kBool;
    case values::ValueKind::kJson:
      return Type::kJsonb;
    case values::ValueKind::kTimestampTz:
      return Type::kTimestampTz;
    case values::ValueKind::kTimestamp:
      return Type::kTimestamp;
    case values::ValueKind::kBytea:
    case values::ValueKind::kArray:
      return Type::kOther;
  }
  return Type::kOther;
}

bool SameValue(const ColumnValue& a, const ColumnValue& b) {
  return a.kind == b.kind && (a.kind != ColumnValue::Kind::kText || a.text == b.text);
}

}  // namespace

struct Filter::Binding {
  source::RelationRef relation;
  std::vector<ColumnSlot> slots;
};

namespace {

class ChangeRow : public RowAccess {
 public:
  ChangeRow(const Change& change, const std::vector<std::string>& names,
            const std::vector<ColumnSlot>& slots)
      : change_(change), names_(names), slots_(slots) {}

  Result<Value> Column(size_t column, bool old) const override {
    if (change_.relation == nullptr || column >= slots_.size()) return Value::Null();
    const ColumnSlot& slot = slots_[column];
    if (slot.index < 0) return Value::Null();
    const size_t i = static_cast<size_t>(slot.index);
    const ColumnValue* value = nullptr;
    if (old) {
      value = ChangedFrom(i);
    } else if (change_.action == Action::kDelete) {
      if (i < change_.old_values.size()) value = &change_.old_values[i];
    } else if (change_.action != Action::kTruncate && i < change_.new_values.size()) {
      value = source::ResolveNewValue(change_, i);
    }
    // NULL, unchanged TOAST that the old row does not supply, or absent.
    if (value == nullptr || value->kind != ColumnValue::Kind::kText) return Value::Null(slot.type);
    auto parsed = ParseValue(slot.type, value->text);
    if (!parsed.ok()) {
      return Status::Permanent("column \"" + names_[column] + "\": " + parsed.status().message());
    }
    parsed->type_oid = slot.type_oid;
    return std::move(parsed).value();
  }

  Value ActionText() const override { return Value::Text(Type::kText, ActionName(change_.action)); }

 private:
  // changes.col: the old value when this update changed the column, as the
  // renderer builds the `changes` object; nullptr otherwise.
  const ColumnValue* ChangedFrom(size_t i) const {
    if (change_.action != Action::kUpdate || !change_.has_old || change_.old_is_key_only) {
      return nullptr;
    }
    if (i >= change_.new_values.size() || i >= change_.old_values.size()) return nullptr;
    const ColumnValue& now = *source::ResolveNewValue(change_, i);
    const ColumnValue& before = change_.old_values[i];
    if (now.kind == ColumnValue::Kind::kUnchangedToast) return nullptr;
    if (SameValue(now, before)) return nullptr;
    return &before;
  }

  const Change& change_;
  const std::vector<std::string>& names_;
  const std::vector<ColumnSlot>& slots_;
};

}  // namespace

Filter::Filter(std::string text, std::unique_ptr<Node> root, std::vector<std::string> columns)
    : text_(std::move(text)), root_(std::move(root)), columns_(std::move(columns)) {}

Filter::~Filter() = default;

Result<std::unique_ptr<Filter>> Filter::Compile(std::string_view sql) {
  auto compiled = CompileExpression(sql);
  if (!compiled.ok()) return Status::Permanent("filter: " + compiled.status().message());
  return std::unique_ptr<Filter>(
      new Filter(std::string(sql), std::move(compiled->root), std::move(compiled->columns)));
}

const Filter::Binding& Filter::Bind(const source::RelationRef& relation) const {
  // Enough for sinks that cover a handful of tables; more only costs lookups.
  constexpr size_t kMaxBindings = 8;
  for (size_t b = 0; b < bindings_.size(); ++b) {
    if (bindings_[b]->relation == relation) {
      if (b > 0) std::rotate(bindings_.begin(), bindings_.begin() + b, bindings_.begin() + b + 1);
      return *bindings_.front();
    }
  }
  auto binding = std::make_unique<Binding>();
  binding->relation = relation;
  binding->slots.assign(columns_.size(), ColumnSlot{});
  if (relation != nullptr) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      for (size_t i = 0; i < relation->columns.size(); ++i) {
        const source::ColumnInfo& info = relation->columns[i];
        if (info.name != columns_[c]) continue;
        binding->slots[c].index = static_cast<int>(i);
        binding->slots[c].type = ColumnType(info);
        binding->slots[c].type_oid = info.type_oid;
        break;
      }
    }
  }
  if (bindings_.size() >= kMaxBindings) bindings_.pop_back();
  bindings_.insert(bindings_.begin(), std::move(binding));
  return *bindings_.front();
}

Result<std::optional<bool>> Filter::Evaluate(const source::Change& change) const {
  const Binding& binding = Bind(change.relation);
  ChangeRow row(change, columns_, binding.slots);
  auto value = EvaluateNode(*root_, row);
  if (!value.ok()) return Status::Permanent("filter: " + value.status().message());
  auto b = AsBoolean(*value, "the filter");
  if (!b.ok()) return Status::Permanent("filter: " + b.status().message());
  return *b;
}

Result<bool> Filter::Matches(const source::Change& change) const {
  SLUICE_ASSIGN_OR_RETURN(std::optional<bool> result, Evaluate(change));
  return result.value_or(false);
}

}  // namespace sluice::filter
