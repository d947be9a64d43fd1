// The operators' half of aloftd: accounts and sessions, the audit trail, devices, releases,
// deployments and the web console. Every route passes the same operator gate.

#include "core/codec/json.hpp"
#include "server/api/audit_routes.hpp"
#include "server/api/operator_routes.hpp"
#include "server/app/parts.hpp"

namespace aloft::server::app {

Status WireManagement(Aloftd::Parts& p) {
  const config::ServerConfig& config = p.config;
  p.operator_store = std::make_unique<operators::sqlite::SqliteOperatorStore>(*p.pool);
  auto operators = operators::OperatorService::Create(*p.operator_store, *p.audit, p.clock);
  if (!operators) return Fail(operators.error());
  p.operators = std::move(*operators);
  p.operator_deps = std::make_unique<api::OperatorApiDeps>(api::OperatorApiDeps{
      *p.operators, *p.audit, config.behind_tls_proxy && config.public_url.starts_with("https://")});
  if (Status s = api::RegisterOperatorRoutes(p.router, *p.operator_deps); !s) return s;
  if (Status s = api::RegisterAuditRoutes(p.router, *p.operator_deps); !s) return s;

  api::OperatorGate gate = [&p](const http::Request& request, operators::Permission permission) {
    return api::AuthenticateOperator(request, *p.operator_deps, permission);
  };

  p.device_admin_deps = std::make_unique<api::DeviceAdminDeps>(api::DeviceAdminDeps{
      gate, *p.audit, *p.enrollment, *p.store, *p.store,
      [&p](std::string_view device_id) -> std::optional<core::codec::Json> {
        auto history = p.deployment_store->DeviceHistory(device_id);
        if (!history || history->empty()) return std::nullopt;
        const deployments::DeviceRollout& latest = history->front().rollout;
        return core::codec::Json::Object{
            {"id", latest.deployment_id},
            {"state", std::string(deployments::RolloutStateName(latest.state))}};
      }});
  if (Status s = api::RegisterDeviceAdminRoutes(p.router, *p.device_admin_deps); !s) return s;

  core::codec::Json online_keys = core::codec::Json::Object{
      {"snapshot", core::codec::Json::Object{{"keyid", p.online_keys->image_snapshot.KeyId()},
                                             {"key", p.online_keys->image_snapshot.Public().ToTufJson()}}},
      {"timestamp",
       core::codec::Json::Object{{"keyid", p.online_keys->image_timestamp.KeyId()},
                                 {"key", p.online_keys->image_timestamp.Public().ToTufJson()}}}};
  p.release_deps = std::make_unique<api::ReleaseApiDeps>(api::ReleaseApiDeps{
      gate, *p.audit, *p.blobs, *p.image_repo, *p.releases, std::move(online_keys),
      [&p]() { return p.director_repo->Root(); },
      static_cast<std::uint64_t>(config.max_artifact_bytes)});
  if (Status s = api::RegisterReleaseRoutes(p.router, *p.release_deps); !s) return s;

  p.deployment_deps =
      std::make_unique<api::DeploymentApiDeps>(api::DeploymentApiDeps{gate, *p.audit, *p.deployments});
  if (Status s = api::RegisterDeploymentRoutes(p.router, *p.deployment_deps); !s) return s;

  if (!config.console_dir.empty()) {
    p.console_deps = std::make_unique<api::ConsoleDeps>(api::ConsoleDeps{config.console_dir});
    if (Status s = api::RegisterConsole(p.router, *p.console_deps); !s) return s;
  }
  return Ok();
}

}  // namespace aloft::server::app
