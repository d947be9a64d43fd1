// The operators' half of aloftd: accounts and sessions, the audit trail, devices, releases,
// deployments and the web console. Every route passes the same operator gate.

#include <iostream>

#include "core/codec/json.hpp"
#include "platform/posix/files.hpp"
#include "server/api/audit_routes.hpp"
#include "server/api/operator_routes.hpp"
#include "server/app/parts.hpp"
#include "server/operators/totp_seed_migration.hpp"

namespace aloft::server::app {
namespace {

// The online keys in use, with the times their key files were written (their age).
std::vector<api::OnlineKeyInfo> OnlineKeyInfos(const Aloftd::Parts& p) {
  const repo::ImageOnlineKeys image = p.image_repo->OnlineKeyPairs().current;
  const std::pair<std::string_view, const core::crypto::PrivateKey*> keys[] = {
      {"image-snapshot", &image.snapshot},
      {"image-timestamp", &image.timestamp},
      {"director-root", &p.online_keys->director_root},
      {"director-targets", &p.online_keys->director_targets},
      {"director-snapshot", &p.online_keys->director_snapshot},
      {"director-timestamp", &p.online_keys->director_timestamp}};
  std::vector<api::OnlineKeyInfo> out;
  for (const auto& [name, key] : keys) {
    auto written = platform::posix::ModifiedTime(p.config.secrets_dir() / (std::string(name) + ".pem"));
    out.push_back({std::string(name), key->KeyId(),
                   written ? std::optional<Timestamp>(*written) : std::nullopt});
  }
  return out;
}

}  // namespace

Status WireManagement(Aloftd::Parts& p) {
  const config::ServerConfig& config = p.config;
  p.operator_store = std::make_unique<operators::sqlite::SqliteOperatorStore>(*p.pool);
  // Seeds an older aloftd stored in the clear are sealed before anyone can sign in.
  auto sealed = operators::SealPlaintextTotpSeeds(*p.operator_store, *p.totp_cipher);
  if (!sealed) return Fail(std::move(sealed).error().WithContext("sealing TOTP seeds"));
  if (*sealed > 0) {
    std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                     {"level", "info"}, {"event", "totp_seeds_sealed"}, {"count", *sealed}})
              << "\n";
  }
  auto operators =
      operators::OperatorService::Create(*p.operator_store, *p.audit, p.clock, *p.totp_cipher);
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

  p.fleet_samples = std::make_unique<store::sqlite::SqliteFleetHistoryStore>(*p.pool);
  p.fleet_history = std::make_unique<devices::FleetHistory>(*p.store, *p.fleet_samples, p.clock,
                                                            config.fleet_sample_interval);
  p.fleet_deps = std::make_unique<api::FleetApiDeps>(
      api::FleetApiDeps{gate, *p.store, *p.fleet_history, p.clock});
  if (Status s = api::RegisterFleetRoutes(p.router, *p.fleet_deps); !s) return s;

  p.repo_status_deps = std::make_unique<api::RepoStatusDeps>(api::RepoStatusDeps{
      gate, *p.repo_store, [&p] { return OnlineKeyInfos(p); }, p.clock});
  if (Status s = api::RegisterRepoStatusRoutes(p.router, *p.repo_status_deps); !s) return s;

  p.release_deps = std::make_unique<api::ReleaseApiDeps>(api::ReleaseApiDeps{
      gate, *p.audit, *p.blobs, *p.image_repo, *p.releases,
      [&p]() { return p.director_repo->Root(); },
      static_cast<std::uint64_t>(config.max_artifact_bytes), p.deltas.get()});
  if (Status s = api::RegisterReleaseRoutes(p.router, *p.release_deps); !s) return s;

  p.deployment_deps =
      std::make_unique<api::DeploymentApiDeps>(api::DeploymentApiDeps{gate, *p.audit, *p.deployments});
  if (Status s = api::RegisterDeploymentRoutes(p.router, *p.deployment_deps); !s) return s;

  // A group that an active or paused deployment targets is not deleted under it.
  p.groups = std::make_unique<groups::GroupService>(
      *p.group_store, *p.audit, p.clock,
      [&p](std::string_view name) { return p.deployments->TargetingGroup(name); });
  p.group_deps = std::make_unique<api::GroupApiDeps>(api::GroupApiDeps{gate, *p.groups});
  if (Status s = api::RegisterGroupRoutes(p.router, *p.group_deps); !s) return s;

  if (!config.console_dir.empty()) {
    p.console_deps = std::make_unique<api::ConsoleDeps>(api::ConsoleDeps{config.console_dir});
    if (Status s = api::RegisterConsole(p.router, *p.console_deps); !s) return s;
  }
  return Ok();
}

}  // namespace aloft::server::app
