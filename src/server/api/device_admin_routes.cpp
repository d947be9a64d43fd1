#include "server/api/device_admin_routes.hpp"

#include "core/crypto/keys.hpp"
#include "core/wire/device_api.hpp"
#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;
using operators::Principal;
namespace wire = core::wire;
using core::codec::Json;

constexpr std::int64_t kMaxEnrollmentTokenUses = 1'000'000;
constexpr std::int64_t kMaxEnrollmentTokenHours = 24 * 365;

Json ReportJson(const wire::Report& report) { return wire::ToJson(report); }

Response ListDevices(const Request& request, DeviceAdminDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  store::DeviceFilter filter;
  if (auto it = request.query.find("status"); it != request.query.end()) {
    auto status = wire::ParseEnrollmentStatus(it->second);
    if (!status) return BadRequest("status must be pending, accepted, rejected or decommissioned");
    filter.status = *status;
  }
  if (auto it = request.query.find("hardware_id"); it != request.query.end()) {
    if (!wire::IsValidId(it->second)) return BadRequest("hardware_id is not a valid id");
    filter.hardware_id = it->second;
  }
  if (auto it = request.query.find("image_version"); it != request.query.end()) {
    if (it->second.size() > wire::kMaxIdBytes) return BadRequest("image_version is too long");
    filter.image_version = it->second;
  }
  if (auto it = request.query.find("tag"); it != request.query.end() && !it->second.empty()) {
    if (!wire::IsValidId(it->second)) return BadRequest("tag is not a valid tag");
    filter.tag = it->second;
  }
  if (auto it = request.query.find("after"); it != request.query.end()) {
    if (!it->second.empty() && !wire::IsValidId(it->second)) return BadRequest("after is not a device id");
    filter.after_id = it->second;
  }
  auto limit = QueryInt(request, "limit", 1, 1000, 100);
  if (!limit) return ErrorResponse(limit.error());
  filter.limit = static_cast<std::size_t>(*limit);
  auto rows = deps.devices.ListDevices(filter);
  if (!rows) return ErrorResponse(rows.error());
  Json::Array list;
  for (const auto& row : *rows) {
    Json device = DeviceJson(row);
    if (deps.deployment_of) {
      if (auto deployment = deps.deployment_of(row.id)) device["deployment"] = std::move(*deployment);
    }
    list.push_back(std::move(device));
  }
  Json body = Json::Object{{"devices", std::move(list)}};
  // A full page may have a next one; the client passes next_after back as ?after=.
  body["next_after"] = rows->size() == filter.limit && !rows->empty() ? Json(rows->back().id) : Json();
  return Response::Json(200, body);
}

Response GetDevice(const Request& request, const RouteParams& params, DeviceAdminDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesRead);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string& id = params.at("id");
  if (!wire::IsValidId(id)) return Response::Error(404, http::errors::kNotFound, "no such device");
  auto row = deps.devices.GetDevice(id);
  if (!row) return ErrorResponse(row.error());
  Json device = DeviceJson(*row);
  auto reports = deps.reports.RecentReports(id, 20);
  if (!reports) return ErrorResponse(reports.error());
  Json::Array list;
  for (const auto& report : *reports) list.push_back(ReportJson(report));
  device["reports"] = std::move(list);
  if (deps.deployment_of) {
    if (auto deployment = deps.deployment_of(id)) device["deployment"] = std::move(*deployment);
  }
  return Response::Json(200, device);
}

Response Decide(const Request& request, const RouteParams& params, DeviceAdminDeps& deps,
                std::string_view decision) {
  auto caller = deps.gate(request, Permission::kDevicesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  const std::string& id = params.at("id");
  if (!wire::IsValidId(id)) return Response::Error(404, http::errors::kNotFound, "no such device");
  Status s = decision == "accept"   ? deps.enrollment.Accept(id)
             : decision == "reject" ? deps.enrollment.Reject(id)
                                    : deps.enrollment.Decommission(id);
  const std::string action = "device." + std::string(decision);
  if (!s) {
    AuditAction(deps.audit, who, action, id, audit::Outcome::kFailure,
                Json::Object{{"error", s.error().message()}});
    return ErrorResponse(s.error());
  }
  AuditAction(deps.audit, who, action, id, audit::Outcome::kSuccess);
  auto row = deps.devices.GetDevice(id);
  if (!row) return ErrorResponse(row.error());
  return Response::Json(200, DeviceJson(*row));
}

Response Preauthorize(const Request& request, DeviceAdminDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto body = ParseJsonBody(request);
  if (!body) return ErrorResponse(body.error());
  auto device_id = core::codec::GetString(*body, "device_id");
  if (!device_id) return ErrorResponse(device_id.error());
  auto hardware_id = core::codec::GetString(*body, "hardware_id");
  if (!hardware_id) return ErrorResponse(hardware_id.error());
  const Json* key = body->Find("public_key");
  if (key == nullptr || !key->IsObject()) return BadRequest("public_key must be a TUF key object");
  if (!wire::IsValidId(*device_id) || !wire::IsValidId(*hardware_id)) {
    return BadRequest("device_id and hardware_id must be 1-128 characters of [A-Za-z0-9._:-]");
  }
  Status s = deps.enrollment.PreauthorizeKey(*device_id, *hardware_id, *key);
  if (!s) {
    AuditAction(deps.audit, who, "device.preauthorize", *device_id, audit::Outcome::kFailure,
                Json::Object{{"error", s.error().message()}});
    return ErrorResponse(s.error());
  }
  AuditAction(deps.audit, who, "device.preauthorize", *device_id, audit::Outcome::kSuccess,
              Json::Object{{"hardware_id", *hardware_id}});
  return Response::Json(201, Json::Object{{"device_id", *device_id}, {"hardware_id", *hardware_id}});
}

Response CreateEnrollmentToken(const Request& request, DeviceAdminDeps& deps) {
  auto caller = deps.gate(request, Permission::kDevicesManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& who = std::get<Principal>(caller);
  auto body = ParseJsonBody(request);
  if (!body) return ErrorResponse(body.error());
  auto uses = core::codec::GetInt(*body, "uses");
  if (!uses) return ErrorResponse(uses.error());
  auto hours = core::codec::GetInt(*body, "valid_hours");
  if (!hours) return ErrorResponse(hours.error());
  if (*uses < 1 || *uses > kMaxEnrollmentTokenUses) return BadRequest("uses must be 1-1000000");
  if (*hours < 1 || *hours > kMaxEnrollmentTokenHours) return BadRequest("valid_hours must be 1-8760");
  auto token = deps.enrollment.CreateEnrollmentToken(std::chrono::hours(*hours), *uses);
  if (!token) return ErrorResponse(token.error());
  AuditAction(deps.audit, who, "enrollment_token.create", token->id, audit::Outcome::kSuccess,
              Json::Object{{"uses", *uses}, {"valid_hours", *hours}});
  // The secret is shown once and stored only as a hash.
  return Response::Json(201, Json::Object{{"id", token->id},
                                          {"token", token->secret},
                                          {"expires", FormatTimestamp(token->expires_at)},
                                          {"uses", *uses}});
}

}  // namespace

Json DeviceJson(const store::DeviceRow& device) {
  Json::Object attributes;
  for (const auto& [k, v] : device.inventory.attributes) attributes.emplace(k, v);
  return Json::Object{
      {"id", device.id},
      {"hardware_id", device.hardware_id},
      {"status", wire::EnrollmentStatusName(device.status)},
      {"key_id", device.key_id},
      {"image_version", device.inventory.image_version},
      {"image_sha256", device.inventory.image_sha256},
      {"security_counter", device.inventory.security_counter},
      {"agent_version", device.inventory.agent_version},
      {"attributes", std::move(attributes)},
      {"created", FormatTimestamp(device.created_at)},
      {"last_seen", device.last_seen_at ? Json(FormatTimestamp(*device.last_seen_at)) : Json()}};
}

Status RegisterDeviceAdminRoutes(http::Router& router, DeviceAdminDeps& deps) {
  http::RouteOptions get;
  get.max_body_bytes = 0;
  http::RouteOptions post;
  post.max_body_bytes = 16 * 1024;
  const http::RouteSpec routes[] = {
      {Method::kGet, "/api/v1/devices",
       [&deps](const Request& r, const RouteParams&) { return ListDevices(r, deps); }, get},
      {Method::kGet, "/api/v1/devices/{id}",
       [&deps](const Request& r, const RouteParams& p) { return GetDevice(r, p, deps); }, get},
      {Method::kPost, "/api/v1/devices/{id}/accept",
       [&deps](const Request& r, const RouteParams& p) { return Decide(r, p, deps, "accept"); },
       post},
      {Method::kPost, "/api/v1/devices/{id}/reject",
       [&deps](const Request& r, const RouteParams& p) { return Decide(r, p, deps, "reject"); },
       post},
      {Method::kPost, "/api/v1/devices/{id}/revoke",
       [&deps](const Request& r, const RouteParams& p) { return Decide(r, p, deps, "revoke"); },
       post},
      {Method::kPost, "/api/v1/devices/preauthorize",
       [&deps](const Request& r, const RouteParams&) { return Preauthorize(r, deps); }, post},
      {Method::kPost, "/api/v1/enrollment-tokens",
       [&deps](const Request& r, const RouteParams&) { return CreateEnrollmentToken(r, deps); },
       post},
  };
  return router.AddAll(routes);
}

}  // namespace aloft::server::api
