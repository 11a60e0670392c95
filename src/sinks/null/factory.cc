#include "sinks/null/factory.h"

#include "config/fields.h"
#include "sinks/null/null_sink.h"

namespace sluice {
namespace {

void Validate(const config::SinkConfig& sink, const config::Config&, config::ConfigErrors& errors) {
  config::MapReader reader(sink.destination, errors);
  reader.String("type", true);
  reader.Finish();
}

Result<std::unique_ptr<Sink>> Create(const SinkContext&) {
  return std::unique_ptr<Sink>(std::make_unique<NullSink>());
}

}  // namespace

SinkFactory NullSinkFactory() { return SinkFactory{"null", &Validate, &Create}; }

}  // namespace sluice
