#include "server/api/checkin_routes.hpp"

#include "server/api/error_mapping.hpp"

namespace aloft::server::api {
namespace {

using http::Request;
using http::Response;

Response CheckIn(const Request& request, CheckInDeps& deps) {
  // Before the device read in AuthenticateDevice; a deferred snapshot costs nothing until the
  // first read, so a request refused before it reads anything pays (almost) nothing for it.
  const std::unique_ptr<store::ReadScope> reads =
      deps.read_scopes != nullptr ? deps.read_scopes->Begin() : nullptr;
  auto caller = AuthenticateDevice(request, deps.device);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const auto& who = std::get<DeviceCaller>(caller);
  // The row AuthenticateDevice read for this request (one device read per check-in).
  const store::DeviceState* row = &who.device;
  const Timestamp now = std::chrono::floor<std::chrono::seconds>(deps.device.clock.Now());
  if (deps.last_seen != nullptr) {
    deps.last_seen->Record(who.device_id, now);
  } else if (Status s = deps.device.devices.TouchDevice(who.device_id, now); !s) {
    return ErrorResponse(s.error());
  }
  deployments::DeviceView view;
  view.id = row->id;
  view.hardware_id = row->hardware_id;
  view.image_sha256 = row->inventory.image_sha256;
  view.image_version = row->inventory.image_version;
  view.attributes.insert(row->inventory.attributes.begin(), row->inventory.attributes.end());
  auto decision = deps.deployments.CheckIn(view);
  if (!decision) return ErrorResponse(decision.error());
  core::wire::CheckInResponse out;
  out.update_available = decision->update_available;
  out.deployment_id = decision->deployment_id;
  if (deps.director_targets_version) {
    auto version = deps.director_targets_version(who.device_id);
    if (!version) return ErrorResponse(version.error());
    out.director_targets_version = *version;
  }
  Response r = Response::Json(200, core::wire::ToJson(out));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

}  // namespace

Status RegisterCheckInRoutes(http::Router& router, CheckInDeps& deps) {
  http::RouteOptions options;
  options.max_body_bytes = 0;
  return router.Add(
      http::Method::kGet, "/api/v1/device/updates",
      [&deps](const Request& r, const http::RouteParams&) { return CheckIn(r, deps); }, options);
}

}  // namespace aloft::server::api
