// Turns SIGINT/SIGTERM into a callback on a dedicated thread (sigwait), so
// that shutdown code need not be async-signal-safe. A second signal exits
// at once. Construct before starting other threads: it blocks the signals
// for the whole process.
#pragma once

#include <functional>
#include <thread>

namespace sluice::daemon {

class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_signal);
  ~SignalWatcher();

 private:
  std::thread thread_;
};

// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread (and threads it
// starts later).
void BlockShutdownSignals();

}  // namespace sluice::daemon
