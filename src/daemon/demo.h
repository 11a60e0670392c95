// `sluice demo`: a throwaway Postgres, a sample table with traffic, and
// Sluice streaming its changes to the terminal. Everything is local and
// removed on exit.
#pragma once

namespace sluice::daemon {

// Runs until Ctrl-C (or for `seconds` when > 0). Returns the exit code.
int RunDemo(int seconds);

}  // namespace sluice::daemon
