// A sink's `filter:`: a SQL boolean expression over the changed row, parsed
// by the Postgres grammar (libpg_query) and evaluated in-process with
// Postgres semantics (three-valued logic, Postgres' type resolution and
// comparison rules, C collation). See README.md for what is supported.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/change.h"

namespace sluice::filter {

struct Node;

class Filter {
 public:
  // Parses `sql` as the single expression of `SELECT <sql>`. A parse error or
  // an unsupported construct (FROM, subqueries, function calls, parameters,
  // unknown operators, casts to unsupported types, ...) is a permanent
  // error whose message names the construct and its 1-based character
  // position in `sql`, e.g. "filter: unsupported construct FuncCall `now()`
  // at position 12 (function calls are not supported)". Casts of literals
  // are evaluated here, so `'abc'::int` fails here too.
  static Result<std::unique_ptr<Filter>> Compile(std::string_view sql);

  ~Filter();
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  // True when the expression is TRUE for the change; FALSE and NULL give
  // false. A runtime error (a row value that does not convert in a cast,
  // an operator applied to types it does not take, ...) is a permanent
  // error: the caller fails that message.
  //
  // Not thread-safe: caches column lookups per relation and conversions of
  // untyped literals. One Filter per thread.
  Result<bool> Matches(const source::Change& change) const;

  // The three-valued result: true, false, or nullopt for SQL NULL.
  Result<std::optional<bool>> Evaluate(const source::Change& change) const;

  // The expression as given to Compile.
  const std::string& text() const { return text_; }

 private:
  struct Binding;
  Filter(std::string text, std::unique_ptr<Node> root, std::vector<std::string> columns);
  // The column slots (see expression.h) of `relation`, from the cache.
  const Binding& Bind(const source::RelationRef& relation) const;

  std::string text_;
  std::unique_ptr<Node> root_;
  std::vector<std::string> columns_;  // distinct column names the expression uses

  // Column lookups of the relations seen last (a sink may cover several
  // tables), most recent first. A binding holds its relation, so the
  // relation's address cannot be reused by another one while cached.
  mutable std::vector<std::unique_ptr<Binding>> bindings_;
};

}  // namespace sluice::filter
