// Catalog backed by a regular (non-replication) libpq connection. Lookups are
// cached; the connection is opened lazily and re-opened after a failure.
// Used only on the replication reader thread.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "source/catalog.h"

namespace sluice::source {

class PgConnection;

class PgCatalog : public Catalog {
 public:
  explicit PgCatalog(std::string conninfo);
  ~PgCatalog() override;

  Result<values::TypeRef> ResolveType(uint32_t type_oid) override;
  Result<std::vector<std::string>> PrimaryKey(uint32_t relation_oid) override;

 private:
  Status Ensure();
  Result<values::TypeRef> Resolve(uint32_t type_oid, int depth);

  std::string conninfo_;
  std::unique_ptr<PgConnection> conn_;
  std::unordered_map<uint32_t, values::TypeRef> types_;
};

}  // namespace sluice::source
