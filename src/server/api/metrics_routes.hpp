#pragma once

// GET /metrics: the Prometheus exposition. Fleet sizes and rollout progress are operational
// intelligence, so the endpoint is not public: with a scrape token configured it needs
// `Authorization: Bearer <token>`; without one it answers loopback peers only (a Prometheus
// or node agent on the same host).

#include <string>

#include "server/http/router.hpp"
#include "server/metrics/registry.hpp"

namespace aloft::server::api {

struct MetricsDeps {
  metrics::Registry& registry;
  // Hex SHA-256 of the scrape token; empty: loopback peers only.
  std::string token_sha256;
};

Status RegisterMetricsRoutes(http::Router& router, MetricsDeps& deps);

// Whether `peer` is a loopback address ("127.x.y.z", "::1", "::ffff:127.x.y.z").
bool IsLoopbackPeer(std::string_view peer) noexcept;

}  // namespace aloft::server::api
