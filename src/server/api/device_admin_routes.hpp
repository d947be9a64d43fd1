#pragma once

// The operators' side of the fleet: list and inspect devices, decide about enrollments,
// revoke devices, preauthorize keys and issue fleet enrollment tokens.
//
//   GET  /api/v1/devices                     devices.read   (?status ?hardware_id ?image_version ?after ?limit)
//   GET  /api/v1/devices/{id}                devices.read   (with the last reports)
//   POST /api/v1/devices/{id}/accept         devices.manage
//   POST /api/v1/devices/{id}/reject         devices.manage
//   POST /api/v1/devices/{id}/revoke         devices.manage (decommission; takes effect at the
//                                                            device's next request)
//   POST /api/v1/devices/preauthorize        devices.manage
//   POST /api/v1/enrollment-tokens           devices.manage
//
// Every change is audited with the operator's name.

#include <functional>
#include <optional>

#include "server/api/management_common.hpp"
#include "server/devices/enrollment_service.hpp"
#include "server/http/router.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::api {

struct DeviceAdminDeps {
  OperatorGate gate;
  audit::AuditLog& audit;
  devices::EnrollmentService& enrollment;
  store::DeviceStore& devices;
  store::ReportStore& reports;
  // The device's current deployment and its state there ({"id","state"}), when it has one.
  std::function<std::optional<core::codec::Json>(std::string_view device_id)> deployment_of;
};

Status RegisterDeviceAdminRoutes(http::Router& router, DeviceAdminDeps& deps);

// The API's view of one device.
core::codec::Json DeviceJson(const store::DeviceRow& device);

}  // namespace aloft::server::api
