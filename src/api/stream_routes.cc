#include "api/stream_routes.h"

#include <nlohmann/json.hpp>

#include "api/json_error.h"
#include "common/json_writer.h"

namespace sluice::api {
namespace {

using nlohmann::json;

constexpr int64_t kMaxBatch = 1000;
constexpr int64_t kMaxWaitMs = 300000;
constexpr int64_t kMaxDelayMs = 12 * 3600 * 1000;

// Reads an optional integer field; a present value of the wrong type or out
// of range is an error response.
std::optional<Response> ReadInt(const json& body, const char* key, int64_t min, int64_t max,
                                int64_t* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    return InvalidArgument(key, std::string(key) + " must be an integer between " +
                                    std::to_string(min) + " and " + std::to_string(max));
  }
  const int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    return InvalidArgument(key, std::string(key) + " must be between " + std::to_string(min) +
                                    " and " + std::to_string(max) + ", got " + std::to_string(v));
  }
  *out = v;
  return std::nullopt;
}

// Parses the body (an empty body reads as {}).
Result<json> Body(const Request& request) {
  if (request.body.empty()) return json::object();
  return ParseJsonObject(request.body);
}

std::optional<Response> AckIds(const json& body, std::vector<std::string>* ids) {
  auto it = body.find("ack_ids");
  if (it == body.end() || !it->is_array()) {
    return InvalidArgument("ack_ids", "ack_ids must be an array of ack id strings");
  }
  if (it->empty()) return InvalidArgument("ack_ids", "ack_ids must not be empty");
  if (it->size() > static_cast<size_t>(kMaxBatch)) {
    return InvalidArgument("ack_ids", "at most 1000 ack ids per request");
  }
  for (const json& id : *it) {
    if (!id.is_string()) return InvalidArgument("ack_ids", "every ack id must be a string");
    ids->push_back(id.get<std::string>());
  }
  return std::nullopt;
}

// The common part of ack and nack: the stream, the body and its ack ids.
struct AckRequest {
  PullQueue* queue = nullptr;
  json body;
  std::vector<std::string> ids;
};

std::optional<Response> ParseAckRequest(const StreamRegistry& streams, const Request& request,
                                        AckRequest* out) {
  const std::string name(request.PathParam("name"));
  out->queue = streams.Find(name);
  if (out->queue == nullptr) return NotFound("no stream named \"" + name + "\"");
  auto body = Body(request);
  if (!body.ok()) return MalformedJson(body.status());
  out->body = std::move(body).value();
  return AckIds(out->body, &out->ids);
}

Response Outcome(const char* count_key, const AckOutcome& outcome) {
  json failed = json::array();
  for (const std::string& id : outcome.unknown) {
    failed.push_back({{"ack_id", id}, {"error", "unknown, already used or expired ack id"}});
  }
  return JsonResponse(200, {{"data", {{count_key, outcome.done}, {"failed", failed}}}});
}

std::string RenderMessages(const std::vector<PulledMessage>& messages) {
  std::string out = "{\"data\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i > 0) out.push_back(',');
    const PulledMessage& m = messages[i];
    out.append("{\"ack_id\":");
    AppendJsonString(out, m.ack_id);
    out.append(",\"deliver_count\":");
    AppendJsonUint(out, m.deliver_count);
    // The message object's own fields follow: splice after its '{'.
    if (m.json.size() > 2 && m.json.front() == '{') {
      out.push_back(',');
      out.append(m.json, 1, std::string::npos);
    } else {
      out.append(",\"message\":").append(m.json.empty() ? "null" : m.json).push_back('}');
    }
  }
  out.append("]}");
  return out;
}

}  // namespace

Status AddStreamRoutes(Router& router, StreamRegistry& streams) {
  StreamRegistry* registry = &streams;
  SLUICE_RETURN_IF_ERROR(router.Add(
      "POST", "/api/streams/{name}/receive", [registry](Request request, Responder respond) {
        const std::string name(request.PathParam("name"));
        PullQueue* queue = registry->Find(name);
        if (queue == nullptr) {
          respond(NotFound("no stream named \"" + name + "\" (streams are http_pull sinks)"));
          return;
        }
        auto body = Body(request);
        if (!body.ok()) {
          respond(MalformedJson(body.status()));
          return;
        }
        int64_t batch_size = 10, wait_for = 0;
        if (auto err = ReadInt(*body, "batch_size", 1, kMaxBatch, &batch_size)) {
          respond(*err);
          return;
        }
        if (auto err = ReadInt(*body, "wait_for", 0, kMaxWaitMs, &wait_for)) {
          respond(*err);
          return;
        }
        const uint64_t wait_id =
            queue->Receive(static_cast<size_t>(batch_size), std::chrono::milliseconds(wait_for),
                           [respond](Result<std::vector<PulledMessage>> result) {
                             if (!result.ok()) {
                               if (result.status().IsPermanent()) {
                                 respond(TooManyRequests(result.status().message(),
                                                         std::chrono::milliseconds(1000)));
                               } else {
                                 respond(ServiceUnavailable(result.status().message()));
                               }
                               return;
                             }
                             Response r;
                             r.body = RenderMessages(*result);
                             respond(std::move(r));
                           });
        // A long poller that hangs up gives back its max_waiting place.
        if (wait_id != 0) respond.OnCancel([queue, wait_id] { queue->CancelWait(wait_id); });
      }));
  SLUICE_RETURN_IF_ERROR(
      router.AddSync("POST", "/api/streams/{name}/ack", [registry](const Request& request) {
        AckRequest ack;
        if (auto err = ParseAckRequest(*registry, request, &ack)) return *err;
        return Outcome("acked", ack.queue->Ack(ack.ids));
      }));
  SLUICE_RETURN_IF_ERROR(
      router.AddSync("POST", "/api/streams/{name}/nack", [registry](const Request& request) {
        AckRequest ack;
        if (auto err = ParseAckRequest(*registry, request, &ack)) return *err;
        int64_t delay = 0;
        if (auto err = ReadInt(ack.body, "delay_ms", 0, kMaxDelayMs, &delay)) return *err;
        return Outcome("nacked", ack.queue->Nack(ack.ids, std::chrono::milliseconds(delay)));
      }));
  SLUICE_RETURN_IF_ERROR(router.AddSync("GET", "/api/streams", [registry](const Request&) {
    json data = json::array();
    for (const auto& [name, queue] : registry->all()) {
      data.push_back({{"name", name},
                      {"depth", queue->depth()},
                      {"outstanding", queue->outstanding()},
                      {"waiting", queue->waiting()}});
    }
    return JsonResponse(200, {{"data", data}});
  }));
  return Status::Ok();
}

}  // namespace sluice::api
