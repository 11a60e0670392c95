#include "sinks/stdout/factory.h"

#include <cstdio>

#include "config/fields.h"
#include "sinks/stdout/stdout_sink.h"

namespace sluice {
namespace {

void Validate(const config::SinkConfig& sink, const config::Config&, config::ConfigErrors& errors) {
  config::MapReader reader(sink.destination, errors);
  reader.String("type", true);
  reader.Finish();
}

Result<std::unique_ptr<Sink>> Create(const SinkContext&) {
  return std::unique_ptr<Sink>(std::make_unique<StreamSink>(stdout, false));
}

}  // namespace

SinkFactory StdoutSinkFactory() { return SinkFactory{"stdout", &Validate, &Create}; }

}  // namespace sluice
