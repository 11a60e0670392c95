// Maps a method and a path to a handler. Patterns are "/"-separated segments,
// each a literal ("streams") or a parameter ("{name}") that matches exactly
// one non-empty segment:
//
//   router.Add("POST", "/api/streams/{name}/receive", handler);
//
// A literal segment beats a parameter at the same position, so
// "/api/sinks/_all" and "/api/sinks/{name}" can coexist. A path that matches
// some pattern but not with this method is a 405 listing the allowed methods.
// Paths are matched after percent-decoding each segment ("%2F" stays inside
// its segment); there is no trailing-slash redirect ("/health/" is a 404).
//
// Thread-safety: Add routes before the server starts; Find is const and safe
// from any number of threads once routes are added.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"
#include "common/status.h"

namespace sluice::api {

// Runs on the connection's strand (a loop thread) and must not block: to wait
// (long polls, storage on another thread), keep `respond` and call it later
// from any thread.
using Handler = std::function<void(Request request, Responder respond)>;
// A handler that answers at once.
using SyncHandler = std::function<Response(const Request& request)>;

class Router {
 public:
  // Errors (permanent) for a pattern that does not start with "/", has an
  // empty or malformed segment or a repeated parameter name, and for a method
  // and pattern shape registered twice ("/a/{x}" and "/a/{y}" are the same
  // shape).
  Status Add(std::string_view method, std::string_view pattern, Handler handler);
  Status AddSync(std::string_view method, std::string_view pattern, SyncHandler handler);

  struct Match {
    enum class Kind : unsigned char { kFound, kNotFound, kMethodNotAllowed, kBadPath };
    Kind kind = Kind::kNotFound;
    const Handler* handler = nullptr;  // kFound; valid while the Router lives
    std::string pattern;               // kFound: the route's pattern (a metrics label)
    std::map<std::string, std::string, std::less<>> params;  // kFound
    std::vector<std::string> allowed;                        // kMethodNotAllowed: sorted methods
    std::string error;  // kBadPath: what is wrong with the path
  };
  // `path` without the query string, as sent (percent-encoded).
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter's name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  std::vector<Route> routes_;
};

}  // namespace sluice::api
