#include "server/api/audit_routes.hpp"

#include <charconv>
#include <limits>

#include "core/codec/json.hpp"
#include "server/api/error_mapping.hpp"
#include "server/operators/audit_actions.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using http::Request;
using http::Response;
using operators::Principal;

constexpr std::int64_t kDefaultLimit = 100;
constexpr std::int64_t kMaxLimit = 1000;

// A query parameter as an integer in [min, max]; `fallback` when absent.
Result<std::int64_t> QueryInt(const Request& request, const std::string& name,
                              std::int64_t fallback, std::int64_t min, std::int64_t max) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  const std::string& text = it->second;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Fail(Errc::kInvalidArgument, "query parameter '" + name + "' must be an integer from " +
                                            std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

Response GetAudit(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, operators::Permission::kAuditRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto after = QueryInt(request, "after", 0, 0, std::numeric_limits<std::int64_t>::max());
  auto limit = QueryInt(request, "limit", kDefaultLimit, 1, kMaxLimit);
  if (!after) return BadRequest(after.error().message());
  if (!limit) return BadRequest(limit.error().message());
  auto records = deps.audit.List(*after, static_cast<std::size_t>(*limit));
  if (!records) return ErrorResponse(records.error());
  Json::Array list;
  std::int64_t next = *after;
  for (const auto& r : *records) {
    list.push_back(audit::ToJson(r));
    next = r.seq;
  }
  return Response::Json(200, Json::Object{{"records", std::move(list)}, {"next_after", next}});
}

Response GetAuditVerify(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, operators::Permission::kAuditRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto report = deps.audit.Verify();
  if (!report) return ErrorResponse(report.error());
  return Response::Json(200, audit::ToJson(*report));
}

Response GetAuditExport(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, operators::Permission::kAuditRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto after = QueryInt(request, "after", 0, 0, std::numeric_limits<std::int64_t>::max());
  if (!after) return BadRequest(after.error().message());
  std::string body;
  std::int64_t last = *after;
  bool truncated = false;
  Status s = deps.audit.Export(*after, [&](const audit::AuditRecord& r) {
    std::string line = core::codec::DumpJson(audit::ToJson(r)) + "\n";
    if (body.size() + line.size() > kMaxExportBytes && !body.empty()) {
      truncated = true;
      return false;
    }
    body += line;
    last = r.seq;
    return true;
  });
  if (!s) return ErrorResponse(s.error());
  const Principal& p = std::get<Principal>(caller);
  AuditRequest(deps, p.username, operators::actions::kAuditExport, "audit",
               audit::Outcome::kSuccess, Json::Object{{"after", *after}, {"through", last}});
  Response r = Response::Text(200, "application/x-ndjson", std::move(body));
  if (truncated) r.headers.Set(kNextAfterHeader, std::to_string(last));
  return r;
}

}  // namespace

Status RegisterAuditRoutes(http::Router& router, OperatorApiDeps& deps) {
  struct Entry {
    const char* pattern;
    Response (*handler)(const Request&, OperatorApiDeps&);
  };
  const Entry entries[] = {
      {"/api/v1/audit", &GetAudit},
      {"/api/v1/audit/verify", &GetAuditVerify},
      {"/api/v1/audit/export", &GetAuditExport},
  };
  http::RouteOptions options;
  options.max_body_bytes = 1024;  // GETs: a body means nothing here
  for (const Entry& e : entries) {
    auto handler = e.handler;
    Status s = router.Add(
        http::Method::kGet, e.pattern,
        [handler, &deps](const Request& r, const http::RouteParams&) { return handler(r, deps); },
        options);
    if (!s) return s;
  }
  return Ok();
}

}  // namespace aloft::server::api
