// JSON responses and the one error envelope every API error uses:
//
//   {"error": {"code": "not_found", "message": "no route for GET /api/nope"}}
//
// `code` is a stable machine-readable string (clients switch on it), the
// message is for people and may change. Helpers set the status and the
// headers the status requires (Allow on 405, WWW-Authenticate on 401,
// Retry-After on 429). Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"
#include "common/status.h"

namespace sluice::api {

// The error codes of the API (docs/api.md lists them with their statuses).
namespace ErrorCode {
inline constexpr std::string_view kBadRequest = "bad_request";               // 400
inline constexpr std::string_view kMalformedJson = "malformed_json";         // 400
inline constexpr std::string_view kInvalidArgument = "invalid_argument";     // 400
inline constexpr std::string_view kUnauthorized = "unauthorized";            // 401
inline constexpr std::string_view kForbidden = "forbidden";                  // 403
inline constexpr std::string_view kNotFound = "not_found";                   // 404
inline constexpr std::string_view kMethodNotAllowed = "method_not_allowed";  // 405
inline constexpr std::string_view kPayloadTooLarge = "payload_too_large";    // 413
inline constexpr std::string_view kHeadersTooLarge = "headers_too_large";    // 431
inline constexpr std::string_view kTooManyRequests = "too_many_requests";    // 429
inline constexpr std::string_view kInternal = "internal";                    // 500
inline constexpr std::string_view kUnavailable = "unavailable";              // 503
}  // namespace ErrorCode

// Serialises `value`; invalid UTF-8 in strings is replaced (U+FFFD), never
// thrown about, so echoing user input into a message is safe.
std::string DumpJson(const nlohmann::json& value);

// `value` as an application/json response.
Response JsonResponse(int status, const nlohmann::json& value);

// The error envelope with `status`.
Response ErrorResponse(int status, std::string_view code, std::string_view message);

Response BadRequest(std::string_view message);
// 400 invalid_argument: the JSON is well-formed but a field is wrong.
// `field` is a JSON path such as "batch_size" or "ack_ids[3]".
Response InvalidArgument(std::string_view field, std::string_view message);
// `error_description` goes into WWW-Authenticate (RFC 6750 §3): the empty
// string for a missing token, "invalid_token" for a wrong one.
Response Unauthorized(std::string_view message, std::string_view bearer_error = {});
Response NotFound(std::string_view message);
// `allowed` methods go into the Allow header.
Response MethodNotAllowed(std::string_view method, std::string_view path,
                          const std::vector<std::string>& allowed);
Response PayloadTooLarge(size_t limit_bytes);
// `retry_after` rounds up to whole seconds in Retry-After.
Response TooManyRequests(std::string_view message,
                         std::optional<std::chrono::milliseconds> retry_after = std::nullopt);
Response InternalError(std::string_view message);
Response ServiceUnavailable(std::string_view message);

// Parses a request body that must be a JSON object. An empty (or all
// whitespace) body is {}, so optional bodies may be left out. Content-Type is
// not checked (curl -d sends form encoding by default). On failure the Status
// (permanent) says where and what: "request body is not valid JSON: at byte
// 7: ...", or "request body must be a JSON object, got an array".
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// 400 malformed_json with the message of a ParseJsonObject error.
Response MalformedJson(const Status& status);

}  // namespace sluice::api
