#pragma once

// Maps (method, path) to a handler. Patterns are absolute paths whose segments are literals
// or "{name}" parameters: "/api/v1/devices/{id}". A literal segment wins over a parameter at
// the same position, so "/devices/self" and "/devices/{id}" can coexist.
//
// Thread-safety: Add() only before the server starts; every const method may then be called
// from any number of threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "server/http/request.hpp"
#include "server/http/response.hpp"

namespace aloft::server::http {

// Segment parameters of the matched pattern, decoded: {"id": "device-1"}.
using RouteParams = std::map<std::string, std::string, std::less<>>;

// Handlers return the response, errors included (Response::Error). A handler that throws gets
// a 500 {"error":{"code":"internal",...}} without details; the exception text is only logged.
using Handler = std::function<Response(const Request&, const RouteParams&)>;

inline constexpr std::uint64_t kDefaultMaxBodyBytes = 64 * 1024;

struct RouteOptions {
  // For metrics and access logs; defaults to "<METHOD> <pattern>".
  std::string name;
  // Larger bodies get 413 before the handler runs (Content-Length is checked before reading;
  // chunked bodies are cut when they pass the limit).
  std::uint64_t max_body_bytes = kDefaultMaxBodyBytes;
  // Stream the body to a temporary file (Request::body_file) instead of memory; the cap is
  // still max_body_bytes. For artifact uploads.
  bool stream_body_to_file = false;
  // Overrides the server's whole-request deadline (head + body), e.g. for large uploads.
  std::optional<std::chrono::milliseconds> request_timeout;
};

struct Route {
  Method method = Method::kGet;
  std::string pattern;
  std::vector<std::string> segments;  // "{id}" kept as written
  Handler handler;
  RouteOptions options;
};

// One route for Router::AddAll: a table of these reads better than a row of Add calls.
struct RouteSpec {
  Method method = Method::kGet;
  std::string_view pattern;
  Handler handler;
  RouteOptions options;
};

struct RouteInfo {
  Method method = Method::kGet;
  std::string pattern;
  std::string name;
};

// The outcome of a lookup: a route, or why none matched.
struct RouteMatch {
  const Route* route = nullptr;  // null when nothing matched
  RouteParams params;
  // When the path matched some pattern but not for this method: the methods it has (for 405
  // and its Allow header). Empty with a null route means 404.
  std::vector<Method> allowed;
};

class Router {
 public:
  // kInvalidArgument for a pattern that is not absolute, has empty or "."/".." segments, a
  // malformed or repeated "{param}", or kOther as method; kAlreadyExists for the same method
  // and equivalent pattern twice.
  Status Add(Method method, std::string_view pattern, Handler handler, RouteOptions options = {});
  // Add() for each route in order; stops at the first error.
  Status AddAll(std::span<const RouteSpec> routes);

  // HEAD falls back to the GET route of the same path when no HEAD route exists.
  RouteMatch Find(Method method, const std::vector<std::string>& segments) const;

  std::vector<RouteInfo> Routes() const;

  // The handler for GET and HEAD requests whose path matches no pattern at all (a path that
  // matches with another method still gets 405): the web console's client-side routes. Set
  // before the server starts. Not listed by Routes().
  void SetGetFallback(Handler handler, RouteOptions options = {});

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  // routes_ again, grouped by segment count: Find runs on every request and only patterns of
  // the path's length can match it.
  std::vector<std::vector<const Route*>> by_length_;
  std::unique_ptr<Route> get_fallback_;
};

// "GET, HEAD, POST" for an Allow header (HEAD added wherever GET is).
std::string AllowHeader(const std::vector<Method>& methods);

// Runs the handler and turns an escaping exception into a 500 "internal" response; the
// exception text goes to `log` (never to the client).
Response InvokeHandler(const Route& route, const Request& request, const RouteParams& params,
                       const std::function<void(std::string_view)>& log);

}  // namespace aloft::server::http
