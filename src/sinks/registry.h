// The list of sink types. Adding a sink means adding its folder and one line
// to registry.cc, nothing else in the core.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "config/node.h"
#include "sinks/sink.h"

namespace boost::asio {
class io_context;
}

namespace sluice {

class HttpClient;
class StreamRegistry;
namespace state {
class StateStore;
}

// What a sink may use when it is created. Owned by the daemon; outlives sinks.
struct SinkContext {
  const config::Config* config = nullptr;
  const config::SinkConfig* sink = nullptr;
  HttpClient* http = nullptr;  // shared libcurl client
  state::StateStore* store = nullptr;
  boost::asio::io_context* io = nullptr;  // the daemon's event loop
  StreamRegistry* streams = nullptr;      // pull queues served over HTTP
};

struct SinkFactory {
  std::string type;  // the YAML `destination.type`
  // Validates sink.destination (and references into config); appends errors.
  void (*validate)(const config::SinkConfig& sink, const config::Config& config,
                   config::ConfigErrors& errors);
  // Creates the sink from a validated config.
  Result<std::unique_ptr<Sink>> (*create)(const SinkContext& context);
};

const std::vector<SinkFactory>& SinkFactories();
const SinkFactory* FindSinkFactory(std::string_view type);
std::vector<std::string> SinkTypeNames();

}  // namespace sluice
