#include "sinks/http_pull/factory.h"

#include "config/fields.h"
#include "sinks/http_pull/http_pull_sink.h"
#include "sinks/http_pull/stream_registry.h"

namespace sluice {
namespace {

PullQueueOptions Read(const config::SinkConfig& sink, config::ConfigErrors& errors) {
  config::MapReader reader(sink.destination, errors);
  reader.String("type", true);
  PullQueueOptions o;
  if (auto v = reader.Millis("ack_wait_ms", false, 100, 12 * 3600 * 1000)) {
    o.ack_wait = *v;
  }
  if (auto v = reader.Int("max_ack_pending", false, 1, 1000000)) {
    o.max_ack_pending = static_cast<size_t>(*v);
  }
  if (auto v = reader.Int("max_waiting", false, 1, 100000)) o.max_waiting = static_cast<size_t>(*v);
  if (auto v = reader.Millis("flush_interval_ms", false, 0, 10000)) o.flush_interval = *v;
  reader.Finish();
  return o;
}

void Validate(const config::SinkConfig& sink, const config::Config&, config::ConfigErrors& errors) {
  Read(sink, errors);
}

Result<std::unique_ptr<Sink>> Create(const SinkContext& context) {
  if (context.store == nullptr || context.io == nullptr || context.streams == nullptr) {
    return Status::Fatal("sink " + context.sink->name + ": http_pull needs the state store");
  }
  config::ConfigErrors errors;
  PullQueueOptions options = Read(*context.sink, errors);
  auto queue =
      std::make_shared<PullQueue>(context.sink->name, *context.store, options, *context.io);
  Status st = queue->Load();
  if (!st.ok()) return st.WithContext("sink " + context.sink->name + ": loading its pull queue");
  context.streams->Add(queue);
  return std::unique_ptr<Sink>(std::make_unique<HttpPullSink>(std::move(queue)));
}

}  // namespace

SinkFactory HttpPullSinkFactory() { return SinkFactory{"http_pull", &Validate, &Create}; }

}  // namespace sluice
