#include "api/router.h"

#include <algorithm>
#include <set>

namespace sluice::api {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits "/a/b%20c" into {"a", "b c"}; "/" is no segment at all. False on a
// path without a leading "/" or a bad escape.
bool DecodePath(std::string_view path, std::vector<std::string>& segments, std::string& error) {
  if (path.empty() || path.front() != '/') {
    error = "the path must start with \"/\"";
    return false;
  }
  if (path == "/") return true;
  size_t start = 1;
  while (true) {
    const size_t end = path.find('/', start);
    const std::string_view raw =
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    std::string decoded;
    decoded.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '%') {
        decoded += raw[i];
        continue;
      }
      const int high = i + 2 < raw.size() ? HexValue(raw[i + 1]) : -1;
      const int low = i + 2 < raw.size() ? HexValue(raw[i + 2]) : -1;
      if (high < 0 || low < 0) {
        error = "bad percent-encoding in path segment \"" + std::string(raw) + "\"";
        return false;
      }
      decoded += static_cast<char>(high * 16 + low);
      i += 2;
    }
    segments.push_back(std::move(decoded));
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

bool IsParamName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Status Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  const std::string where = std::string(method) + " " + std::string(pattern);
  if (method.empty()) return Status::Permanent("route " + where + ": empty method");
  if (pattern.empty() || pattern.front() != '/') {
    return Status::Permanent("route " + where + ": the pattern must start with \"/\"");
  }
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  std::set<std::string, std::less<>> params;
  if (pattern != "/") {
    size_t start = 1;
    while (true) {
      const size_t end = pattern.find('/', start);
      const std::string_view text = pattern.substr(
          start, end == std::string_view::npos ? std::string_view::npos : end - start);
      if (text.empty()) return Status::Permanent("route " + where + ": empty segment");
      if (text.front() == '{' || text.back() == '}') {
        const std::string_view name = text.size() >= 2 && text.front() == '{' && text.back() == '}'
                                          ? text.substr(1, text.size() - 2)
                                          : std::string_view();
        if (!IsParamName(name)) {
          return Status::Permanent("route " + where + ": malformed parameter \"" +
                                   std::string(text) + "\" (expected {name})");
        }
        if (!params.emplace(name).second) {
          return Status::Permanent("route " + where + ": parameter {" + std::string(name) +
                                   "} appears twice");
        }
        route.segments.push_back({std::string(name), true});
      } else if (text.find_first_of("{}%") != std::string_view::npos) {
        return Status::Permanent("route " + where + ": segment \"" + std::string(text) +
                                 "\" may not contain {, } or %");
      } else {
        route.segments.push_back({std::string(text), false});
      }
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  for (const Route& existing : routes_) {
    if (existing.method != route.method || existing.segments.size() != route.segments.size()) {
      continue;
    }
    const bool same_shape =
        std::equal(existing.segments.begin(), existing.segments.end(), route.segments.begin(),
                   [](const Segment& a, const Segment& b) {
                     return a.is_param == b.is_param && (a.is_param || a.text == b.text);
                   });
    if (same_shape) {
      return Status::Permanent("route " + where + " conflicts with " + existing.method + " " +
                               existing.pattern);
    }
  }
  routes_.push_back(std::move(route));
  return Status::Ok();
}

Status Router::AddSync(std::string_view method, std::string_view pattern, SyncHandler handler) {
  return Add(method, pattern, [handler = std::move(handler)](Request request, Responder respond) {
    respond(handler(request));
  });
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  std::vector<std::string> segments;
  if (!DecodePath(path, segments, match.error)) {
    match.kind = Match::Kind::kBadPath;
    return match;
  }
  const Route* best = nullptr;
  std::vector<bool> best_literals;  // per segment: literal (true) or parameter
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool matches = true;
    for (size_t i = 0; matches && i < segments.size(); ++i) {
      const Segment& s = route.segments[i];
      matches = s.is_param ? !segments[i].empty() : s.text == segments[i];
    }
    if (!matches) continue;
    if (route.method != method) {
      allowed.insert(route.method);
      continue;
    }
    std::vector<bool> literals;
    literals.reserve(route.segments.size());
    for (const Segment& s : route.segments) literals.push_back(!s.is_param);
    if (best == nullptr || literals > best_literals) {
      best = &route;
      best_literals = std::move(literals);
    }
  }
  if (best == nullptr) {
    if (!allowed.empty()) {
      match.kind = Match::Kind::kMethodNotAllowed;
      match.allowed.assign(allowed.begin(), allowed.end());
    }
    return match;
  }
  match.kind = Match::Kind::kFound;
  match.handler = &best->handler;
  match.pattern = best->pattern;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (best->segments[i].is_param) match.params[best->segments[i].text] = std::move(segments[i]);
  }
  return match;
}

}  // namespace sluice::api
