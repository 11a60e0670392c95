// A throwaway Postgres 15 cluster for tests, benchmarks and the demo:
// initdb into a fresh temporary directory (as the `postgres` user when run as
// root, since Postgres refuses root), a free port on 127.0.0.1, its own
// socket directory, wal_level=logical. The destructor stops the server and
// removes every file, leaving nothing behind.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::testing {

struct PgClusterOptions {
  // Extra postgresql.conf settings, e.g. {"logical_decoding_work_mem", "64kB"}.
  std::map<std::string, std::string> settings;
  // Set wal_level (default logical); tests of the wal_level check use replica.
  std::string wal_level = "logical";
  // Directory of the server binaries.
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
};

class PgCluster {
 public:
  static Result<std::unique_ptr<PgCluster>> Start(PgClusterOptions options = {});
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // "host=127.0.0.1 port=N dbname=DB user=USER"
  std::string ConnInfo(const std::string& dbname = "postgres",
                       const std::string& user = "postgres") const;
  // "postgres://USER@127.0.0.1:N/DB"
  std::string Url(const std::string& dbname = "postgres", const std::string& user = "postgres",
                  const std::string& password = "") const;

  // Runs SQL (several statements allowed) as the superuser on `dbname`.
  Status Exec(const std::string& sql, const std::string& dbname = "postgres") const;
  // First column of the first row, nullopt for no row or NULL.
  Result<std::optional<std::string>> QueryValue(const std::string& sql,
                                                const std::string& dbname = "postgres") const;
  // All rows, each column as text ("" for NULL).
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql,
                                                      const std::string& dbname = "postgres") const;

  // Puts `lines` before the current pg_hba.conf rules (initdb's trust every
  // local connection) and reloads the server; returns once new connections
  // are authenticated by the new file. The first matching line wins, so
  // e.g. "host all app 127.0.0.1/32 scram-sha-256" makes `app` need its
  // password while every other user is still trusted.
  Status PrependHbaLines(const std::vector<std::string>& lines);

  // pg_ctl stop -m fast / start on the same port and data.
  Status Stop();
  Status Restart();
  bool running() const { return running_; }

 private:
  PgCluster() = default;
  Status RunAsOwner(const std::vector<std::string>& argv, std::string* output) const;
  Status StartServer();
  Status WriteHbaLines(const std::vector<std::string>& lines) const;

  PgClusterOptions options_;
  std::string root_;      // temp dir holding everything
  std::string data_dir_;  // root_/data
  std::string socket_dir_;
  std::string log_file_;
  int port_ = 0;
  bool running_ = false;
};

// A free TCP port on 127.0.0.1 (bound and released; small race window).
int FreePort();

}  // namespace sluice::testing
