#include "daemon/sink_functions.h"

#include <memory>

#include "filter/filter.h"
#include "functions/function.h"

namespace sluice::daemon {
namespace {

config::ConfigError ErrorAt(const config::Where& where, std::string message) {
  return config::ConfigError{where.file, where.line, where.column, where.path, std::move(message)};
}

// Lua function errors read "function `x` failed: [string "x"]:3: ...": the
// line is the line within the function's code. Say where that code starts.
std::string FunctionError(const Status& status) {
  return status.message() +
         " (line 1 of the code is the line of `lua:`, or the line after it "
         "for a block scalar)";
}

struct LuaSteps {
  std::unique_ptr<functions::Function> filter;
  std::unique_ptr<functions::Function> routing;
  std::unique_ptr<functions::Function> transform;
};

Result<std::unique_ptr<functions::Function>> CompileNamed(const config::Config& config,
                                                          const std::string& name) {
  const config::FunctionConfig* f = config.FindFunction(name);
  if (f == nullptr) return Status::Permanent("unknown function \"" + name + "\"");
  return functions::Function::Compile(*f);
}

}  // namespace

bool FilterIsFunction(const config::SinkConfig& sink, const config::Config& config) {
  if (sink.filter.empty()) return false;
  const config::FunctionConfig* f = config.FindFunction(sink.filter);
  return f != nullptr && f->type == "filter";
}

Result<SinkProcessing> BuildSinkProcessing(const config::SinkConfig& sink,
                                           const config::Config& config) {
  SinkProcessing out;
  if (!sink.filter.empty() && !FilterIsFunction(sink, config)) {
    auto compiled = filter::Filter::Compile(sink.filter);
    if (!compiled.ok()) return compiled.status().WithContext("sink " + sink.name + " filter");
    std::shared_ptr<const filter::Filter> f = std::move(compiled).value();
    out.matches = [f](const source::Change& change) { return f->Matches(change); };
  }
  auto steps = std::make_shared<LuaSteps>();
  if (FilterIsFunction(sink, config)) {
    SLUICE_ASSIGN_OR_RETURN(steps->filter, CompileNamed(config, sink.filter));
  }
  if (!sink.routing.empty()) {
    SLUICE_ASSIGN_OR_RETURN(steps->routing, CompileNamed(config, sink.routing));
  }
  if (!sink.transform.empty()) {
    SLUICE_ASSIGN_OR_RETURN(steps->transform, CompileNamed(config, sink.transform));
  }
  if (steps->filter || steps->routing || steps->transform) {
    out.process = [steps](Message& m) -> Result<bool> {
      if (steps->filter) {
        SLUICE_ASSIGN_OR_RETURN(bool keep, steps->filter->Filter(m.json));
        if (!keep) return false;
      }
      if (steps->routing) {
        SLUICE_ASSIGN_OR_RETURN(functions::Route route, steps->routing->RouteMessage(m.json));
        if (route.keys.empty() && route.headers.empty()) {
          m.route = nullptr;
        } else {
          m.route = std::make_shared<const MessageRoute>(
              MessageRoute{std::move(route.keys), std::move(route.headers)});
        }
      }
      if (steps->transform) {
        SLUICE_ASSIGN_OR_RETURN(m.json, steps->transform->Transform(m.json));
      }
      return true;
    };
  }
  return out;
}

void ValidateFiltersAndFunctions(const config::Config& config, config::ConfigErrors& errors) {
  for (const config::FunctionConfig& f : config.functions) {
    if (f.lua.empty()) continue;  // already reported by the loader
    auto compiled = functions::Function::Compile(f);
    if (!compiled.ok()) errors.push_back(ErrorAt(f.lua_where, FunctionError(compiled.status())));
  }
  for (const config::SinkConfig& sink : config.sinks) {
    if (!sink.filter.empty() && !FilterIsFunction(sink, config)) {
      if (const config::FunctionConfig* f = config.FindFunction(sink.filter)) {
        errors.push_back(ErrorAt(sink.filter_where, "function \"" + f->name + "\" is a " + f->type +
                                                        " function; filter takes a SQL expression "
                                                        "or a function of type filter"));
        continue;
      }
      auto compiled = filter::Filter::Compile(sink.filter);
      if (!compiled.ok()) {
        errors.push_back(
            ErrorAt(sink.filter_where, "invalid SQL filter: " + compiled.status().message()));
      }
    }
    for (const config::InitialBackfillConfig& b : sink.initial_backfill) {
      if (b.filter.empty()) continue;
      auto compiled = filter::Filter::Compile(b.filter);
      if (!compiled.ok()) {
        errors.push_back(
            ErrorAt(b.filter_where, "invalid SQL filter: " + compiled.status().message()));
      }
    }
  }
}

}  // namespace sluice::daemon
