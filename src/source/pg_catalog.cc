#include "source/pg_catalog.h"

#include "source/pg_connection.h"

namespace sluice::source {

PgCatalog::PgCatalog(std::string conninfo) : conninfo_(std::move(conninfo)) {}
PgCatalog::~PgCatalog() = default;

Status PgCatalog::Ensure() {
  if (conn_) return Status::Ok();
  auto conn = PgConnection::Connect(conninfo_, "catalog", false);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(conn).value();
  return Status::Ok();
}

Result<values::TypeRef> PgCatalog::ResolveType(uint32_t type_oid) { return Resolve(type_oid, 0); }

Result<values::TypeRef> PgCatalog::Resolve(uint32_t type_oid, int depth) {
  if (auto builtin = values::BuiltinType(type_oid)) return builtin;
  if (auto it = types_.find(type_oid); it != types_.end()) return it->second;
  if (depth > 8) return values::TextType();
  SLUICE_RETURN_IF_ERROR(Ensure());
  auto rows = conn_->Query(
      "SELECT typtype, typbasetype, typelem, typcategory, typdelim FROM pg_type WHERE oid = $1",
      {std::to_string(type_oid)});
  if (!rows.ok()) {
    if (rows.status().IsRetryable()) conn_.reset();
    return rows.status();
  }
  values::TypeRef type = values::TextType();
  if (!rows->empty()) {
    const Row& row = rows->front();
    const std::string typtype = row[0].value_or("");
    const uint32_t base = static_cast<uint32_t>(std::stoul(row[1].value_or("0")));
    const uint32_t elem = static_cast<uint32_t>(std::stoul(row[2].value_or("0")));
    const std::string category = row[3].value_or("");
    const std::string delim = row[4].value_or(",");
    if (typtype == "d" && base != 0) {
      SLUICE_ASSIGN_OR_RETURN(type, Resolve(base, depth + 1));
    } else if (category == "A" && elem != 0) {
      SLUICE_ASSIGN_OR_RETURN(values::TypeRef element, Resolve(elem, depth + 1));
      type = values::ArrayOf(element, delim.empty() ? ',' : delim[0]);
    }
  }
  types_[type_oid] = type;
  return type;
}

Result<std::vector<std::string>> PgCatalog::PrimaryKey(uint32_t relation_oid) {
  SLUICE_RETURN_IF_ERROR(Ensure());
  // The primary key; without one, the replica identity index. Key order.
  auto rows = conn_->Query(
      "SELECT i.indexrelid, a.attname FROM pg_index i "
      "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
      "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
      "WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident) "
      "ORDER BY i.indisprimary DESC, i.indexrelid, k.ord",
      {std::to_string(relation_oid)});
  if (!rows.ok()) {
    if (rows.status().IsRetryable()) conn_.reset();
    return rows.status();
  }
  std::vector<std::string> names;
  for (const Row& row : *rows) {
    if (row[0] != rows->front()[0]) break;
    names.push_back(row[1].value_or(""));
  }
  return names;
}

}  // namespace sluice::source
