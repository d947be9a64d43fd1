#include "server/api/management_common.hpp"

#include <iostream>

namespace aloft::server::api {

Result<core::codec::Json> ParseJsonBody(const http::Request& request) {
  if (request.body.empty()) return Fail(Errc::kInvalidArgument, "body: a JSON object is required");
  core::codec::ParseLimits limits;
  limits.max_bytes = request.body.size();
  limits.max_depth = 16;
  auto json = core::codec::ParseJson(request.body, limits);
  if (!json) return Fail(Errc::kInvalidArgument, "body: " + json.error().message());
  if (!json->IsObject()) return Fail(Errc::kInvalidArgument, "body: must be a JSON object");
  return json;
}

void AuditAction(audit::AuditLog& log, const operators::Principal& who, std::string_view action,
                 std::string_view target, audit::Outcome outcome, core::codec::Json details) {
  audit::AuditEvent event;
  event.actor = who.username;
  event.action = std::string(action);
  event.target = std::string(target.substr(0, audit::kMaxAuditFieldBytes));
  event.outcome = outcome;
  event.details = std::move(details);
  if (auto appended = log.Append(event); !appended) {
    std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                     {"level", "error"},
                     {"event", "audit_append_failed"},
                     {"action", std::string(action)},
                     {"error", appended.error().ToString()}}) +
                     "\n";
  }
}

Result<std::int64_t> QueryInt(const http::Request& request, std::string_view name,
                              std::int64_t min, std::int64_t max, std::int64_t fallback) {
  auto it = request.query.find(std::string(name));
  if (it == request.query.end() || it->second.empty()) return fallback;
  std::int64_t value = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9' || value > max) {
      return Fail(Errc::kInvalidArgument, "query parameter '" + std::string(name) +
                                              "' must be an integer between " +
                                              std::to_string(min) + " and " + std::to_string(max));
    }
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) {
    return Fail(Errc::kInvalidArgument, "query parameter '" + std::string(name) +
                                            "' must be between " + std::to_string(min) + " and " +
                                            std::to_string(max));
  }
  return value;
}

}  // namespace aloft::server::api
