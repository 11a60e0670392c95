#include "source/pg_connection.h"

#include <libpq-fe.h>

#include <string_view>

namespace sluice::source {
namespace {

// Session settings that fix the text form of values (see values/value_json.h).
constexpr const char* kSessionOptions =
    "-c datestyle=ISO -c intervalstyle=postgres -c timezone=UTC -c extra_float_digits=3 "
    "-c client_encoding=UTF8";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// libpq's connection errors span lines ("...failed: Connection refused\n\tIs
// the server running...?"); one line reads better in a log and a terminal.
// Ends the text as a sentence so that the advice that follows reads well.
std::string OneSentence(const std::string& message) {
  auto ends_sentence = [](const std::string& s) {
    return !s.empty() && std::string_view(".?!:;,").find(s.back()) != std::string_view::npos;
  };
  std::string out;
  bool space = false;
  bool line_break = false;
  for (char c : message) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      line_break = line_break || c == '\n';
      continue;
    }
    // A line of its own is a sentence of its own.
    if (line_break && space && !ends_sentence(out)) out.push_back('.');
    if (space) out.push_back(' ');
    space = false;
    line_break = false;
    out.push_back(c);
  }
  if (!out.empty() && !ends_sentence(out)) out += '.';
  return out;
}

// Pointers to `strings`' text, for libpq's parameter arrays.
std::vector<const char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size());
  for (const auto& s : strings) out.push_back(s.c_str());
  return out;
}

}  // namespace

Status DescribeConnectError(const std::string& libpq_message, const std::string& display,
                            bool replication) {
  const std::string msg = OneSentence(libpq_message);
  auto has = [&](const char* needle) { return msg.find(needle) != std::string::npos; };
  if (has("password authentication failed") || has("no password supplied") || has("SCRAM") ||
      has("authentication failed")) {
    return Status::Fatal("cannot log in to " + display + ": the server refused the login: " + msg +
                         " Check the username and password in the database url (or the password "
                         "field, or PGPASSWORD), and that pg_hba.conf allows this user with this "
                         "authentication method");
  }
  if (has("must be superuser or replication role") ||
      has("permission denied to start WAL sender")) {
    return Status::Fatal("the database user lacks the REPLICATION attribute on " + display + ": " +
                         msg + " Grant it as a superuser: ALTER ROLE <user> WITH REPLICATION;");
  }
  if (has("no pg_hba.conf entry") && replication) {
    return Status::Fatal("Postgres at " + display +
                         " refuses replication connections from this host: " + msg +
                         " Add a pg_hba.conf line for the user (database name, not "
                         "'replication', for logical replication) and reload");
  }
  if (has("no pg_hba.conf entry")) {
    return Status::Fatal("Postgres at " + display + " refuses connections from this host: " + msg +
                         " Add a pg_hba.conf line for this user, database and address, and "
                         "reload Postgres (SELECT pg_reload_conf();)");
  }
  if (has("does not exist") && has("database")) {
    return Status::Fatal("database does not exist at " + display + ": " + msg +
                         " Check the database name in the url, or create the database");
  }
  if (has("does not exist") && has("role")) {
    return Status::Fatal("cannot log in to " + display + ": " + msg +
                         " Check the username in the database url, or create the role "
                         "(CREATE ROLE <user> LOGIN REPLICATION PASSWORD '...';)");
  }
  if (has("Connection refused") || has("could not connect") || has("could not translate host") ||
      has("timeout expired") || has("No route to host") || has("Name or service not known") ||
      has("Network is unreachable")) {
    return Status::Retryable("cannot reach Postgres at " + display + ": " + msg +
                             " Check the host and port in the database url and that the server "
                             "is running and accepts TCP connections from this host");
  }
  return Status::Retryable("cannot connect to " + display + ": " + msg);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                            const std::string& display,
                                                            bool replication) {
  std::vector<const char*> keys = {"dbname",          "options",    "application_name",
                                   "connect_timeout", "keepalives", "keepalives_idle"};
  std::vector<const char*> vals = {conninfo.c_str(), kSessionOptions, "sluice", "10", "1", "30"};
  if (replication) {
    keys.push_back("replication");
    vals.push_back("database");
  }
  keys.push_back(nullptr);
  vals.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), vals.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Retryable("out of memory connecting to " + display);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return DescribeConnectError(message, display, replication);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, display));
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

int PgConnection::server_version() const { return PQserverVersion(conn_); }

Result<PGresult*> PgConnection::Run(const std::string& sql, const std::vector<std::string>& params,
                                    const std::vector<uint32_t>& param_types) {
  const std::vector<const char*> values = CStrings(params);
  // Replication connections accept only the simple query protocol.
  return Checked(params.empty() ? PQexec(conn_, sql.c_str())
                                : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                               param_types.empty() ? nullptr : param_types.data(),
                                               values.data(), nullptr, nullptr, 0));
}

Result<PGresult*> PgConnection::Checked(PGresult* res) {
  const ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return res;
  std::string message = Trim(PQresultErrorMessage(res));
  if (message.empty()) message = Trim(PQerrorMessage(conn_));
  // Copied: the field points into `res`.
  const char* sqlstate_field = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const std::string sqlstate = sqlstate_field != nullptr ? sqlstate_field : "";
  const bool connection_lost = PQstatus(conn_) != CONNECTION_OK;
  PQclear(res);
  if (connection_lost || sqlstate.starts_with("08") || sqlstate.starts_with("40") ||
      sqlstate.starts_with("57") || sqlstate == "55P03") {
    return Status::Retryable("query on " + display_ + " failed: " + message);
  }
  return Status::Permanent("query on " + display_ + " failed: " + message);
}

Result<std::vector<Row>> PgConnection::Query(const std::string& sql,
                                             const std::vector<std::string>& params,
                                             const std::vector<uint32_t>& param_types) {
  SLUICE_ASSIGN_OR_RETURN(PGresult * res, Run(sql, params, param_types));
  std::vector<Row> rows;
  const int n = PQntuples(res);
  const int cols = PQnfields(res);
  rows.reserve(n);
  for (int r = 0; r < n; ++r) {
    Row row;
    row.reserve(cols);
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

Status PgConnection::SendQuery(const std::string& sql, const std::vector<std::string>& params,
                               const std::vector<uint32_t>& param_types) {
  const std::vector<const char*> values = CStrings(params);
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                        param_types.empty() ? nullptr : param_types.data(), values.data(), nullptr,
                        nullptr, 0) == 1) {
    return Status::Ok();
  }
  return Status::Retryable("query on " + display_ + " failed: " + Trim(PQerrorMessage(conn_)));
}

Status PgConnection::ReceiveRows(TextRows& into) {
  // The rows' result, then the null that ends the query (read to the end
  // even after an error, so that the connection is ready for the next one).
  PGresult* rows = nullptr;
  while (PGresult* res = PQgetResult(conn_)) {
    if (rows == nullptr) {
      rows = res;
    } else {
      PQclear(res);
    }
  }
  if (rows == nullptr) {
    return Status::Retryable("query on " + display_ + " failed: " + Trim(PQerrorMessage(conn_)));
  }
  SLUICE_ASSIGN_OR_RETURN(PGresult * res, Checked(rows));
  const int n = PQntuples(res);
  const int cols = PQnfields(res);
  if (static_cast<size_t>(cols) != into.columns()) {
    PQclear(res);
    return Status::Permanent("query on " + display_ + " returned " + std::to_string(cols) +
                             " columns instead of " + std::to_string(into.columns()));
  }
  size_t text_bytes = 0;
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < cols; ++c) text_bytes += static_cast<size_t>(PQgetlength(res, r, c));
  }
  into.Reserve(static_cast<size_t>(n), text_bytes);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res, r, c)) {
        into.AddValue(std::nullopt);
      } else {
        into.AddValue(
            std::string_view(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
      }
    }
  }
  PQclear(res);
  return Status::Ok();
}

Status PgConnection::Exec(const std::string& sql) {
  auto r = Query(sql);
  return r.ok() ? Status::Ok() : r.status();
}

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace sluice::source
