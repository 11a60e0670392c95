#include "testing/pg_cluster.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice::testing {
namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

Status PgCluster::RunAsOwner(const std::vector<std::string>& argv, std::string* output) const {
  std::string cmd;
  if (::geteuid() == 0) cmd = "runuser -u postgres -- ";
  for (const auto& a : argv) cmd += ShellQuote(a) + " ";
  cmd += "2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return Status::Fatal("cannot run " + argv[0]);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (output) *output = out;
  if (rc != 0) return Status::Fatal(argv[0] + " failed (" + std::to_string(rc) + "): " + out);
  return Status::Ok();
}

Result<std::unique_ptr<PgCluster>> PgCluster::Start(PgClusterOptions options) {
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->options_ = std::move(options);
  char tmpl[] = "/tmp/sluice-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Status::Fatal("mkdtemp failed");
  c->root_ = tmpl;
  c->data_dir_ = c->root_ + "/data";
  c->socket_dir_ = c->root_ + "/sock";
  c->log_file_ = c->root_ + "/postgres.log";
  std::filesystem::create_directories(c->socket_dir_);
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) return Status::Fatal("running as root needs a 'postgres' user for initdb");
    for (const auto& p : {c->root_, c->socket_dir_}) {
      if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return Status::Fatal("cannot chown " + p + " to postgres");
      }
    }
  }
  SLUICE_RETURN_IF_ERROR(
      c->RunAsOwner({c->options_.bin_dir + "/initdb", "-D", c->data_dir_, "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"},
                    nullptr));
  Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    c->port_ = FreePort();
    std::map<std::string, std::string> settings = {
        {"listen_addresses", "'127.0.0.1'"},
        {"port", std::to_string(c->port_)},
        {"unix_socket_directories", "'" + c->socket_dir_ + "'"},
        {"wal_level", c->options_.wal_level},
        {"max_replication_slots", "20"},
        {"max_wal_senders", "20"},
        {"fsync", "off"},
        {"full_page_writes", "off"},
        {"synchronous_commit", "on"},
        {"shared_buffers", "128MB"},
        {"max_connections", "100"},
    };
    for (const auto& [k, v] : c->options_.settings) settings[k] = v;
    {
      std::ofstream conf(c->data_dir_ + "/postgresql.auto.conf", std::ios::trunc);
      for (const auto& [k, v] : settings) conf << k << " = " << v << "\n";
    }
    started = c->StartServer();
    if (started.ok()) return c;
  }
  return started;
}

Status PgCluster::StartServer() {
  Status st = RunAsOwner(
      {options_.bin_dir + "/pg_ctl", "-D", data_dir_, "-l", log_file_, "-w", "-t", "60", "start"},
      nullptr);
  if (!st.ok()) {
    std::ifstream log(log_file_);
    std::string tail((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
    return Status::Fatal("postgres did not start: " + st.message() + "\n" + tail);
  }
  running_ = true;
  return Status::Ok();
}

Status PgCluster::WriteHbaLines(const std::vector<std::string>& lines) const {
  const std::string path = data_dir_ + "/pg_hba.conf";
  std::stringstream current;
  {
    std::ifstream in(path);
    if (!in) return Status::Fatal("cannot read " + path);
    current << in.rdbuf();
  }
  // Rewritten in place, so the file keeps its owner (postgres) when we are root.
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
  out << current.str();
  out.close();
  if (!out) return Status::Fatal("cannot write " + path);
  return Status::Ok();
}

Status PgCluster::PrependHbaLines(const std::vector<std::string>& lines) {
  SLUICE_ASSIGN_OR_RETURN(auto loaded_before, QueryValue("SELECT pg_conf_load_time()"));
  SLUICE_RETURN_IF_ERROR(WriteHbaLines(lines));
  SLUICE_RETURN_IF_ERROR(
      RunAsOwner({options_.bin_dir + "/pg_ctl", "-D", data_dir_, "reload"}, nullptr));
  // The postmaster rereads the files when it handles SIGHUP, and sets the
  // load time in the same step, before it forks another backend. So once a
  // new connection sees a new load time, it was authenticated by the new file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    SLUICE_ASSIGN_OR_RETURN(auto loaded, QueryValue("SELECT pg_conf_load_time()"));
    if (loaded != loaded_before) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Fatal("postgres did not reload pg_hba.conf within 30 s");
}

Status PgCluster::Stop() {
  if (!running_) return Status::Ok();
  Status st = RunAsOwner(
      {options_.bin_dir + "/pg_ctl", "-D", data_dir_, "-w", "-m", "fast", "stop"}, nullptr);
  running_ = false;
  return st;
}

Status PgCluster::Restart() {
  SLUICE_RETURN_IF_ERROR(Stop());
  return StartServer();
}

PgCluster::~PgCluster() {
  if (running_) {
    (void)RunAsOwner(
        {options_.bin_dir + "/pg_ctl", "-D", data_dir_, "-w", "-m", "immediate", "stop"}, nullptr);
  }
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
}

std::string PgCluster::ConnInfo(const std::string& dbname, const std::string& user) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname + " user=" + user;
}

std::string PgCluster::Url(const std::string& dbname, const std::string& user,
                           const std::string& password) const {
  std::string auth = user;
  if (!password.empty()) auth += ":" + password;
  return "postgres://" + auth + "@127.0.0.1:" + std::to_string(port_) + "/" + dbname;
}

Result<std::vector<std::vector<std::string>>> PgCluster::Query(const std::string& sql,
                                                               const std::string& dbname) const {
  PGconn* conn = PQconnectdb(ConnInfo(dbname).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::Retryable("connect: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  std::vector<std::vector<std::string>> rows;
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string err = PQresultErrorMessage(res);
    PQclear(res);
    PQfinish(conn);
    return Status::Permanent(err);
  }
  for (int r = 0; r < PQntuples(res); ++r) {
    std::vector<std::string> row;
    for (int col = 0; col < PQnfields(res); ++col) row.emplace_back(PQgetvalue(res, r, col));
    rows.push_back(std::move(row));
  }
  PQclear(res);
  PQfinish(conn);
  return rows;
}

Status PgCluster::Exec(const std::string& sql, const std::string& dbname) const {
  auto r = Query(sql, dbname);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<std::string>> PgCluster::QueryValue(const std::string& sql,
                                                         const std::string& dbname) const {
  PGconn* conn = PQconnectdb(ConnInfo(dbname).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::Retryable("connect: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(res);
    PQclear(res);
    PQfinish(conn);
    return Status::Permanent(err);
  }
  std::optional<std::string> value;
  if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) value = PQgetvalue(res, 0, 0);
  PQclear(res);
  PQfinish(conn);
  return value;
}

}  // namespace sluice::testing
