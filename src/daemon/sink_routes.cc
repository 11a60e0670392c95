#include "daemon/sink_routes.h"

#include <charconv>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "api/json_error.h"
#include "common/log.h"
#include "common/lsn.h"
#include "pipeline/renderer.h"

namespace sluice::daemon {
namespace {

using nlohmann::json;

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;

std::string FormatMs(int64_t unix_ms) {
  if (unix_ms <= 0) return {};
  return pipeline::FormatCommitTimestamp(unix_ms * 1000);
}

json NullableTime(int64_t unix_ms) {
  // Held messages have no next retry (far future): they wait for a person.
  if (unix_ms <= 0 || unix_ms >= std::numeric_limits<int64_t>::max() / 1000) return nullptr;
  return FormatMs(unix_ms);
}

const SinkView* Find(const std::vector<SinkView>& sinks, std::string_view name) {
  for (const SinkView& s : sinks) {
    if (s.config->name == name) return &s;
  }
  return nullptr;
}

api::Response UnknownSink(std::string_view name) {
  return api::NotFound("no sink named \"" + std::string(name) + "\"");
}

json Summary(const SinkView& s) {
  const auto& st = s.runner->stats();
  const uint64_t failed = st.failed_messages.load();
  const auto [error, error_at] = s.runner->last_error();
  // Recent failures (the last minute) or messages waiting in the store make
  // a sink "failing"; an inactive sink is "paused".
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::string status = "healthy";
  if (!s.config->active) {
    status = "paused";
  } else if (failed > 0 || (error_at > 0 && now_ms - error_at < 60000)) {
    status = "failing";
  }
  const Position acked = s.acks->AckedThrough()[s.index];
  const size_t pending = s.acks->InFlight(s.index);
  const Lsn server = s.replicator->stats().server_wal_end.load();
  const uint64_t lag = pending == 0 || server <= acked.commit_lsn ? 0 : server - acked.commit_lsn;
  return {{"name", s.config->name},
          {"id", pipeline::SinkId(s.config->name)},
          {"database", s.database},
          {"type", s.config->destination_type},
          {"status", status},
          {"active", s.config->active},
          {"ingested", s.router->routed(s.index)},
          {"delivered", st.delivered.load()},
          {"failed_attempts", st.failed_attempts.load()},
          {"retried", st.retried.load()},
          {"discarded", st.discarded.load()},
          {"failed_messages", failed},
          {"queue_bytes", s.queue->bytes()},
          {"queue_messages", s.queue->size()},
          {"in_flight_batches", st.in_flight_batches.load()},
          {"pending_messages", pending},
          {"acked_through", {{"commit_lsn", acked.commit_lsn}, {"commit_idx", acked.commit_idx}}},
          {"lag_bytes", lag},
          {"last_error",
           error.empty() ? json(nullptr) : json{{"message", error}, {"at", FormatMs(error_at)}}}};
}

// ?limit=N&offset=M (both optional).
std::optional<api::Response> ReadPaging(std::string_view query, size_t* limit, size_t* offset) {
  *limit = kDefaultLimit;
  *offset = 0;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    size_t* target = key == "limit" ? limit : key == "offset" ? offset : nullptr;
    if (target == nullptr) {
      return api::InvalidArgument(
          key, "unknown query parameter \"" + std::string(key) + "\"; allowed: limit, offset");
    }
    size_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() ||
        (target == limit && (v == 0 || v > kMaxLimit))) {
      return api::InvalidArgument(key, key == "limit" ? "limit must be an integer from 1 to 1000"
                                                      : "offset must be a non-negative integer");
    }
    *target = v;
  }
  return std::nullopt;
}

// {"ids": [1, 2]} or {"all": true}.
std::optional<api::Response> ReadSelection(const api::Request& request,
                                           std::vector<uint64_t>* ids) {
  auto body = api::ParseJsonObject(request.body);
  if (!body.ok())
    return api::ErrorResponse(400, api::ErrorCode::kMalformedJson, body.status().message());
  auto all = body->find("all");
  auto list = body->find("ids");
  const bool want_all = all != body->end() && all->is_boolean() && all->get<bool>();
  if (all != body->end() && !all->is_boolean()) {
    return api::InvalidArgument("all", "all must be a boolean");
  }
  if (want_all && list != body->end()) {
    return api::InvalidArgument("ids", "give either ids or \"all\": true, not both");
  }
  if (want_all) return std::nullopt;
  if (list == body->end() || !list->is_array() || list->empty()) {
    return api::InvalidArgument(
        "ids", "ids must be a non-empty array of failed message ids (or send {\"all\": true})");
  }
  if (list->size() > kMaxLimit) return api::InvalidArgument("ids", "at most 1000 ids per request");
  for (const json& id : *list) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() == 0) {
      return api::InvalidArgument("ids", "every id must be a positive integer");
    }
    ids->push_back(id.get<uint64_t>());
  }
  return std::nullopt;
}

json ActionResult(const pipeline::FailedMessageActionResult& r) {
  return {{"matched", r.matched}, {"unknown_ids", r.unknown_ids}};
}

}  // namespace

Status AddSinkRoutes(api::Router& router, std::vector<SinkView> sinks_in,
                     state::StateStore& store) {
  auto sinks = std::make_shared<const std::vector<SinkView>>(std::move(sinks_in));
  SLUICE_RETURN_IF_ERROR(router.AddSync("GET", "/api/sinks", [sinks](const api::Request&) {
    json data = json::array();
    for (const SinkView& s : *sinks) data.push_back(Summary(s));
    return api::JsonResponse(200, {{"data", data}});
  }));
  SLUICE_RETURN_IF_ERROR(
      router.AddSync("GET", "/api/sinks/{name}", [sinks](const api::Request& request) {
        const SinkView* s = Find(*sinks, request.PathParam("name"));
        if (!s) return UnknownSink(request.PathParam("name"));
        return api::JsonResponse(200, Summary(*s));
      }));
  SLUICE_RETURN_IF_ERROR(router.AddSync(
      "GET", "/api/sinks/{name}/failed_messages", [sinks, &store](const api::Request& request) {
        const SinkView* s = Find(*sinks, request.PathParam("name"));
        if (!s) return UnknownSink(request.PathParam("name"));
        size_t limit = 0;
        size_t offset = 0;
        if (auto bad = ReadPaging(request.query, &limit, &offset)) return *bad;
        auto loaded = store.LoadFailedMessages(s->config->name, /*with_bodies=*/true);
        if (!loaded.ok()) return api::InternalError(loaded.status().message());
        json data = json::array();
        for (size_t i = offset; i < loaded->size() && data.size() < limit; ++i) {
          const state::FailedMessage& m = (*loaded)[i];
          json message = json::parse(m.json, nullptr, /*allow_exceptions=*/false);
          if (message.is_discarded()) message = m.json;
          data.push_back({{"id", m.id},
                          {"table", m.table_schema + "." + m.table_name},
                          {"action", ActionName(static_cast<Action>(m.action))},
                          {"commit_lsn", m.position.commit_lsn},
                          {"commit_idx", m.position.commit_idx},
                          {"idempotency_key", m.idempotency_key},
                          {"attempts", m.attempts},
                          {"last_error", m.last_error},
                          {"first_failed_at", NullableTime(m.first_failed_at_ms)},
                          {"last_failed_at", NullableTime(m.last_failed_at_ms)},
                          {"next_retry_at", NullableTime(m.next_retry_at_ms)},
                          {"held", !m.hold_error.empty()},
                          {"message", std::move(message)}});
        }
        return api::JsonResponse(200, {{"data", data}, {"total", loaded->size()}});
      }));
  for (const char* verb : {"retry", "discard"}) {
    const bool retry = std::string_view(verb) == "retry";
    SLUICE_RETURN_IF_ERROR(router.Add(
        "POST", std::string("/api/sinks/{name}/failed_messages/") + verb,
        [sinks, retry](api::Request request, api::Responder respond) {
          const SinkView* s = Find(*sinks, request.PathParam("name"));
          if (!s) return respond(UnknownSink(request.PathParam("name")));
          std::vector<uint64_t> ids;
          if (auto bad = ReadSelection(request, &ids)) return respond(*bad);
          auto done = [respond](pipeline::FailedMessageActionResult r) {
            respond(api::JsonResponse(200, ActionResult(r)));
          };
          if (retry) {
            s->runner->RetryFailed(std::move(ids), std::move(done));
          } else {
            log::Info("failed messages discard requested",
                      {{"sink", s->config->name},
                       {"token", request.token_name},
                       {"ids", ids.empty() ? std::string("all") : std::to_string(ids.size())}});
            s->runner->DiscardFailed(std::move(ids), std::move(done));
          }
        }));
  }
  return Status::Ok();
}

}  // namespace sluice::daemon
