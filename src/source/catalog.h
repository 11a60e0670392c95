// What the source needs from the Postgres catalog that pgoutput does not
// send: how to map a type (enum, domain, array of a user type) and which
// columns form a table's primary key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "values/value_json.h"

namespace sluice::source {

class Catalog {
 public:
  virtual ~Catalog() = default;
  // The JSON mapping for `type_oid`; text for anything it cannot resolve.
  virtual Result<values::TypeRef> ResolveType(uint32_t type_oid) = 0;
  // Primary key column names in key order (without a primary key, those of
  // the replica identity index); empty when the table has neither
  // (or no longer exists).
  virtual Result<std::vector<std::string>> PrimaryKey(uint32_t relation_oid) = 0;
};

}  // namespace sluice::source
