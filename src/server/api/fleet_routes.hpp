#pragma once

// The fleet at a glance, for the console's overview: counts instead of device lists, so the
// page costs the same with 100 devices or 100,000.
//
//   GET /api/v1/fleet/summary   devices.read  devices per (status, hardware id, image version),
//                                             and accepted devices not seen for a day
//   GET /api/v1/fleet/history   devices.read  accepted devices per image version over time
//                                             (?hours=1..2160, default 168)

#include "core/base/time.hpp"
#include "server/api/management_common.hpp"
#include "server/devices/fleet_history.hpp"
#include "server/http/router.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::api {

struct FleetApiDeps {
  OperatorGate gate;
  store::DeviceStore& devices;
  devices::FleetHistory& history;
  const Clock& clock;
};

Status RegisterFleetRoutes(http::Router& router, FleetApiDeps& deps);

}  // namespace aloft::server::api
