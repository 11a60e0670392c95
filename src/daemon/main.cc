// sluice: stream Postgres changes to sinks. Subcommands:
//   sluice run -c sluice.yaml
//   sluice config check sluice.yaml
//   sluice demo [--seconds N]
//   sluice backfill start|list|show|pause|resume|cancel --sink S ...
//   sluice version
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "config/config_loader.h"
#include "daemon/backfill_cli.h"
#include "daemon/daemon.h"
#include "daemon/demo.h"
#include "daemon/signals.h"

namespace {

using sluice::daemon::DefaultLoadOptions;

void ApplyLogSettings(const sluice::config::Config& config) {
  sluice::log::Level level;
  if (sluice::log::ParseLevel(config.log_level, &level)) sluice::log::SetLevel(level);
  sluice::log::SetFormat(config.log_format == "text" ? sluice::log::Format::kText
                                                     : sluice::log::Format::kJson);
}

int CheckConfig(const std::string& path) {
  auto result = sluice::config::LoadConfigFile(path, DefaultLoadOptions());
  if (!result.config) {
    std::fprintf(stderr, "%s", sluice::config::FormatErrors(result.errors).c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", path.c_str(), result.errors.size(),
                 result.errors.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("%s: ok (%zu database%s, %zu sink%s)\n", path.c_str(),
              result.config->databases.size(), result.config->databases.size() == 1 ? "" : "s",
              result.config->sinks.size(), result.config->sinks.size() == 1 ? "" : "s");
  return 0;
}

int Run(const std::string& path) {
  auto result = sluice::config::LoadConfigFile(path, DefaultLoadOptions());
  if (!result.config) {
    std::fprintf(stderr, "%s", sluice::config::FormatErrors(result.errors).c_str());
    std::fprintf(stderr, "%s: %zu error%s; nothing was started\n", path.c_str(),
                 result.errors.size(), result.errors.size() == 1 ? "" : "s");
    return 2;
  }
  ApplyLogSettings(*result.config);
  auto daemon = sluice::daemon::Daemon::Create(std::move(*result.config));
  if (!daemon.ok()) {
    sluice::log::Error("cannot start", {{"error", daemon.status().message()}});
    std::fprintf(stderr, "sluice: %s\n", daemon.status().message().c_str());
    return 1;
  }
  sluice::daemon::Daemon* d = daemon->get();
  sluice::daemon::SignalWatcher signals([d] { d->Stop(); });
  return d->Run();
}

}  // namespace

int main(int argc, char** argv) {
  // First of all, for `run`: a SIGTERM that arrives while Sluice starts
  // (loading the config, connecting) waits for the signal watcher and becomes
  // an orderly shutdown instead of killing the process. (Other commands keep
  // the default: Ctrl-C stops them.)
  if (argc > 1 && std::string_view(argv[1]) == "run") sluice::daemon::BlockShutdownSignals();
  if (const char* env = std::getenv("SLUICE_LOG_LEVEL")) {
    sluice::log::Level level;
    if (sluice::log::ParseLevel(env, &level)) sluice::log::SetLevel(level);
  }
  CLI::App app{"Sluice: stream Postgres changes to webhooks, queues and streams"};
  app.require_subcommand(1);

  std::string run_config = "sluice.yaml";
  auto* run = app.add_subcommand("run", "Stream changes as the config says");
  run->add_option("-c,--config", run_config, "Path to sluice.yaml")->capture_default_str();

  auto* config = app.add_subcommand("config", "Work with config files");
  config->require_subcommand(1);
  std::string check_path;
  auto* check = config->add_subcommand("check", "Validate a config file and report every error");
  check->add_option("file", check_path, "Path to sluice.yaml")->required();

  int demo_seconds = 0;
  auto* demo = app.add_subcommand("demo", "Stream a throwaway local Postgres to the terminal");
  demo->add_option("--seconds", demo_seconds, "Stop after this many seconds (0: until Ctrl-C)");

  auto* version = app.add_subcommand("version", "Print the version");

  // --- backfill: a client of the running daemon's API ---
  sluice::daemon::BackfillCliOptions bf;
  auto* backfill = app.add_subcommand("backfill", "Start and manage backfills of a running Sluice");
  backfill->require_subcommand(1);
  auto common = [&bf](CLI::App* cmd) {
    cmd->add_option("--sink", bf.sink, "Sink name")->required();
    cmd->add_option(
        "--api", bf.api,
        "Sluice API base URL (default: server.listen of -c, else http://127.0.0.1:7376)");
    cmd->add_option("--token", bf.token, "API token (default: $SLUICE_TOKEN)");
    cmd->add_option("-c,--config", bf.config_path, "sluice.yaml, for the API address and token");
    cmd->add_flag("--json", bf.json, "Print the API's JSON answer");
  };
  auto* bf_start = backfill->add_subcommand("start", "Start a backfill of a table for a sink");
  common(bf_start);
  bf_start->add_option("--table", bf.table, "schema.table (or table, in public)")->required();
  bf_start->add_option("--sort-column", bf.sort_column,
                       "Read in this column's order (NOT NULL or in the key)");
  bf_start->add_option("--start-position", bf.start_position,
                       "Only rows with sort column >= this value");
  bf_start->add_option("--filter", bf.filter, "Only rows matching this SQL expression");
  auto* bf_list = backfill->add_subcommand("list", "List a sink's backfills with their progress");
  common(bf_list);
  for (auto [action, help] : {std::pair{"show", "Show a backfill's progress"},
                              std::pair{"pause", "Pause a running backfill"},
                              std::pair{"resume", "Resume a paused or failed backfill"},
                              std::pair{"cancel", "Cancel a backfill"}}) {
    auto* cmd = backfill->add_subcommand(action, help);
    common(cmd);
    cmd->add_option("--id", bf.id, "Backfill id")->required();
  }
  // --- end backfill ---

  CLI11_PARSE(app, argc, argv);
  if (*run) return Run(run_config);
  if (*check) return CheckConfig(check_path);
  if (*demo) return sluice::daemon::RunDemo(demo_seconds);
  if (*backfill) {  // backfill
    for (CLI::App* sub : backfill->get_subcommands()) bf.action = sub->get_name();
    return sluice::daemon::RunBackfillCli(bf);
  }
  if (*version) {
    std::printf("sluice 0.1.0\n");
    return 0;
  }
  return 0;
}
