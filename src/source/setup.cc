#include "source/setup.h"

#include <chrono>
#include <thread>

#include "common/log.h"
#include "source/pg_connection.h"

namespace sluice::source {
namespace {

std::string QualifiedTable(const std::string& name) {
  auto dot = name.find('.');
  if (dot == std::string::npos) return QuoteIdentifier(name);
  return QuoteIdentifier(name.substr(0, dot)) + "." + QuoteIdentifier(name.substr(dot + 1));
}

Status EnsurePublication(PgConnection& conn, const config::DatabaseConfig& db) {
  const auto& pub = db.publication;
  auto rows = conn.Query("SELECT 1 FROM pg_publication WHERE pubname = $1", {pub.name});
  if (!rows.ok()) return rows.status();
  if (!rows->empty()) return Status::Ok();
  std::string sql = "CREATE PUBLICATION " + QuoteIdentifier(pub.name);
  if (pub.tables.empty()) {
    sql += " FOR ALL TABLES";
  } else {
    sql += " FOR TABLE ";
    for (size_t i = 0; i < pub.tables.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += QualifiedTable(pub.tables[i]);
    }
  }
  if (!pub.create_if_not_exists) {
    return Status::Fatal("publication \"" + pub.name + "\" does not exist on " + db.display +
                         " and publication.create_if_not_exists is false. Create it (" + sql +
                         ";) or set publication.create_if_not_exists: true");
  }
  Status st = conn.Exec(sql);
  if (!st.ok()) {
    return Status::Fatal("cannot create publication \"" + pub.name + "\" on " + db.display + ": " +
                         st.message() + ". Create it as a user that may (" + sql +
                         ";), then start Sluice again: that needs the CREATE privilege on the "
                         "database and, FOR ALL TABLES, a superuser or, FOR TABLE, ownership of "
                         "the tables");
  }
  log::Info("created publication", {{"database", db.name}, {"publication", pub.name}});
  return Status::Ok();
}

}  // namespace

Result<SlotState> PrepareSlot(const config::DatabaseConfig& db,
                              std::chrono::milliseconds busy_wait) {
  SLUICE_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(db.conninfo, db.display, false));
  SlotState state;
  state.server_version = conn->server_version();

  SLUICE_ASSIGN_OR_RETURN(auto wal, conn->Query("SHOW wal_level"));
  const std::string wal_level = wal.empty() ? "" : wal[0][0].value_or("");
  if (wal_level != "logical") {
    return Status::Fatal(
        "wal_level is \"" + wal_level + "\" on " + db.display +
        "; Sluice reads changes by logical replication, which needs wal_level = logical. "
        "Set it (ALTER SYSTEM SET wal_level = logical; as a superuser, or in "
        "postgresql.conf) and restart Postgres; on a managed service, turn on "
        "logical replication in its settings (e.g. rds.logical_replication = 1)");
  }

  SLUICE_ASSIGN_OR_RETURN(
      auto role, conn->Query("SELECT rolsuper OR rolreplication, current_user FROM pg_roles "
                             "WHERE rolname = current_user"));
  if (role.empty() || role[0][0].value_or("f") != "t") {
    const std::string user = role.empty() ? "<user>" : QuoteIdentifier(role[0][1].value_or(""));
    return Status::Fatal(
        "the database user lacks the REPLICATION attribute on " + db.display +
        ", and logical replication needs it. Grant it as a superuser: ALTER ROLE " + user +
        " WITH REPLICATION;");
  }

  // The publication first: a slot created before it would not see it.
  SLUICE_RETURN_IF_ERROR(EnsurePublication(*conn, db));

  const auto& slot = db.slot;
  const auto deadline = std::chrono::steady_clock::now() + busy_wait;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(
        auto rows,
        conn->Query("SELECT s.plugin, s.slot_type, d.datname = current_database(), s.active, "
                    "s.active_pid, s.confirmed_flush_lsn FROM pg_replication_slots s "
                    "LEFT JOIN pg_database d ON d.oid = s.datoid WHERE s.slot_name = $1",
                    {slot.name}));
    if (rows.empty()) {
      if (!slot.create_if_not_exists) {
        return Status::Fatal("replication slot \"" + slot.name + "\" does not exist on " +
                             db.display +
                             " and slot.create_if_not_exists is false. Create it (SELECT "
                             "pg_create_logical_replication_slot('" +
                             slot.name + "', 'pgoutput');) or set slot.create_if_not_exists: true");
      }
      auto created = conn->Query(
          "SELECT lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", {slot.name});
      if (!created.ok()) {
        return Status::Fatal("cannot create replication slot \"" + slot.name + "\" on " +
                             db.display + ": " + created.status().message());
      }
      state.created = true;
      state.confirmed_flush = ParseLsn(created->at(0)[0].value_or("0/0")).value_or(0);
      log::Info(
          "created replication slot",
          {{"database", db.name}, {"slot", slot.name}, {"lsn", FormatLsn(state.confirmed_flush)}});
      return state;
    }
    const Row& r = rows[0];
    if (r[1].value_or("") != "logical" || r[0].value_or("") != "pgoutput") {
      return Status::Fatal("replication slot \"" + slot.name + "\" on " + db.display +
                           " is not a logical pgoutput slot (plugin " + r[0].value_or("none") +
                           "); drop it or configure another slot name");
    }
    if (r[2].value_or("f") != "t") {
      return Status::Fatal("replication slot \"" + slot.name +
                           "\" belongs to another database "
                           "than " +
                           db.display);
    }
    if (r[3].value_or("f") == "t") {
      if (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      const std::string pid = r[4].value_or("?");
      return Status::Fatal(
          "replication slot \"" + slot.name + "\" on " + db.display +
          " is in use by another process (pid " + pid + ") and was not released within " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(busy_wait).count()) +
          " s. A slot serves one consumer at a time: stop the other consumer (SELECT "
          "pg_terminate_backend(" +
          pid + "); ends its session), or give this Sluice its own slot name");
    }
    state.confirmed_flush = ParseLsn(r[5].value_or("0/0")).value_or(0);
    return state;
  }
}

}  // namespace sluice::source
