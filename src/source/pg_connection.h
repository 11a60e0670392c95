// A thin RAII wrapper over a libpq connection for plain SQL (catalog lookups,
// start-up checks). Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/text_rows.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace sluice::source {

// Rows of text values; nullopt is SQL NULL.
using Row = std::vector<std::optional<std::string>>;

class PgConnection {
 public:
  // Connects with `conninfo` (URL or key=value) plus session settings that
  // make text output predictable (DateStyle ISO, TimeZone UTC, ...). When
  // `replication` is true, opens a logical replication connection. Errors
  // name `display` (host:port/db, never a password) and say what to do.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                       const std::string& display,
                                                       bool replication);
  ~PgConnection();

  // Runs `sql` with text parameters (of the given type OIDs, when given;
  // else Postgres infers them); returns all rows. Errors that another try
  // can cure (connection lost, serialization failure, lock not available,
  // server shutting down) are retryable; the rest permanent.
  Result<std::vector<Row>> Query(const std::string& sql,
                                 const std::vector<std::string>& params = {},
                                 const std::vector<uint32_t>& param_types = {});
  // A query sent without waiting for its result, so that the caller can
  // work while Postgres runs it; ReceiveRows then appends its rows (in one
  // block, for large results) to `into`, whose column count must match.
  // Nothing else may run on the connection in between. Errors as Query.
  Status SendQuery(const std::string& sql, const std::vector<std::string>& params,
                   const std::vector<uint32_t>& param_types);
  Status ReceiveRows(TextRows& into);
  Status Exec(const std::string& sql);

  PGconn* raw() { return conn_; }
  int server_version() const;
  const std::string& display() const { return display_; }

 private:
  PgConnection(PGconn* conn, std::string display) : conn_(conn), display_(std::move(display)) {}
  // Runs `sql`; the result (the caller clears it) or the error, classified
  // as Query says.
  Result<PGresult*> Run(const std::string& sql, const std::vector<std::string>& params,
                        const std::vector<uint32_t>& param_types);
  // `res` (of the connection's last query) when it holds rows or a command's
  // success; else clears it and returns the error, classified.
  Result<PGresult*> Checked(PGresult* res);
  PGconn* conn_;
  std::string display_;
};

// Turns a libpq connection failure message into an actionable error.
Status DescribeConnectError(const std::string& libpq_message, const std::string& display,
                            bool replication);

// Quotes an identifier for SQL: "my ""table""".
std::string QuoteIdentifier(const std::string& name);

}  // namespace sluice::source
