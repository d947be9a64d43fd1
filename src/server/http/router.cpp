#include "server/http/router.hpp"

#include <algorithm>
#include <exception>
#include <set>
#include <utility>

namespace aloft::server::http {
namespace {

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `segments` against `route`; fills `params` on success. Returns the number of
// literal segments matched, or -1, so that the most specific pattern wins.
int MatchSegments(const Route& route, const std::vector<std::string>& segments,
                  RouteParams* params) {
  if (route.segments.size() != segments.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& pattern = route.segments[i];
    if (IsParam(pattern)) continue;
    if (pattern != segments[i]) return -1;
    ++literals;
  }
  if (params != nullptr) {
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const std::string& pattern = route.segments[i];
      if (IsParam(pattern)) params->emplace(pattern.substr(1, pattern.size() - 2), segments[i]);
    }
  }
  return literals;
}

// Two patterns are equivalent when they match the same paths (parameter names aside).
bool SameShape(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (IsParam(a[i]) != IsParam(b[i])) return false;
    if (!IsParam(a[i]) && a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

Status Router::Add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
  if (method == Method::kOther) return Fail(Errc::kInvalidArgument, "route needs a method");
  if (!handler) return Fail(Errc::kInvalidArgument, "route needs a handler");
  if (pattern.empty() || pattern.front() != '/') {
    return Fail(Errc::kInvalidArgument, "route pattern must start with '/'");
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  std::set<std::string, std::less<>> names;
  std::string_view rest = pattern.substr(1);
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == "." || segment == ".." ||
        (slash != std::string_view::npos && rest.empty())) {
      return Fail(Errc::kInvalidArgument, "bad route pattern '" + route->pattern + "'");
    }
    bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (has_brace) {
      std::string_view name = segment.substr(1, segment.size() >= 2 ? segment.size() - 2 : 0);
      if (!IsParam(segment) || name.empty() || name.find_first_of("{}") != std::string_view::npos ||
          !names.emplace(name).second) {
        return Fail(Errc::kInvalidArgument, "bad parameter in route '" + route->pattern + "'");
      }
    }
    route->segments.emplace_back(segment);
  }
  for (const auto& existing : routes_) {
    if (existing->method == method && SameShape(existing->segments, route->segments)) {
      return Fail(Errc::kAlreadyExists, std::string(MethodName(method)) + " " + route->pattern +
                                            " collides with " + existing->pattern);
    }
  }
  if (options.name.empty()) options.name = std::string(MethodName(method)) + " " + route->pattern;
  route->handler = std::move(handler);
  route->options = std::move(options);
  const std::size_t length = route->segments.size();
  if (by_length_.size() <= length) by_length_.resize(length + 1);
  by_length_[length].push_back(route.get());
  routes_.push_back(std::move(route));
  return Ok();
}

RouteMatch Router::Find(Method method, const std::vector<std::string>& segments) const {
  RouteMatch match;
  const Route* best = nullptr;
  const Route* best_get = nullptr;
  int best_score = -1;
  int best_get_score = -1;
  unsigned allowed = 0;  // bit i: Method(i) has a pattern matching the path
  static const std::vector<const Route*> kNone;
  const auto& candidates = segments.size() < by_length_.size() ? by_length_[segments.size()] : kNone;
  for (const Route* route : candidates) {
    int score = MatchSegments(*route, segments, nullptr);
    if (score < 0) continue;
    allowed |= 1u << static_cast<unsigned>(route->method);
    if (route->method == method && score > best_score) {
      best = route;
      best_score = score;
    }
    if (route->method == Method::kGet && score > best_get_score) {
      best_get = route;
      best_get_score = score;
    }
  }
  if (best == nullptr && method == Method::kHead) best = best_get;
  if (best != nullptr) {
    match.route = best;
    (void)MatchSegments(*best, segments, &match.params);
    return match;
  }
  for (unsigned m = 0; m <= static_cast<unsigned>(Method::kOther); ++m) {
    if ((allowed & (1u << m)) != 0) match.allowed.push_back(static_cast<Method>(m));
  }
  if (allowed == 0 && get_fallback_ && (method == Method::kGet || method == Method::kHead)) {
    match.route = get_fallback_.get();
  }
  return match;
}

Status Router::AddAll(std::span<const RouteSpec> routes) {
  for (const RouteSpec& r : routes) {
    if (Status s = Add(r.method, r.pattern, r.handler, r.options); !s) return s;
  }
  return Ok();
}

void Router::SetGetFallback(Handler handler, RouteOptions options) {
  auto route = std::make_unique<Route>();
  route->method = Method::kGet;
  route->pattern = "/*";
  route->handler = std::move(handler);
  if (options.name.empty()) options.name = "GET fallback";
  route->options = std::move(options);
  get_fallback_ = std::move(route);
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) {
    out.push_back(RouteInfo{route->method, route->pattern, route->options.name});
  }
  return out;
}

std::string AllowHeader(const std::vector<Method>& methods) {
  std::set<Method> all(methods.begin(), methods.end());
  if (all.count(Method::kGet) != 0) all.insert(Method::kHead);
  std::string out;
  for (Method m : all) {
    if (!out.empty()) out += ", ";
    out += MethodName(m);
  }
  return out;
}

Response InvokeHandler(const Route& route, const Request& request, const RouteParams& params,
                       const std::function<void(std::string_view)>& log) {
  try {
    return route.handler(request, params);
  } catch (const std::exception& e) {
    if (log) log("handler " + route.options.name + " threw: " + e.what());
  } catch (...) {
    if (log) log("handler " + route.options.name + " threw a non-standard exception");
  }
  return Response::Error(500, errors::kInternal, "internal error");
}

}  // namespace aloft::server::http
