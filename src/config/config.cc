#include "config/config.h"

namespace sluice::config {
namespace {

template <typename T>
const T* FindByName(const std::vector<T>& entries, const std::string& name) {
  for (const T& entry : entries) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

}  // namespace

const DatabaseConfig* Config::FindDatabase(const std::string& name) const {
  return FindByName(databases, name);
}

const HttpEndpointConfig* Config::FindHttpEndpoint(const std::string& name) const {
  return FindByName(http_endpoints, name);
}

const FunctionConfig* Config::FindFunction(const std::string& name) const {
  return FindByName(functions, name);
}

}  // namespace sluice::config
