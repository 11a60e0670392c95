#include "sinks/registry.h"

#include "sinks/file/factory.h"
#include "sinks/http_pull/factory.h"
#include "sinks/null/factory.h"
#include "sinks/stdout/factory.h"
#include "sinks/webhook/factory.h"

namespace sluice {

const std::vector<SinkFactory>& SinkFactories() {
  static const std::vector<SinkFactory> kFactories = {
      WebhookSinkFactory(),  StdoutSinkFactory(), FileSinkFactory(),
      HttpPullSinkFactory(), NullSinkFactory(),
  };
  return kFactories;
}

const SinkFactory* FindSinkFactory(std::string_view type) {
  for (const SinkFactory& f : SinkFactories()) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

std::vector<std::string> SinkTypeNames() {
  std::vector<std::string> names;
  for (const SinkFactory& f : SinkFactories()) names.push_back(f.type);
  return names;
}

}  // namespace sluice
