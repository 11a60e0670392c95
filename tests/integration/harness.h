// Shared pieces of the integration tests: a throwaway database per test on a
// shared Postgres cluster, a webhook receiver that collects delivered
// messages, Sluice in-process or as a child process, and polling helpers that
// wait for a condition with a deadline (never a bare sleep).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "testing/http_receiver.h"
#include "testing/pg_cluster.h"

namespace sluice::itest {

using nlohmann::json;
using namespace std::chrono_literals;

// Messages accepted by a webhook receiver (answered 2xx), in arrival order.
// Bodies are single messages or {"data": [...]} batches.
class MessageCollector {
 public:
  explicit MessageCollector(testing::HttpReceiver& receiver);
  // Stops the receiver, whose threads call into the collector.
  ~MessageCollector();
  // While failing, every request is answered `status` and nothing is kept.
  void SetFailing(bool failing, int status = 500);
  std::vector<json> Messages() const;
  size_t Count() const;
  // Waits until `pred(messages)` holds; false on timeout.
  bool WaitUntil(const std::function<bool(const std::vector<json>&)>& pred,
                 std::chrono::milliseconds timeout) const;
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) const;
  uint64_t rejected() const;

 private:
  testing::HttpReceiver& receiver_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<json> messages_;
  bool failing_ = false;
  int fail_status_ = 500;
  uint64_t rejected_ = 0;
};

// The shared cluster for a test binary (started on first use, removed at exit).
testing::PgCluster& SharedCluster();
// Creates a fresh database named `name` on the shared cluster.
void CreateDatabase(const std::string& name);

// A config for one database and one webhook sink, as YAML.
struct SinkSpec {
  std::string name = "hook";
  std::string url;
  std::string extra;              // more YAML lines for the sink, indented by 4 spaces
  std::string destination_extra;  // e.g. ", batch: false"
};
std::string ConfigYaml(const std::string& data_dir, const std::string& db_url,
                       const std::string& dbname, const std::vector<SinkSpec>& sinks,
                       const std::string& db_extra = "");

// Loads YAML with the daemon's options; fails the test on config errors.
config::Config LoadYaml(const std::string& yaml);

// Sluice running in this process on a thread.
class InProcessSluice {
 public:
  ~InProcessSluice();
  Status Start(const config::Config& config);
  void Stop();

 private:
  std::unique_ptr<daemon::Daemon> daemon_;
  std::thread thread_;
};

// The sluice binary as a child process.
class SluiceProcess {
 public:
  SluiceProcess(std::string config_path, std::string log_path);
  ~SluiceProcess();
  Status Start();
  void Kill9();
  void Terminate();
  // Waits for exit; returns the exit status (or -signal).
  int Wait();
  bool running() const { return pid_ > 0; }
  // True while the child has not exited (reaps it if it has).
  bool Alive();
  // Peak resident set of the last exited run, in KiB (from wait4).
  long peak_rss_kb() const { return peak_rss_kb_; }

 private:
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  long peak_rss_kb_ = 0;
};

// Runs `sluice` with args, returns exit code and combined output.
int RunSluice(const std::vector<std::string>& args, std::string* output);

std::string TempDir(const std::string& prefix);
std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text);

// Polls `pred` every 20 ms until true or timeout.
bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// Waits until a walsender holds `slot` (on `cluster`, database `db`) after
// its creation: every change committed from then on is in its stream. A slot
// is also active while CREATE_REPLICATION_SLOT runs, before its consistent
// point and before the daemon serves its API; a slot being created has no
// confirmed_flush_lsn yet.
bool WaitForSlotHeld(testing::PgCluster& cluster, const std::string& db, const std::string& slot,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace sluice::itest
