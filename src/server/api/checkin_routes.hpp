#pragma once

// GET /api/v1/device/updates: the device's "anything for me?". Answered from the database:
// the deployment service decides (and tells the Director only when the answer changed), so
// the check-in of a device with nothing to do costs a token check, one device read, one
// rollout lookup and one Director version lookup, read together in one store::ReadScope —
// the path the check-in benchmark measures (bench/run_checkin.sh).

#include <cstdint>
#include <functional>
#include <string_view>

#include "server/api/device_routes.hpp"
#include "server/deployments/deployment_service.hpp"
#include "server/devices/last_seen.hpp"
#include "server/http/router.hpp"
#include "server/store/read_scopes.hpp"

namespace aloft::server::api {

struct CheckInDeps {
  DeviceApiDeps& device;
  deployments::DeploymentService& deployments;
  // The version of the device's latest Director targets (0 before the first), so an agent
  // can skip refreshing metadata that did not move.
  std::function<Result<std::int64_t>(std::string_view device_id)> director_targets_version;
  // Where the check-in's last-seen time goes: written behind in batches when set (aloftd),
  // else at once with DeviceStore::TouchDevice.
  devices::LastSeenRecorder* last_seen = nullptr;
  // Groups the check-in's reads into one consistent read when set.
  store::ReadScopes* read_scopes = nullptr;
};

Status RegisterCheckInRoutes(http::Router& router, CheckInDeps& deps);

}  // namespace aloft::server::api
