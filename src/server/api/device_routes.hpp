#pragma once

// The device API (core/wire/device_api.hpp) on the HTTP router: enrollment, authentication,
// inventory and reports. Handlers parse and bound the body, call the domain, and map its
// errors; they hold no state of their own.

#include "core/base/time.hpp"
#include "server/auth/device_authenticator.hpp"
#include "server/auth/token_service.hpp"
#include "server/devices/enrollment_service.hpp"
#include "server/http/rate_limiter.hpp"
#include "server/http/router.hpp"

#include <functional>
#include <variant>

#include "core/wire/device_api.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::api {

struct DeviceApiDeps {
  devices::EnrollmentService& enrollment;
  auth::DeviceAuthenticator& authenticator;
  auth::TokenService& tokens;
  store::DeviceStore& devices;
  store::ReportStore& reports;
  http::RateLimiter& per_device_limit;  // applied to authenticated device requests
  const Clock& clock;
  // Called once for each report stored for the first time (not for resends), after it is
  // stored: the deployments follow the devices' progress through it. Optional.
  std::function<void(std::string_view device_id, const core::wire::Report& report)>
      on_new_report = {};
};

// Registers the device routes. `deps` must outlive the router.
Status RegisterDeviceRoutes(http::Router& router, DeviceApiDeps& deps);

// The authenticated device behind a request: a valid device token for a device that is still
// accepted (so revocation takes effect at the device's next request), within its rate limit.
// On failure, the response to send (401, 403 or 429).
struct DeviceCaller {
  std::string device_id;
  std::string hardware_id;
  store::DeviceState device;  // as read for this request, so a handler need not read it again
};
std::variant<DeviceCaller, http::Response> AuthenticateDevice(const http::Request& request,
                                                              DeviceApiDeps& deps);

}  // namespace aloft::server::api
