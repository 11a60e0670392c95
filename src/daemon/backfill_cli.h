// `sluice backfill ...`: a client of a running daemon's backfill API.
//
//   sluice backfill start  --sink S --table T [--sort-column C] [--start-position V]
//                          [--filter SQL]
//   sluice backfill list   --sink S
//   sluice backfill show|pause|resume|cancel --sink S --id ID
//
// The API address is --api, else the server.listen of -c sluice.yaml, else
// http://127.0.0.1:7376. The token is --token, else $SLUICE_TOKEN, else the
// first api_tokens entry of -c sluice.yaml.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::daemon {

struct BackfillCliOptions {
  std::string action;  // start, list, show, pause, resume, cancel
  std::string sink;
  std::string table;
  std::string sort_column;
  std::optional<std::string> start_position;
  std::string filter;
  int64_t id = 0;
  std::string api;          // base URL; empty: from the config or the default
  std::string token;        // empty: $SLUICE_TOKEN or the config's
  std::string config_path;  // empty: none
  bool json = false;        // print the API's JSON as it is
};

// Runs the command; prints the result on stdout and errors on stderr.
// Returns the process exit code (0 ok, 1 API or connection error, 2 usage).
int RunBackfillCli(const BackfillCliOptions& options);

}  // namespace sluice::daemon
