#include "api/json_error.h"

namespace sluice::api {

namespace {

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

const char* JsonTypeName(const nlohmann::json& value) {
  if (value.is_array()) return "an array";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_null()) return "null";
  return "a non-object";
}

}  // namespace

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response JsonResponse(int status, const nlohmann::json& value) {
  Response response;
  response.status = status;
  response.body = DumpJson(value);
  return response;
}

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  return JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
}

Response BadRequest(std::string_view message) {
  return ErrorResponse(400, ErrorCode::kBadRequest, message);
}

Response InvalidArgument(std::string_view field, std::string_view message) {
  Response response = ErrorResponse(400, ErrorCode::kInvalidArgument,
                                    std::string(field) + ": " + std::string(message));
  return response;
}

Response Unauthorized(std::string_view message, std::string_view bearer_error) {
  Response response = ErrorResponse(401, ErrorCode::kUnauthorized, message);
  std::string challenge = "Bearer realm=\"sluice\"";
  if (!bearer_error.empty()) challenge += ", error=\"" + std::string(bearer_error) + "\"";
  response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  return response;
}

Response NotFound(std::string_view message) {
  return ErrorResponse(404, ErrorCode::kNotFound, message);
}

Response MethodNotAllowed(std::string_view method, std::string_view path,
                          const std::vector<std::string>& allowed) {
  Response response = ErrorResponse(405, ErrorCode::kMethodNotAllowed,
                                    std::string(method) + " is not allowed on " +
                                        std::string(path) + "; allowed: " + Join(allowed, ", "));
  response.headers.emplace_back("Allow", Join(allowed, ", "));
  return response;
}

Response PayloadTooLarge(size_t limit_bytes) {
  return ErrorResponse(
      413, ErrorCode::kPayloadTooLarge,
      "request body exceeds the limit of " + std::to_string(limit_bytes) + " bytes");
}

Response TooManyRequests(std::string_view message,
                         std::optional<std::chrono::milliseconds> retry_after) {
  Response response = ErrorResponse(429, ErrorCode::kTooManyRequests, message);
  if (retry_after) {
    const auto seconds = (std::max<int64_t>(retry_after->count(), 0) + 999) / 1000;
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  return response;
}

Response InternalError(std::string_view message) {
  return ErrorResponse(500, ErrorCode::kInternal, message);
}

Response ServiceUnavailable(std::string_view message) {
  return ErrorResponse(503, ErrorCode::kUnavailable, message);
}

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return nlohmann::json::object();
  }
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 7: syntax error while parsing ..."; keep the part after the tag.
    std::string what = e.what();
    const size_t tag_end = what.find("] ");
    if (tag_end != std::string::npos) what = what.substr(tag_end + 2);
    return Status::Permanent("request body is not valid JSON: " + what);
  }
  if (!value.is_object()) {
    return Status::Permanent(std::string("request body must be a JSON object, got ") +
                             JsonTypeName(value));
  }
  return value;
}

Response MalformedJson(const Status& status) {
  return ErrorResponse(400, ErrorCode::kMalformedJson, status.message());
}

}  // namespace sluice::api
