#include "daemon/demo.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "common/log.h"
#include "config/config_loader.h"
#include "daemon/daemon.h"
#include "daemon/signals.h"
#include "testing/pg_cluster.h"

namespace sluice::daemon {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE public.orders (
  id bigserial PRIMARY KEY,
  customer text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  total numeric(10,2) NOT NULL,
  items jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now()
);
-- FULL: updates carry the old row, so messages show what changed.
ALTER TABLE public.orders REPLICA IDENTITY FULL;
)sql";

const char* kCustomers[] = {"ada", "grace", "linus", "barbara", "ken", "margaret"};
const char* kStatuses[] = {"paid", "shipped", "cancelled"};

}  // namespace

int RunDemo(int seconds) {
  log::SetFormat(log::Format::kText);
  std::fprintf(stderr, "sluice demo: starting a throwaway Postgres 15...\n");
  auto cluster = testing::PgCluster::Start();
  if (!cluster.ok()) {
    std::fprintf(stderr, "sluice demo: %s\n", cluster.status().message().c_str());
    return 1;
  }
  auto& pg = *cluster;
  if (Status st = pg->Exec(kSchema); !st.ok()) {
    std::fprintf(stderr, "sluice demo: %s\n", st.message().c_str());
    return 1;
  }
  char tmpl[] = "/tmp/sluice-demo-XXXXXX";
  const std::string data_dir = ::mkdtemp(tmpl) ? tmpl : "/tmp/sluice-demo";
  const std::string yaml = "data_dir: " + data_dir +
                           "\n"
                           "log_format: text\n"
                           "server: {listen: \"127.0.0.1:0\"}\n"
                           "databases:\n"
                           "  - name: demo\n"
                           "    url: " +
                           pg->Url() +
                           "\n"
                           "    slot: {name: sluice_demo, create_if_not_exists: true}\n"
                           "    publication: {name: sluice_demo, create_if_not_exists: true}\n"
                           "    status_interval_ms: 1000\n"
                           "sinks:\n"
                           "  - name: orders_to_terminal\n"
                           "    database: demo\n"
                           "    tables: [public.orders]\n"
                           "    destination: {type: stdout}\n";
  auto loaded = config::LoadConfigString(yaml, "demo.yaml", DefaultLoadOptions());
  if (!loaded.config) {
    std::fprintf(stderr, "sluice demo: %s\n", config::FormatErrors(loaded.errors).c_str());
    return 1;
  }
  auto daemon = Daemon::Create(*loaded.config);
  if (!daemon.ok()) {
    std::fprintf(stderr, "sluice demo: %s\n", daemon.status().message().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "sluice demo: Postgres on 127.0.0.1:%d, table public.orders; writing traffic. "
               "Messages follow on stdout. Press Ctrl-C to stop.\n",
               pg->port());

  std::atomic<bool> done{false};
  Daemon* d = daemon->get();
  SignalWatcher signals([&] {
    done = true;
    d->Stop();
  });
  std::thread writer([&] {
    std::mt19937 rng(42);
    int64_t next_id = 1;
    const auto end = seconds > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(seconds)
                                 : std::chrono::steady_clock::time_point::max();
    while (!done && std::chrono::steady_clock::now() < end) {
      const int pick = static_cast<int>(rng() % 10);
      std::string sql;
      if (pick < 5 || next_id < 3) {
        sql = "INSERT INTO orders(customer, total, items) VALUES ('" +
              std::string(kCustomers[rng() % 6]) + "', " + std::to_string(rng() % 20000 / 100.0) +
              ", '[{\"sku\": \"A-" + std::to_string(rng() % 100) +
              "\", \"qty\": " + std::to_string(1 + rng() % 3) + "}]')";
        ++next_id;
      } else if (pick < 9) {
        sql = "UPDATE orders SET status = '" + std::string(kStatuses[rng() % 3]) +
              "' WHERE id = " + std::to_string(1 + rng() % (next_id - 1));
      } else {
        sql = "DELETE FROM orders WHERE id = " + std::to_string(1 + rng() % (next_id - 1));
      }
      (void)pg->Exec(sql);
      for (int i = 0; i < 10 && !done; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(80));
      }
    }
    if (!done) {
      done = true;
      d->Stop();
    }
  });
  const int rc = d->Run();
  done = true;
  writer.join();
  daemon->reset();
  std::error_code ec;
  std::filesystem::remove_all(data_dir, ec);
  std::fprintf(stderr, "sluice demo: stopped; throwaway Postgres and data removed.\n");
  return rc;
}

}  // namespace sluice::daemon
