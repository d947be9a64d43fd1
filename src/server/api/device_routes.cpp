#include "server/api/device_routes.hpp"

#include "core/codec/json.hpp"
#include "core/wire/device_api.hpp"
#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
namespace wire = core::wire;

constexpr std::uint64_t kSmallBody = 16 * 1024;      // enroll, auth, inventory
constexpr std::uint64_t kReportsBody = 2 * 1024 * 1024;  // up to 100 reports with log tails

// Parses a JSON body with a parser limit matching the route's body cap.
Result<core::codec::Json> JsonBody(const Request& request) {
  core::codec::ParseLimits limits;
  limits.max_bytes = request.body.size();
  limits.max_depth = 16;
  auto json = core::codec::ParseJson(request.body, limits);
  if (!json) return Fail(Errc::kInvalidArgument, "body: " + json.error().message());
  return json;
}

Response Unauthorized(std::string_view message) {
  Response r = Response::Error(401, "unauthorized", message);
  r.headers.Set("WWW-Authenticate", "Bearer");
  return r;
}

Response Enroll(const Request& request, DeviceApiDeps& deps) {
  auto json = JsonBody(request);
  if (!json) return ErrorResponse(json.error());
  auto enroll = wire::ParseEnrollRequest(*json);
  if (!enroll) return ErrorResponse(enroll.error());
  auto result = deps.enrollment.Enroll(*enroll);
  if (!result) return ErrorResponse(result.error());
  // 202 while an operator has not decided; 200 once accepted.
  int status = result->status == wire::EnrollmentStatus::kAccepted ? 200 : 202;
  if (result->status == wire::EnrollmentStatus::kRejected ||
      result->status == wire::EnrollmentStatus::kDecommissioned) {
    status = 403;
  }
  return Response::Json(status, wire::ToJson(*result));
}

Response Authenticate(const Request& request, DeviceApiDeps& deps) {
  auto json = JsonBody(request);
  if (!json) return ErrorResponse(json.error());
  auto auth = wire::ParseAuthRequest(*json);
  if (!auth) return ErrorResponse(auth.error());
  auto device = deps.authenticator.Authenticate(*auth);
  if (!device) {
    switch (device.error().code()) {
      case Errc::kVerificationFailed:
      case Errc::kRollback: return Unauthorized("device authentication failed");
      case Errc::kInvalidArgument:
        return Response::Error(403, "device_not_accepted", device.error().message());
      default: return ErrorResponse(device.error());
    }
  }
  auto token = deps.tokens.Issue("device", device->device_id);
  if (!token) return ErrorResponse(token.error());
  Timestamp now = std::chrono::floor<std::chrono::seconds>(deps.clock.Now());
  Response r =
      Response::Json(200, wire::ToJson(wire::AuthResponse{*token, now + deps.tokens.lifetime()}));
  return r;
}

Response PutInventory(const Request& request, DeviceApiDeps& deps) {
  auto caller = AuthenticateDevice(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const auto& device = std::get<DeviceCaller>(caller);
  auto json = JsonBody(request);
  if (!json) return ErrorResponse(json.error());
  auto inventory = wire::ParseInventory(*json);
  if (!inventory) return ErrorResponse(inventory.error());
  if (inventory->hardware_id != device.hardware_id) {
    return Response::Error(409, "hardware_mismatch",
                           "inventory names hardware '" + inventory->hardware_id +
                               "', the device enrolled as '" + device.hardware_id + "'");
  }
  Timestamp now = std::chrono::floor<std::chrono::seconds>(deps.clock.Now());
  if (Status s = deps.devices.RecordInventory(device.device_id, *inventory, now); !s) {
    return ErrorResponse(s.error());
  }
  return Response::Text(204, "text/plain", "");
}

Response PostReports(const Request& request, DeviceApiDeps& deps) {
  auto caller = AuthenticateDevice(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const auto& device = std::get<DeviceCaller>(caller);
  auto json = JsonBody(request);
  if (!json) return ErrorResponse(json.error());
  auto batch = wire::ParseReportBatch(*json);
  if (!batch) return ErrorResponse(batch.error());
  Timestamp now = std::chrono::floor<std::chrono::seconds>(deps.clock.Now());
  wire::ReportAck ack;
  // Reports are stored one by one in order; the ack lists what is durably stored, so a device
  // that loses the answer resends and the duplicates are recognised by id.
  for (const wire::Report& report : batch->reports) {
    auto stored = deps.reports.AddReport(device.device_id, report, now);
    if (!stored) {
      if (ack.accepted_ids.empty()) return ErrorResponse(stored.error());
      break;
    }
    if (*stored && deps.on_new_report) deps.on_new_report(device.device_id, report);
    ack.accepted_ids.push_back(report.id);
  }
  return Response::Json(200, wire::ToJson(ack));
}

}  // namespace

std::variant<DeviceCaller, Response> AuthenticateDevice(const Request& request,
                                                        DeviceApiDeps& deps) {
  std::string_view header = request.headers.Get("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header.starts_with(kBearer)) return Unauthorized("a device token is required");
  auto claims = deps.tokens.Verify(header.substr(kBearer.size()), "device");
  if (!claims) {
    return Unauthorized(claims.error().code() == Errc::kExpired ? "token expired"
                                                                : "invalid token");
  }
  auto decision = deps.per_device_limit.Take(claims->subject);
  if (!decision.allowed) {
    Response r = Response::Error(429, http::errors::kRateLimited, "too many requests");
    r.headers.Set("Retry-After", std::to_string(decision.retry_after.count()));
    return r;
  }
  // Looked up on every request: a revoked device stops at its next request, not at expiry.
  auto device = deps.devices.GetDeviceState(claims->subject);
  if (!device) {
    if (device.error().code() == Errc::kNotFound) return Unauthorized("invalid token");
    return ErrorResponse(device.error());
  }
  if (device->status != wire::EnrollmentStatus::kAccepted) {
    return Response::Error(403, "device_not_accepted",
                           "device is " + std::string(wire::EnrollmentStatusName(device->status)));
  }
  DeviceCaller caller{device->id, device->hardware_id, {}};
  caller.device = std::move(*device);
  return caller;
}

Status RegisterDeviceRoutes(http::Router& router, DeviceApiDeps& deps) {
  struct Entry {
    Method method;
    const char* pattern;
    Response (*handler)(const Request&, DeviceApiDeps&);
    std::uint64_t max_body;
  };
  // clang-format off
  const Entry entries[] = {
      {Method::kPost, "/api/v1/device/enroll",    &Enroll,       kSmallBody},
      {Method::kPost, "/api/v1/device/auth",      &Authenticate, kSmallBody},
      {Method::kPut,  "/api/v1/device/inventory", &PutInventory, kSmallBody},
      {Method::kPost, "/api/v1/device/reports",   &PostReports,  kReportsBody},
  };
  // clang-format on
  for (const Entry& e : entries) {
    http::RouteOptions options;
    options.max_body_bytes = e.max_body;
    auto handler = e.handler;
    Status s = router.Add(
        e.method, e.pattern,
        [handler, &deps](const Request& r, const RouteParams&) { return handler(r, deps); },
        options);
    if (!s) return s;
  }
  return Ok();
}

}  // namespace aloft::server::api
