#pragma once

// Rollouts, as operators drive them (business rules in server/deployments):
//
//   POST /api/v1/deployments                  deployments.manage
//   GET  /api/v1/deployments                  deployments.read   (?state=)
//   GET  /api/v1/deployments/{id}             deployments.read
//   POST /api/v1/deployments/{id}/pause       deployments.manage {"reason"?}
//   POST /api/v1/deployments/{id}/resume      deployments.manage
//   POST /api/v1/deployments/{id}/cancel      deployments.manage
//   POST /api/v1/deployments/pause-all        deployments.emergency {"reason"} (kill switch)

#include "server/api/management_common.hpp"
#include "server/deployments/deployment_service.hpp"
#include "server/http/router.hpp"

namespace aloft::server::api {

struct DeploymentApiDeps {
  OperatorGate gate;
  audit::AuditLog& audit;
  deployments::DeploymentService& deployments;
};

Status RegisterDeploymentRoutes(http::Router& router, DeploymentApiDeps& deps);

}  // namespace aloft::server::api
