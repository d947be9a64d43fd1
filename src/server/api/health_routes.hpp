#pragma once

// /healthz (the process answers) and /readyz (it can reach its database), for load balancers
// and orchestrators. Neither needs authentication; neither says more than ok / not ready.

#include "platform/sqlite/connection_pool.hpp"
#include "server/http/router.hpp"

namespace aloft::server::api {

struct HealthDeps {
  platform::sqlite::ConnectionPool& pool;
};

Status RegisterHealthRoutes(http::Router& router, HealthDeps& deps);

}  // namespace aloft::server::api
