#include "server/api/fleet_routes.hpp"

#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;

// "Not seen for long" on the overview: a device that polls at all checks in within a day.
constexpr std::chrono::hours kNotSeenAfter{24};
constexpr std::int64_t kMaxHistoryHours = 24 * 90;  // the history's retention

Response Summary(const Request& request, FleetApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto counts = deps.devices.CountDevices();
  if (!counts) return ErrorResponse(counts.error());
  const Timestamp since = deps.clock.Now() - kNotSeenAfter;
  auto not_seen = deps.devices.CountAcceptedNotSeenSince(since);
  if (!not_seen) return ErrorResponse(not_seen.error());
  std::int64_t total = 0;
  Json::Array groups;
  for (const store::DeviceCount& c : *counts) {
    total += c.count;
    groups.push_back(Json::Object{{"status", std::string(core::wire::EnrollmentStatusName(c.status))},
                                  {"hardwareId", c.hardware_id},
                                  {"imageVersion", c.image_version},
                                  {"devices", c.count}});
  }
  return Response::Json(
      200, Json::Object{{"total", total},
                        {"groups", std::move(groups)},
                        {"notSeen", Json::Object{{"since", FormatTimestamp(since)},
                                                 {"devices", *not_seen}}}});
}

Response History(const Request& request, FleetApiDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto hours = QueryInt(request, "hours", 1, kMaxHistoryHours, 24 * 7);
  if (!hours) return ErrorResponse(hours.error());
  auto samples = deps.history.Recent(std::chrono::hours(*hours));
  if (!samples) return ErrorResponse(samples.error());
  Json::Array out;
  for (const store::FleetSample& sample : *samples) {
    Json::Object versions;
    for (const store::VersionCount& v : sample.versions) versions.emplace(v.image_version, v.devices);
    out.push_back(Json::Object{{"at", FormatTimestamp(sample.at)}, {"versions", std::move(versions)}});
  }
  return Response::Json(
      200, Json::Object{{"intervalSeconds", static_cast<std::int64_t>(deps.history.interval().count())},
                        {"samples", std::move(out)}});
}

}  // namespace

Status RegisterFleetRoutes(http::Router& router, FleetApiDeps& deps) {
  http::RouteOptions get;
  get.max_body_bytes = 0;
  const http::RouteSpec routes[] = {
      {Method::kGet, "/api/v1/fleet/summary",
       [&deps](const Request& r, const RouteParams&) { return Summary(r, deps); }, get},
      {Method::kGet, "/api/v1/fleet/history",
       [&deps](const Request& r, const RouteParams&) { return History(r, deps); }, get},
  };
  return router.AddAll(routes);
}

}  // namespace aloft::server::api
