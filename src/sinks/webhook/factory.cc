#include "sinks/webhook/factory.h"

#include <string_view>

#include "config/fields.h"

namespace sluice {
namespace {

constexpr int64_t kMinTimeoutMs = 100;
constexpr int64_t kMaxTimeoutMs = 300000;
constexpr int64_t kMaxConcurrency = 1024;

// Set by the sink on every request; a configured value would be overwritten
// or contradict the signature.
constexpr std::string_view kReservedHeaders[] = {"Idempotency-Key", kWebhookIdHeader,
                                                 kWebhookTimestampHeader, kWebhookSignatureHeader};

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

// RFC 9110 token characters, the only ones allowed in a header name.
bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Control characters (other than tab) would split or corrupt the header.
bool IsHeaderValue(std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

bool HasSpaceOrControl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// "" when `url` is an http(s) URL with a host, else what is wrong with it.
std::string CheckUrl(std::string_view url) {
  size_t host_begin = 0;
  if (StartsWithIgnoreCase(url, "http://")) {
    host_begin = 7;
  } else if (StartsWithIgnoreCase(url, "https://")) {
    host_begin = 8;
  } else {
    return "must start with http:// or https://";
  }
  if (host_begin == url.size() || std::string_view("/?#").find(url[host_begin]) != url.npos) {
    return "has no host";
  }
  if (HasSpaceOrControl(url)) return "contains spaces or control characters";
  return "";
}

// Checks one configured header; "" when fine.
std::string CheckHeader(const std::string& name, const std::string& value) {
  if (!IsHeaderName(name)) {
    return "header name \"" + name + "\" is not a valid HTTP header name";
  }
  for (std::string_view reserved : kReservedHeaders) {
    if (EqualsIgnoreCase(name, reserved)) {
      return "header \"" + name + "\" is set by the webhook sink and cannot be configured";
    }
  }
  if (!IsHeaderValue(value)) return "header \"" + name + "\" has a line break or control character";
  return "";
}

void MergeHeader(std::vector<std::pair<std::string, std::string>>& headers, const std::string& name,
                 const std::string& value) {
  for (auto& [existing_name, existing_value] : headers) {
    if (EqualsIgnoreCase(existing_name, name)) {
      existing_value = value;
      return;
    }
  }
  headers.emplace_back(name, value);
}

std::string DefinedEndpoints(const config::Config& config) {
  if (config.http_endpoints.empty()) return "no http_endpoints are defined";
  std::string out = "defined: ";
  for (size_t i = 0; i < config.http_endpoints.size(); ++i) {
    if (i > 0) out += ", ";
    out += config.http_endpoints[i].name;
  }
  return out;
}

bool Present(const config::Node& map, const char* key) {
  const config::Node* value = map.Find(key);
  return value != nullptr && !value->IsNull();
}

void Validate(const config::SinkConfig& sink, const config::Config& config,
              config::ConfigErrors& errors) {
  (void)ReadWebhookDestination(sink, config, errors);
}

Result<std::unique_ptr<Sink>> Create(const SinkContext& context) {
  if (context.config == nullptr || context.sink == nullptr) {
    return Status::Permanent("webhook sink created without its config");
  }
  config::ConfigErrors errors;
  std::optional<WebhookSinkOptions> options =
      ReadWebhookDestination(*context.sink, *context.config, errors);
  if (!options) {
    std::string message = "sink \"" + context.sink->name + "\": invalid webhook destination:";
    for (const config::ConfigError& error : errors) message += "\n  " + error.ToString();
    return Status::Permanent(std::move(message));
  }
  auto sink = WebhookSink::Create(std::move(*options), context.http);
  if (!sink.ok()) return sink.status().WithContext("sink \"" + context.sink->name + "\"");
  return std::unique_ptr<Sink>(std::move(sink).value());
}

}  // namespace

std::optional<WebhookSinkOptions> ReadWebhookDestination(const config::SinkConfig& sink,
                                                         const config::Config& config,
                                                         config::ConfigErrors& errors) {
  const size_t errors_before = errors.size();
  const config::Node& destination = sink.destination;
  config::MapReader reader(destination, errors);
  (void)reader.String("type");  // Checked by the loader; read so it counts as known.
  std::optional<std::string> endpoint_name = reader.String("http_endpoint");
  std::optional<std::string> url = reader.String("url");
  std::optional<std::string> path = reader.String("path");
  auto headers = reader.StringMap("headers");
  std::optional<int64_t> timeout_ms =
      reader.Int("timeout_ms", /*required=*/false, kMinTimeoutMs, kMaxTimeoutMs);
  std::optional<int64_t> concurrency = reader.Int("concurrency", false, 1, kMaxConcurrency);
  std::optional<bool> batch = reader.Bool("batch");
  std::optional<std::string> signing_secret = reader.String("signing_secret");
  reader.Finish();
  if (!destination.IsMap()) return std::nullopt;  // Reported by MapReader (or empty).

  WebhookSinkOptions options;
  std::string base_url;
  const bool has_endpoint = Present(destination, "http_endpoint");
  const bool has_url = Present(destination, "url");
  if (has_endpoint && has_url) {
    reader.Error(*destination.Find("url"),
                 "set either url or http_endpoint, not both (http_endpoint names an entry of "
                 "http_endpoints; url is a literal URL)");
  } else if (!has_endpoint && !has_url) {
    reader.Error(destination,
                 "a webhook destination needs url (an http:// or https:// URL) or http_endpoint "
                 "(the name of an entry of http_endpoints)");
  } else if (endpoint_name) {
    const config::Node& at = *destination.Find("http_endpoint");
    const config::HttpEndpointConfig* endpoint = config.FindHttpEndpoint(*endpoint_name);
    if (endpoint == nullptr) {
      reader.Error(at, "http_endpoint \"" + *endpoint_name +
                           "\" is not defined in http_endpoints (" + DefinedEndpoints(config) +
                           ")");
    } else {
      if (std::string problem = CheckUrl(endpoint->url); !problem.empty()) {
        reader.Error(at, "http_endpoint \"" + *endpoint_name + "\" has a url that " + problem);
      }
      for (const auto& [name, value] : endpoint->headers) {
        if (std::string problem = CheckHeader(name, value); !problem.empty()) {
          reader.Error(at, "http_endpoint \"" + *endpoint_name + "\": " + problem);
        }
        MergeHeader(options.headers, name, value);
      }
      base_url = endpoint->url;
    }
  } else if (url) {
    if (std::string problem = CheckUrl(*url); !problem.empty()) {
      reader.Error(*destination.Find("url"), "url " + problem);
    }
    base_url = *url;
  }

  options.url = base_url;
  options.base_url = base_url;
  if (path) {
    const config::Node& at = *destination.Find("path");
    if (path->empty() || (*path)[0] != '/') {
      reader.Error(at, "path must start with '/', got \"" + *path + "\"");
    } else if (HasSpaceOrControl(*path)) {
      reader.Error(at, "path contains spaces or control characters (percent-encode them)");
    } else if (base_url.find_first_of("?#") != std::string::npos) {
      reader.Error(at, "path cannot be appended to a URL with a query string or fragment");
    } else {
      if (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
      options.url += *path;
    }
  }

  if (headers) {
    const config::Node& at = *destination.Find("headers");
    for (const auto& [name, value] : *headers) {
      if (std::string problem = CheckHeader(name, value); !problem.empty()) {
        const config::Node* entry = at.Find(name);
        reader.Error(entry != nullptr ? *entry : at, problem);
      }
      MergeHeader(options.headers, name, value);
    }
  }

  if (timeout_ms) options.timeout = std::chrono::milliseconds(*timeout_ms);
  if (concurrency) options.concurrency = static_cast<int>(*concurrency);
  if (batch) options.batch = *batch;
  if (batch && !*batch && sink.batch_size != 1) {
    reader.Error(*destination.Find("batch"),
                 "batch: false sends one message per request, so the sink's batch_size must be 1 "
                 "(it is " +
                     std::to_string(sink.batch_size) +
                     "); remove batch_size or set batch: true to get {\"data\": [...]} bodies");
  }

  if (signing_secret) {
    auto signer = StandardWebhooksSigner::FromSecret(*signing_secret);
    if (!signer.ok()) {
      reader.Error(*destination.Find("signing_secret"), signer.status().message());
    }
    options.signing_secret = *signing_secret;
  }

  if (errors.size() != errors_before) return std::nullopt;
  return options;
}

SinkFactory WebhookSinkFactory() { return SinkFactory{"webhook", &Validate, &Create}; }

}  // namespace sluice
