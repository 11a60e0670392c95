#include "api/backfill_routes.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "api/json_error.h"

namespace sluice::api {
namespace {

using backfill::BackfillControl;
using backfill::ControlError;
using backfill::ControlOutcome;
using nlohmann::json;

json Timestamp(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == nullptr) return nullptr;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

json OptionalString(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

Response FromOutcome(const ControlOutcome& o, int ok_status, bool one) {
  switch (o.error) {
    case ControlError::kNone:
      break;
    case ControlError::kNotFound:
      return NotFound(o.message);
    case ControlError::kInvalid:
      return o.field.empty() ? BadRequest(o.message) : InvalidArgument(o.field, o.message);
    case ControlError::kConflict:
      return ErrorResponse(409, "conflict", o.message);
    case ControlError::kUnavailable:
      return ServiceUnavailable(o.message);
    case ControlError::kInternal:
      return InternalError(o.message);
  }
  if (one) {
    if (o.backfills.empty()) return InternalError("no backfill in the answer");
    return JsonResponse(ok_status, {{"data", BackfillJson(o.backfills.front())}});
  }
  json data = json::array();
  for (const auto& r : o.backfills) data.push_back(BackfillJson(r));
  return JsonResponse(ok_status, {{"data", data}});
}

// The manager of the sink in the path, or the 404 to answer.
BackfillControl* Control(const BackfillLookup& lookup, const Request& request,
                         std::optional<Response>* error) {
  const std::string sink(request.PathParam("name"));
  BackfillControl* control = lookup(sink);
  if (control == nullptr) *error = NotFound("no sink named \"" + sink + "\"");
  return control;
}

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::optional<Response> OptionalStringField(const json& body, const char* key,
                                            std::optional<std::string>* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    *out = it->get<std::string>();
    return std::nullopt;
  }
  // A start position may be written as a JSON number or boolean.
  if (std::string(key) == "start_position" && (it->is_number() || it->is_boolean())) {
    *out = it->dump();
    return std::nullopt;
  }
  return InvalidArgument(key, std::string(key) + " must be a string");
}

// Parses a start request's body into `request`.
std::optional<Response> ParseStart(const Request& http, backfill::BackfillRequest* request) {
  auto body = http.body.empty() ? Result<json>(json::object()) : ParseJsonObject(http.body);
  if (!body.ok()) return MalformedJson(body.status());
  static const std::vector<std::string> kKeys = {"table", "schema", "sort_column", "start_position",
                                                 "filter"};
  for (const auto& [key, value] : body->items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      return InvalidArgument(key, "unknown field \"" + key +
                                      "\"; allowed: table, schema, sort_column, start_position, "
                                      "filter");
    }
  }
  std::optional<std::string> table, schema, sort_column, filter;
  for (auto [key, out] : {std::pair{"table", &table}, std::pair{"schema", &schema},
                          std::pair{"sort_column", &sort_column}, std::pair{"filter", &filter},
                          std::pair{"start_position", &request->start_position}}) {
    if (auto err = OptionalStringField(*body, key, out)) return err;
  }
  if (!table || table->empty()) {
    return InvalidArgument("table", "table is required: \"schema.table\" or \"table\"");
  }
  if (schema) {
    if (schema->empty()) return InvalidArgument("schema", "schema must not be empty");
    request->table_schema = *schema;
    request->table_name = *table;
  } else {
    const size_t dot = table->find('.');
    if (dot == std::string::npos) {
      request->table_schema = "public";
      request->table_name = *table;
    } else {
      request->table_schema = table->substr(0, dot);
      request->table_name = table->substr(dot + 1);
    }
    if (request->table_schema.empty() || request->table_name.empty() ||
        request->table_name.find('.') != std::string::npos) {
      return InvalidArgument("table",
                             "table must be \"schema.table\" or \"table\" (give \"schema\" apart "
                             "for a name with a dot)");
    }
  }
  request->sort_column = sort_column.value_or("");
  request->filter = filter.value_or("");
  return std::nullopt;
}

}  // namespace

json BackfillJson(const state::BackfillRecord& r) {
  json cursor = nullptr;
  if (r.cursor) {
    cursor = json::parse(*r.cursor, nullptr, false);
    if (cursor.is_discarded()) cursor = *r.cursor;
  }
  return {{"id", r.id},
          {"sink", r.sink},
          {"table", r.table_schema + "." + r.table_name},
          {"table_schema", r.table_schema},
          {"table_name", r.table_name},
          {"sort_column", OptionalString(r.sort_column)},
          {"start_position", r.start_position ? json(*r.start_position) : json(nullptr)},
          {"filter", OptionalString(r.filter)},
          {"state", state::BackfillStateName(r.state)},
          {"initial", r.initial},
          {"estimated_total", r.estimated_total >= 0 ? json(r.estimated_total) : json(nullptr)},
          {"rows_read", r.rows_read},
          {"rows_emitted", r.rows_emitted},
          {"cursor", cursor},
          {"created_at", Timestamp(r.created_at_ms)},
          {"updated_at", Timestamp(r.updated_at_ms)},
          {"completed_at", r.completed_at_ms ? Timestamp(*r.completed_at_ms) : json(nullptr)},
          {"last_error", OptionalString(r.last_error)}};
}

Status AddBackfillRoutes(Router& router, BackfillLookup lookup) {
  SLUICE_RETURN_IF_ERROR(
      router.AddSync("GET", "/api/sinks/{name}/backfills", [lookup](const Request& request) {
        std::optional<Response> error;
        BackfillControl* control = Control(lookup, request, &error);
        if (!control) return *error;
        return FromOutcome(control->List(std::string(request.PathParam("name"))), 200, false);
      }));
  SLUICE_RETURN_IF_ERROR(
      router.AddSync("GET", "/api/sinks/{name}/backfills/{id}", [lookup](const Request& request) {
        std::optional<Response> error;
        BackfillControl* control = Control(lookup, request, &error);
        if (!control) return *error;
        const auto id = ParseId(request.PathParam("id"));
        if (!id)
          return NotFound("no backfill with id \"" + std::string(request.PathParam("id")) + "\"");
        return FromOutcome(control->Get(std::string(request.PathParam("name")), *id), 200, true);
      }));
  SLUICE_RETURN_IF_ERROR(router.Add(
      "POST", "/api/sinks/{name}/backfills", [lookup](Request request, Responder respond) {
        std::optional<Response> error;
        BackfillControl* control = Control(lookup, request, &error);
        if (!control) return respond(*error);
        backfill::BackfillRequest start;
        start.sink = std::string(request.PathParam("name"));
        if (auto err = ParseStart(request, &start)) return respond(*err);
        control->Start(std::move(start),
                       [respond](ControlOutcome o) { respond(FromOutcome(o, 201, true)); });
      }));
  using Action = void (BackfillControl::*)(const std::string&, int64_t, backfill::ControlDone);
  for (auto [verb, action] : {std::pair<const char*, Action>{"pause", &BackfillControl::Pause},
                              std::pair<const char*, Action>{"resume", &BackfillControl::Resume},
                              std::pair<const char*, Action>{"cancel", &BackfillControl::Cancel}}) {
    SLUICE_RETURN_IF_ERROR(router.Add(
        "POST", std::string("/api/sinks/{name}/backfills/{id}/") + verb,
        [lookup, action](Request request, Responder respond) {
          std::optional<Response> error;
          BackfillControl* control = Control(lookup, request, &error);
          if (!control) return respond(*error);
          const auto id = ParseId(request.PathParam("id"));
          if (!id) {
            return respond(
                NotFound("no backfill with id \"" + std::string(request.PathParam("id")) + "\""));
          }
          (control->*action)(std::string(request.PathParam("name")), *id,
                             [respond](ControlOutcome o) { respond(FromOutcome(o, 200, true)); });
        }));
  }
  return Status::Ok();
}

}  // namespace sluice::api
