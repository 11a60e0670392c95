#include "harness.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config_loader.h"

namespace sluice::itest {

MessageCollector::~MessageCollector() {
  // The receiver's threads call into this object: stop them first (a
  // receiver declared before its collector outlives it).
  receiver_.Stop();
  receiver_.SetReplyFunction([](const testing::ReceivedRequest&) {
    return testing::HttpReply{200, "ok"};
  });
}

MessageCollector::MessageCollector(testing::HttpReceiver& receiver) : receiver_(receiver) {
  receiver.SetReplyFunction([this](const testing::ReceivedRequest& req) {
    std::lock_guard lock(mu_);
    if (failing_) {
      ++rejected_;
      return testing::HttpReply{fail_status_, "failing on purpose"};
    }
    json body = json::parse(req.body, nullptr, false);
    if (body.is_object() && body.contains("data") && body.size() == 1) {
      for (auto& m : body["data"]) messages_.push_back(m);
    } else {
      messages_.push_back(body);
    }
    cv_.notify_all();
    return testing::HttpReply{200, "ok"};
  });
}

void MessageCollector::SetFailing(bool failing, int status) {
  std::lock_guard lock(mu_);
  failing_ = failing;
  fail_status_ = status;
}

std::vector<json> MessageCollector::Messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

size_t MessageCollector::Count() const {
  std::lock_guard lock(mu_);
  return messages_.size();
}

uint64_t MessageCollector::rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

bool MessageCollector::WaitUntil(const std::function<bool(const std::vector<json>&)>& pred,
                                 std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(messages_); });
}

bool MessageCollector::WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
  return WaitUntil([n](const std::vector<json>& m) { return m.size() >= n; }, timeout);
}

testing::PgCluster& SharedCluster() {
  static std::unique_ptr<testing::PgCluster> cluster = [] {
    testing::PgClusterOptions options;
    // Small enough that the big-transaction tests exercise streaming.
    options.settings["logical_decoding_work_mem"] = "1MB";
    auto c = testing::PgCluster::Start(options);
    if (!c.ok()) {
      std::fprintf(stderr, "cannot start Postgres: %s\n", c.status().message().c_str());
      std::abort();
    }
    return std::move(c).value();
  }();
  return *cluster;
}

void CreateDatabase(const std::string& name) {
  Status st = SharedCluster().Exec("CREATE DATABASE " + name);
  if (!st.ok()) {
    std::fprintf(stderr, "CREATE DATABASE %s: %s\n", name.c_str(), st.message().c_str());
    std::abort();
  }
}

std::string ConfigYaml(const std::string& data_dir, const std::string& db_url,
                       const std::string& dbname, const std::vector<SinkSpec>& sinks,
                       const std::string& db_extra) {
  std::string y = "data_dir: " + data_dir + "\nlog_level: info\n";
  // A free port: tests run many instances.
  y += "server: {listen: \"127.0.0.1:0\"}\n";
  y += "databases:\n  - name: " + dbname + "\n    url: " + db_url + "\n";
  y += "    slot: {name: " + dbname + "_slot, create_if_not_exists: true}\n";
  y += "    publication: {name: " + dbname + "_pub, create_if_not_exists: true}\n";
  y += "    status_interval_ms: 500\n    reconnect_initial_ms: 100\n    reconnect_max_ms: 2000\n";
  y += db_extra;
  y += "sinks:\n";
  for (const SinkSpec& s : sinks) {
    y += "  - name: " + s.name + "\n    database: " + dbname + "\n";
    y += "    retry_initial_ms: 20\n    retry_max_ms: 500\n";
    y += s.extra;
    y += "    destination: {type: webhook, url: \"" + s.url + "\"" + s.destination_extra + "}\n";
  }
  return y;
}

config::Config LoadYaml(const std::string& yaml) {
  auto r = config::LoadConfigString(yaml, "test.yaml", daemon::DefaultLoadOptions());
  if (!r.config) {
    std::fprintf(stderr, "config errors:\n%s\n%s\n", config::FormatErrors(r.errors).c_str(),
                 yaml.c_str());
    std::abort();
  }
  return *r.config;
}

InProcessSluice::~InProcessSluice() { Stop(); }

Status InProcessSluice::Start(const config::Config& config) {
  auto d = daemon::Daemon::Create(config);
  if (!d.ok()) return d.status();
  daemon_ = std::move(d).value();
  thread_ = std::thread([this] { daemon_->Run(); });
  return Status::Ok();
}

void InProcessSluice::Stop() {
  if (daemon_) daemon_->Stop();
  if (thread_.joinable()) thread_.join();
  daemon_.reset();
}

SluiceProcess::SluiceProcess(std::string config_path, std::string log_path)
    : config_path_(std::move(config_path)), log_path_(std::move(log_path)) {}

SluiceProcess::~SluiceProcess() {
  if (pid_ > 0) {
    Kill9();
    Wait();
  }
}

Status SluiceProcess::Start() {
  pid_t pid = ::fork();
  if (pid < 0) return Status::Fatal("fork failed");
  if (pid == 0) {
    FILE* log = std::fopen(log_path_.c_str(), "a");
    if (log) {
      ::dup2(fileno(log), STDERR_FILENO);
      ::dup2(fileno(log), STDOUT_FILENO);
    }
    // Undo signal blocking inherited from the test process.
    sigset_t set;
    sigemptyset(&set);
    pthread_sigmask(SIG_SETMASK, &set, nullptr);
    ::execl(SLUICE_BINARY, SLUICE_BINARY, "run", "-c", config_path_.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  return Status::Ok();
}

bool SluiceProcess::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid_, &status, WNOHANG, &usage) == 0) return true;
  pid_ = -1;
  peak_rss_kb_ = usage.ru_maxrss;
  return false;
}

void SluiceProcess::Kill9() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

void SluiceProcess::Terminate() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
}

int SluiceProcess::Wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  struct rusage usage {};
  ::wait4(pid_, &status, 0, &usage);
  pid_ = -1;
  peak_rss_kb_ = usage.ru_maxrss;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

int RunSluice(const std::vector<std::string>& args, std::string* output) {
  std::string cmd = SLUICE_BINARY;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/sluice-" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  return buf.data();
}

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

bool WaitForSlotHeld(testing::PgCluster& cluster, const std::string& db, const std::string& slot,
                     std::chrono::milliseconds timeout) {
  return Eventually(
      [&] {
        auto v = cluster.QueryValue(
            "SELECT count(*) FROM pg_replication_slots WHERE active AND "
            "confirmed_flush_lsn IS NOT NULL AND slot_name = '" +
                slot + "'",
            db);
        return v.ok() && v->has_value() && **v == "1";
      },
      timeout);
}

}  // namespace sluice::itest
