// Lua 5.4 functions attached to sinks (DESIGN §5): filter, transform, route.
// The user-facing contract (arguments, return values, JSON mapping, limits,
// sandbox) is README.md in this folder.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace sluice::functions {

enum class Kind { kFilter, kTransform, kRoute };

// "filter", "transform", "route".
std::string_view KindName(Kind kind);
// The config's `type:`; a permanent error for anything else.
Result<Kind> ParseKind(std::string_view type);

// Bounds on one function. The instruction count and the wall clock are checked
// every 1000 Lua instructions (or every max_instructions, when smaller), so
// time spent inside one library call (a long string.rep, a pathological
// string.find pattern) is not interrupted.
struct Limits {
  uint64_t max_instructions = 10'000'000;   // per call
  size_t max_memory_bytes = 32 << 20;       // per function state
  std::chrono::milliseconds max_time{200};  // per call (wall clock)
};

// What a route function returned.
struct Route {
  // Every key the function returned except `headers`, e.g. path, topic, key,
  // subject, queue; numbers are converted to text. Sorted by key.
  std::vector<std::pair<std::string, std::string>> keys;
  // From a nested `headers` table, sorted by name.
  std::vector<std::pair<std::string, std::string>> headers;
};

// One compiled function with its own sandboxed Lua state.
//
// Not thread-safe: a Function is used from one thread at a time. Each call
// runs with fresh instruction and time budgets; memory is bounded per state.
// Errors are never thrown: a Lua error, an exceeded limit or a bad return value
// is an error Result naming the function, what happened and the Lua line:
// "function `slim` failed: [string \"slim\"]:3: attempt to index a nil value
// (field 'customer')". Error classes: the time limit is retryable (it depends
// on the machine's load); everything else is permanent (the same message fails
// the same way again). After any error the Function is usable for the next
// call; after a memory error its Lua state is recreated (globals a function
// kept are lost).
class Function {
 public:
  // Compiles `config.lua` in a fresh sandboxed state. Errors (unknown type,
  // syntax, a chunk that fails while loading) are permanent and name the
  // function and the Lua line.
  static Result<std::unique_ptr<Function>> Compile(const config::FunctionConfig& config,
                                                   Limits limits = {});
  ~Function();
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;

  // `message_json` is a whole message as Sluice renders it (DESIGN §2). Each
  // method requires the matching kind; calling another is an error.
  Result<bool> Filter(std::string_view message_json);            // kFilter
  Result<std::string> Transform(std::string_view message_json);  // kTransform: JSON text
  Result<Route> RouteMessage(std::string_view message_json);     // kRoute

  Kind kind() const;
  const std::string& name() const;
  // Bytes the Lua state holds now (0 while it is being recreated).
  size_t memory_bytes() const;

 private:
  struct Impl;
  explicit Function(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::functions
