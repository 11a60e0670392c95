// Problems a user can fix, found at start-up: each test runs the real sluice
// binary against a real Postgres (or against nothing) and checks that it
// exits non-zero with a message that names the problem and the fix.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace sluice::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPgRecvLogical = "/usr/lib/postgresql/15/bin/pg_recvlogical";

struct SluiceRun {
  int exit_code = -1;  // -signal when killed
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs the sluice binary with `args` and collects its output. Unlike
// RunSluice, a Sluice that starts when it should have failed cannot hang the
// test: it is killed after `timeout` and the run is marked timed_out.
SluiceRun RunSluiceWithin(const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout = 60s) {
  SluiceRun run;
  std::vector<std::string> argv_text = {SLUICE_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return run;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return run;
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    sigset_t set;
    sigemptyset(&set);
    pthread_sigmask(SIG_SETMASK, &set, nullptr);
    ::execv(SLUICE_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !run.timed_out) {
      run.timed_out = true;
      ::kill(pid, SIGKILL);  // the pipe then reaches EOF
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, run.timed_out ? 1000 : static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    run.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.exit_code = -WTERMSIG(status);
  return run;
}

// The line Sluice prints for a person when it cannot start ("sluice: ...");
// the same error is also logged as JSON, with its quotes escaped.
std::string StartError(const std::string& output) {
  const std::string prefix = "sluice: ";
  size_t at = output.rfind("\n" + prefix);
  if (at != std::string::npos) {
    ++at;
  } else if (output.starts_with(prefix)) {
    at = 0;
  } else {
    return "";
  }
  const size_t begin = at + prefix.size();
  const size_t end = output.find('\n', begin);
  return output.substr(begin, end == std::string::npos ? end : end - begin);
}

// A TCP port that listens but never accepts: tells whether anyone connected.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        ::listen(fd_, 16) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  // True when a connection is waiting in the backlog (the kernel completes
  // the handshake without accept()).
  bool SomeoneConnected() {
    const int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return false;
    ::close(conn);
    return true;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// pg_recvlogical streaming from a slot, as another consumer would.
class RecvLogical {
 public:
  ~RecvLogical() { Stop(); }
  Status Start(const std::string& conninfo, const std::string& slot, const std::string& publication,
               const std::string& log_path) {
    std::vector<std::string> argv_text = {kPgRecvLogical,
                                          "-d",
                                          conninfo,
                                          "-S",
                                          slot,
                                          "--start",
                                          "--no-loop",
                                          "-f",
                                          "/dev/null",
                                          "-o",
                                          "proto_version=1",
                                          "-o",
                                          "publication_names=" + publication};
    std::vector<char*> argv;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return Status::Fatal("fork failed");
    if (pid == 0) {
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        ::dup2(log, STDOUT_FILENO);
        ::dup2(log, STDERR_FILENO);
      }
      ::execv(kPgRecvLogical, argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    return Status::Ok();
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = Eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 10s);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class StartupErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    db_ = "startup_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    dir_ = TempDir("startup");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  testing::PgCluster& Cluster() { return SharedCluster(); }
  void Sql(const std::string& sql, const std::string& dbname) {
    Status st = Cluster().Exec(sql, dbname);
    ASSERT_TRUE(st.ok()) << st.message() << "\n" << sql;
  }
  std::optional<std::string> Value(const std::string& sql) {
    auto v = Cluster().QueryValue(sql, db_);
    EXPECT_TRUE(v.ok()) << v.status().message() << "\n" << sql;
    return v.ok() ? *v : std::nullopt;
  }
  bool SlotExists() {
    return Value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + Slot() + "'") ==
           "1";
  }
  std::string Slot() const { return db_ + "_slot"; }
  std::string Publication() const { return db_ + "_pub"; }

  // A config with one database and one file sink.
  std::string WriteConfig(const std::string& url, bool create_slot, bool create_publication,
                          const std::string& data_dir = "") {
    std::string y = "data_dir: " + (data_dir.empty() ? dir_ + "/data" : data_dir) + "\n";
    y += "databases:\n  - name: app\n    url: \"" + url + "\"\n";
    y += "    slot: {name: " + Slot() +
         ", create_if_not_exists: " + (create_slot ? "true" : "false") + "}\n";
    y += "    publication: {name: " + Publication() +
         ", create_if_not_exists: " + (create_publication ? "true" : "false") + "}\n";
    y += "sinks:\n  - name: out\n    destination: {type: file, path: " + dir_ + "/out.jsonl}\n";
    return WriteFile(dir_, "sluice.yaml", y);
  }

  // Runs `sluice run -c config`, which must fail at start-up; returns the
  // person-readable error line.
  std::string RunExpectingStartError(const std::string& config,
                                     std::chrono::milliseconds timeout = 60s) {
    SluiceRun run = RunSluiceWithin({"run", "-c", config}, timeout);
    EXPECT_FALSE(run.timed_out) << "sluice started although it should have failed:\n" << run.output;
    EXPECT_NE(run.exit_code, 0) << run.output;
    const std::string error = StartError(run.output);
    EXPECT_FALSE(error.empty()) << "no \"sluice: <error>\" line in:\n" << run.output;
    last_output_ = run.output;
    return error;
  }

  std::string db_;
  std::string last_output_;  // of the last RunExpectingStartError
  std::string dir_;
};

TEST_F(StartupErrorsTest, WalLevelReplicaNamesTheSettingAndTheRestart) {
  testing::PgClusterOptions options;
  options.wal_level = "replica";
  auto replica = testing::PgCluster::Start(options);
  ASSERT_TRUE(replica.ok()) << replica.status().message();
  const std::string error = RunExpectingStartError(WriteConfig((*replica)->Url(), true, true));
  EXPECT_THAT(error, HasSubstr("wal_level is \"replica\" on 127.0.0.1:" +
                               std::to_string((*replica)->port()) + "/postgres"));
  EXPECT_THAT(error, HasSubstr("ALTER SYSTEM SET wal_level = logical;"));
  EXPECT_THAT(error, HasSubstr("restart Postgres"));
}

TEST_F(StartupErrorsTest, MissingPublicationWithoutCreateSaysHowToCreateIt) {
  CreateDatabase(db_);
  const std::string error = RunExpectingStartError(WriteConfig(Cluster().Url(db_), true, false));
  EXPECT_THAT(error, HasSubstr("publication \"" + Publication() + "\" does not exist"));
  EXPECT_THAT(error, HasSubstr("CREATE PUBLICATION \"" + Publication() + "\" FOR ALL TABLES;"));
  EXPECT_THAT(error, HasSubstr("publication.create_if_not_exists: true"));
  // Checked before the slot is made: a failed start leaves nothing behind.
  EXPECT_FALSE(SlotExists());
}

TEST_F(StartupErrorsTest, MissingSlotWithoutCreateSaysHowToCreateIt) {
  CreateDatabase(db_);
  const std::string error = RunExpectingStartError(WriteConfig(Cluster().Url(db_), false, true));
  EXPECT_THAT(error, HasSubstr("replication slot \"" + Slot() + "\" does not exist"));
  EXPECT_THAT(
      error, HasSubstr("SELECT pg_create_logical_replication_slot('" + Slot() + "', 'pgoutput');"));
  EXPECT_THAT(error, HasSubstr("slot.create_if_not_exists: true"));
  EXPECT_FALSE(SlotExists());
}

TEST_F(StartupErrorsTest, SlotHeldByAnotherConsumerFailsAfterTheGracePeriod) {
  CreateDatabase(db_);
  ASSERT_NO_FATAL_FAILURE(Sql("CREATE PUBLICATION " + Publication() + " FOR ALL TABLES", db_));
  // Its own statement: a transaction that has written cannot create a slot.
  ASSERT_NO_FATAL_FAILURE(
      Sql("SELECT pg_create_logical_replication_slot('" + Slot() + "', 'pgoutput')", db_));
  RecvLogical consumer;
  ASSERT_TRUE(
      consumer.Start(Cluster().ConnInfo(db_), Slot(), Publication(), dir_ + "/recvlogical.log")
          .ok());
  const std::string active_pid_sql =
      "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + Slot() + "' AND active";
  std::optional<std::string> holder;
  ASSERT_TRUE(Eventually(
      [&] {
        holder = Value(active_pid_sql);
        return holder.has_value();
      },
      30s))
      << "pg_recvlogical did not take the slot";

  const std::string error = RunExpectingStartError(WriteConfig(Cluster().Url(db_), true, true));
  EXPECT_THAT(error, HasSubstr("replication slot \"" + Slot() + "\""));
  EXPECT_THAT(error, HasSubstr("is in use by another process (pid " + *holder + ")"));
  EXPECT_THAT(error, HasSubstr("not released within 10 s"));
  EXPECT_THAT(error, HasSubstr("stop the other consumer"));
  EXPECT_THAT(error, HasSubstr("its own slot name"));
  // Sluice gave up without taking the slot from its owner.
  EXPECT_EQ(Value(active_pid_sql), holder);
}

TEST_F(StartupErrorsTest, UserWithoutReplicationIsToldToAlterRole) {
  CreateDatabase(db_);
  const std::string user = "norepl_" + std::to_string(::getpid());
  ASSERT_NO_FATAL_FAILURE(Sql("CREATE ROLE " + user + " LOGIN", "postgres"));
  const std::string error =
      RunExpectingStartError(WriteConfig(Cluster().Url(db_, user), true, true));
  EXPECT_THAT(error, HasSubstr("lacks the REPLICATION attribute"));
  EXPECT_THAT(error, HasSubstr("ALTER ROLE \"" + user + "\" WITH REPLICATION;"));
  EXPECT_FALSE(SlotExists());
  ASSERT_NO_FATAL_FAILURE(Sql("DROP ROLE " + user, "postgres"));
}

TEST_F(StartupErrorsTest, WrongPasswordSaysTheLoginFailedAndToCheckThePassword) {
  CreateDatabase(db_);
  const std::string user = "pwuser";
  ASSERT_TRUE(Cluster().PrependHbaLines({"host all " + user + " 127.0.0.1/32 scram-sha-256"}).ok());
  ASSERT_NO_FATAL_FAILURE(
      Sql("CREATE ROLE " + user + " LOGIN REPLICATION PASSWORD 'right-password'", "postgres"));

  const std::string error =
      RunExpectingStartError(WriteConfig(Cluster().Url(db_, user, "wrong-password"), true, true));
  EXPECT_THAT(error, HasSubstr("cannot log in to 127.0.0.1:" + std::to_string(Cluster().port()) +
                               "/" + db_));
  EXPECT_THAT(error, HasSubstr("password authentication failed for user \"" + user + "\""));
  EXPECT_THAT(error, HasSubstr("Check the username and password"));
  EXPECT_THAT(last_output_, Not(HasSubstr("wrong-password"))) << "the password leaked";

  // The control: with the right password the login passes, and the start
  // fails later, at the missing publication.
  const std::string later =
      RunExpectingStartError(WriteConfig(Cluster().Url(db_, user, "right-password"), true, false));
  EXPECT_THAT(later, HasSubstr("publication \"" + Publication() + "\" does not exist"));
}

TEST_F(StartupErrorsTest, PublicationThatTheUserMayNotCreateSaysWhoMay) {
  CreateDatabase(db_);
  const std::string user = "repl_" + std::to_string(::getpid());
  ASSERT_NO_FATAL_FAILURE(Sql("CREATE ROLE " + user + " LOGIN REPLICATION", "postgres"));
  const std::string error =
      RunExpectingStartError(WriteConfig(Cluster().Url(db_, user), true, true));
  EXPECT_THAT(error, HasSubstr("cannot create publication \"" + Publication() + "\""));
  EXPECT_THAT(error, HasSubstr("permission denied for database " + db_));
  EXPECT_THAT(error, HasSubstr("needs the CREATE privilege on the database"));
  EXPECT_THAT(error, HasSubstr("CREATE PUBLICATION \"" + Publication() + "\" FOR ALL TABLES;"));
  EXPECT_FALSE(SlotExists());
  ASSERT_NO_FATAL_FAILURE(Sql("DROP ROLE " + user, "postgres"));
}

TEST_F(StartupErrorsTest, UnreachableHostSaysCheckHostAndPort) {
  const int port = testing::FreePort();
  ASSERT_NE(port, 0);
  const std::string url = "postgres://postgres@127.0.0.1:" + std::to_string(port) + "/app";
  const std::string error = RunExpectingStartError(WriteConfig(url, true, true));
  EXPECT_THAT(error,
              HasSubstr("cannot reach Postgres at 127.0.0.1:" + std::to_string(port) + "/app"));
  EXPECT_THAT(error, HasSubstr("Connection refused"));
  EXPECT_THAT(error, HasSubstr("Check the host and port"));
}

TEST_F(StartupErrorsTest, DataDirUnderARegularFileIsAnErrorBeforeAnyConnection) {
  SilentListener postgres;
  ASSERT_NE(postgres.port(), 0);
  const std::string file = WriteFile(dir_, "not-a-dir", "x");
  const std::string url =
      "postgres://postgres@127.0.0.1:" + std::to_string(postgres.port()) + "/app";
  const std::string error = RunExpectingStartError(WriteConfig(url, true, true, file + "/data"),
                                                   /*timeout=*/20s);
  EXPECT_THAT(error, HasSubstr("data_dir " + file + "/data"));
  EXPECT_THAT(error, HasSubstr("Not a directory"));
  EXPECT_FALSE(postgres.SomeoneConnected());
}

// Line numbers matter below: each mistake is on a known line.
constexpr const char* kBadConfig = R"(data_dir: /tmp/never-created
databases:
  - name: app
    url: "postgres://postgres@127.0.0.1:PORT/app"
    publication: {name: pub, create_if_not_exists: true}
http_endpoints:
  - name: billing
    url: https://billing.example.com
sinks:
  - name: orders
    database: app
    batch_size: ten
    colour: blue
    destination: {type: webhook, http_endpoint: biling}
  - name: audit
    destination: {type: carrier_pigeon}
)";

TEST_F(StartupErrorsTest, ConfigCheckReportsEveryErrorWithItsPosition) {
  const std::string path = WriteFile(dir_, "bad.yaml", kBadConfig);
  SluiceRun run = RunSluiceWithin({"config", "check", path});
  EXPECT_FALSE(run.timed_out);
  EXPECT_NE(run.exit_code, 0) << run.output;
  // Missing required key: at the database entry.
  EXPECT_THAT(run.output, HasSubstr(path + ":3:5: databases[0]: missing required key \"slot\""));
  // Wrong type.
  EXPECT_THAT(run.output,
              HasSubstr(path + ":12:17: sinks[0].batch_size: expected an integer between 1 and "
                               "10000, got \"ten\""));
  // Unknown key, with the keys that are allowed.
  EXPECT_THAT(run.output, HasSubstr(path + ":13:5: sinks[0].colour: unknown key; allowed: "));
  // A reference to an http_endpoint that is not defined.
  EXPECT_THAT(run.output,
              HasSubstr(path + ":14:49: sinks[0].destination.http_endpoint: http_endpoint "
                               "\"biling\" is not defined in http_endpoints (defined: billing)"));
  // An unknown sink type, with the known ones.
  EXPECT_THAT(run.output,
              HasSubstr(path + ":16:25: sinks[1].destination.type: unknown destination type "
                               "\"carrier_pigeon\"; allowed: "));
  EXPECT_THAT(run.output, HasSubstr("webhook"));
  EXPECT_THAT(run.output, HasSubstr(path + ": 5 errors"));
}

TEST_F(StartupErrorsTest, RunWithABadConfigFailsWithoutTouchingAnyServer) {
  SilentListener postgres;
  ASSERT_NE(postgres.port(), 0);
  std::string yaml = kBadConfig;
  yaml.replace(yaml.find("PORT"), 4, std::to_string(postgres.port()));
  const std::string data_dir = dir_ + "/data";
  yaml.replace(yaml.find("/tmp/never-created"), 18, data_dir);
  const std::string path = WriteFile(dir_, "bad.yaml", yaml);
  SluiceRun run = RunSluiceWithin({"run", "-c", path}, 20s);
  EXPECT_FALSE(run.timed_out);
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(path + ":13:5: sinks[0].colour: unknown key"));
  EXPECT_THAT(run.output, HasSubstr("carrier_pigeon"));
  EXPECT_FALSE(postgres.SomeoneConnected()) << "sluice connected to the database";
  EXPECT_FALSE(std::filesystem::exists(data_dir)) << "sluice created its data_dir";
}

TEST_F(StartupErrorsTest, ConfigCheckAcceptsAGoodFile) {
  const std::string path = WriteFile(dir_, "good.yaml", R"(data_dir: ./sluice-data
databases:
  - name: app
    url: postgres://sluice@127.0.0.1:5432/app
    slot: {name: sluice_slot, create_if_not_exists: true}
    publication: {name: sluice_pub, create_if_not_exists: true}
http_endpoints:
  - name: billing
    url: https://billing.example.com
sinks:
  - name: orders
    batch_size: 10
    destination: {type: webhook, http_endpoint: billing, path: /orders}
)");
  SluiceRun run = RunSluiceWithin({"config", "check", path});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(path + ": ok (1 database, 1 sink)"));
}

TEST_F(StartupErrorsTest, MissingConfigFileIsAClearError) {
  const std::string path = dir_ + "/no-such.yaml";
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"config", "check", path}, {"run", "-c", path}}) {
    SluiceRun run = RunSluiceWithin(args, 20s);
    EXPECT_FALSE(run.timed_out);
    EXPECT_NE(run.exit_code, 0) << args[0] << ": " << run.output;
    EXPECT_THAT(run.output,
                HasSubstr(path + ": cannot read the config file: No such file or directory"))
        << args[0];
  }
}

}  // namespace
}  // namespace sluice::itest
