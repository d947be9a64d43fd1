// /metrics: request counters and latency (fed by the transport), and gauges read from the
// database at scrape time — devices by state and version, rollout progress.

#include <iostream>

#include "core/crypto/hash.hpp"
#include "platform/posix/key_files.hpp"
#include "server/app/parts.hpp"
#include "server/deployments/deployment_json.hpp"

namespace aloft::server::app {

Status WireMetrics(Aloftd::Parts& p) {
  p.http_requests = &p.metrics.Counter("aloft_http_requests_total",
                                       "HTTP requests by route and status.", {"route", "status"});
  p.http_latency = &p.metrics.Histogram(
      "aloft_http_request_duration_seconds", "Time from request head to response sent.",
      {"route"}, {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10});
  p.metrics.Gauge("aloft_devices", "Devices by enrollment status, hardware id and image version.",
                  {"status", "hardware_id", "image_version"}, [&p] {
                    std::vector<metrics::GaugeSample> out;
                    auto counts = p.store->CountDevices();
                    if (!counts) return out;
                    for (const auto& c : *counts) {
                      out.push_back({{std::string(core::wire::EnrollmentStatusName(c.status)),
                                      c.hardware_id, c.image_version},
                                     static_cast<double>(c.count)});
                    }
                    return out;
                  });
  p.metrics.Gauge(
      "aloft_rollout_devices", "Devices of each active or paused deployment by rollout state.",
      {"deployment", "release", "state"}, [&p] {
        std::vector<metrics::GaugeSample> out;
        for (auto state : {deployments::DeploymentState::kActive, deployments::DeploymentState::kPaused}) {
          auto views = p.deployments->List(state);
          if (!views) continue;
          for (const auto& view : *views) {
            const auto json = deployments::ToJson(view.counts);
            for (const auto& [name, value] : json.AsObject()) {
              if (!value.IsInt()) continue;
              out.push_back({{view.deployment.id, view.deployment.release, name},
                             static_cast<double>(value.AsInt())});
            }
          }
        }
        return out;
      });
  p.metrics.Gauge("aloft_deployments", "Deployments by state.", {"state"}, [&p] {
    std::vector<metrics::GaugeSample> out;
    for (auto state : {deployments::DeploymentState::kActive, deployments::DeploymentState::kPaused,
                       deployments::DeploymentState::kCompleted,
                       deployments::DeploymentState::kCancelled}) {
      auto views = p.deployments->List(state);
      if (!views) continue;
      out.push_back({{std::string(deployments::DeploymentStateName(state))},
                     static_cast<double>(views->size())});
    }
    return out;
  });

  std::string token_sha256;
  if (!p.config.metrics_token_file.empty()) {
    auto token = platform::posix::ReadPrivateKeyFile(p.config.metrics_token_file);
    if (!token) return Fail(std::move(token).error().WithContext("metrics.token_file"));
    std::string text = *token;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.size() < 16) {
      return Fail(Errc::kInvalidArgument,
                  "metrics.token_file: the token must be at least 16 characters");
    }
    token_sha256 = core::crypto::Sha256Hex(ToBytes(text));
  }
  p.metrics_deps = std::make_unique<api::MetricsDeps>(api::MetricsDeps{p.metrics, token_sha256});
  return api::RegisterMetricsRoutes(p.router, *p.metrics_deps);
}

}  // namespace aloft::server::app
