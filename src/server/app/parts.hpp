#pragma once

// aloftd's wired services (Aloftd::Parts), shared by the files of the composition root only.
// Members are declared in construction order; destruction runs backwards, so the HTTP server
// and the background work stop before the services they call go away.

#include <memory>

#include "platform/posix/system_clock.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "server/api/artifact_routes.hpp"
#include "server/api/checkin_routes.hpp"
#include "server/api/console_routes.hpp"
#include "server/api/deployment_routes.hpp"
#include "server/api/device_admin_routes.hpp"
#include "server/api/device_routes.hpp"
#include "server/api/fleet_routes.hpp"
#include "server/api/group_routes.hpp"
#include "server/api/health_routes.hpp"
#include "server/api/metrics_routes.hpp"
#include "server/api/operator_auth.hpp"
#include "server/api/release_routes.hpp"
#include "server/api/repo_routes.hpp"
#include "server/api/repo_status_routes.hpp"
#include "server/app/app.hpp"
#include "server/app/delta_adapters.hpp"
#include "server/app/group_membership_adapter.hpp"
#include "server/app/periodic.hpp"
#include "server/app/release_catalog_adapter.hpp"
#include "server/audit/sqlite/sqlite_audit_log.hpp"
#include "server/auth/device_authenticator.hpp"
#include "server/auth/token_service.hpp"
#include "server/blobs/fs_object_store.hpp"
#include "server/deltas/delta_service.hpp"
#include "server/deltas/sqlite/sqlite_delta_store.hpp"
#include "server/deployments/deployment_service.hpp"
#include "server/deployments/ports.hpp"
#include "server/deployments/sqlite/sqlite_deployment_store.hpp"
#include "server/devices/enrollment_service.hpp"
#include "server/devices/fleet_history.hpp"
#include "server/devices/last_seen.hpp"
#include "server/groups/group_service.hpp"
#include "server/groups/sqlite/sqlite_group_store.hpp"
#include "server/http/rate_limiter.hpp"
#include "server/http/router.hpp"
#include "server/http/server.hpp"
#include "server/metrics/registry.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/sqlite/sqlite_operator_store.hpp"
#include "server/operators/totp_seed_cipher.hpp"
#include "server/releases/release_catalog.hpp"
#include "server/repo/director_repository.hpp"
#include "server/repo/image_repository.hpp"
#include "server/repo/online_keys.hpp"
#include "server/repo/sqlite/sqlite_repo_store.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "server/store/sqlite/sqlite_fleet_history_store.hpp"
#include "server/store/sqlite/sqlite_read_scopes.hpp"

namespace aloft::server::app {

struct Aloftd::Parts {
  config::ServerConfig config;
  platform::posix::SystemClock clock;
  std::unique_ptr<platform::sqlite::ConnectionPool> pool;
  metrics::Registry metrics;
  metrics::CounterFamily* http_requests = nullptr;
  metrics::HistogramFamily* http_latency = nullptr;

  // Storage and the audit trail.
  std::unique_ptr<store::sqlite::SqliteDeviceStore> store;
  std::unique_ptr<store::sqlite::SqliteReadScopes> read_scopes;  // over pool, for the stores on it
  std::unique_ptr<audit::sqlite::SqliteAuditLog> audit;
  std::unique_ptr<blobs::FsObjectStore> blobs;

  // Devices.
  std::unique_ptr<devices::EnrollmentService> enrollment;
  std::unique_ptr<devices::StoreDeviceDirectory> directory;
  std::unique_ptr<devices::LastSeenRecorder> last_seen;  // flushed by last_seen_flush
  std::unique_ptr<store::sqlite::SqliteFleetHistoryStore> fleet_samples;
  std::unique_ptr<devices::FleetHistory> fleet_history;  // sampled by housekeeping
  std::unique_ptr<auth::DeviceAuthenticator> authenticator;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<http::RateLimiter> device_limit;

  // Repositories, releases, deployments.
  std::unique_ptr<repo::OnlineKeyRotation> key_rotation;
  std::unique_ptr<repo::OnlineKeys> online_keys;
  std::unique_ptr<repo::sqlite::SqliteRepoStore> repo_store;
  std::unique_ptr<repo::ImageRepository> image_repo;
  std::unique_ptr<repo::DirectorRepository> director_repo;
  std::unique_ptr<releases::ReleaseCatalog> releases;
  std::unique_ptr<ReleaseCatalogAdapter> release_adapter;
  std::unique_ptr<deployments::DirectorRepositoryAssigner> assigner;
  std::unique_ptr<groups::sqlite::SqliteGroupStore> group_store;
  std::unique_ptr<GroupMembershipAdapter> group_membership;  // admission's view of groups
  std::unique_ptr<deltas::sqlite::SqliteDeltaStore> delta_store;
  std::unique_ptr<DeltaReleaseSource> delta_releases;
  std::unique_ptr<deltas::DeltaService> deltas;      // built by delta_builder
  std::unique_ptr<BuiltDeltasAdapter> built_deltas;  // admission's view of them
  std::unique_ptr<deployments::sqlite::SqliteDeploymentStore> deployment_store;
  std::unique_ptr<deployments::DeploymentService> deployments;
  std::unique_ptr<groups::GroupService> groups;  // made in WireManagement

  // Operators. TOTP seeds are sealed under the KEK (made in Start, where the KEK is read).
  std::unique_ptr<operators::TotpSeedCipher> totp_cipher;
  std::unique_ptr<operators::sqlite::SqliteOperatorStore> operator_store;
  std::unique_ptr<operators::OperatorService> operators;

  // Route dependencies.
  std::unique_ptr<api::DeviceApiDeps> device_deps;
  std::unique_ptr<api::CheckInDeps> checkin_deps;
  std::unique_ptr<api::RepoApiDeps> repo_deps;
  std::unique_ptr<api::ArtifactDownloadDeps> artifact_download_deps;
  std::unique_ptr<api::OperatorApiDeps> operator_deps;
  std::unique_ptr<api::DeviceAdminDeps> device_admin_deps;
  std::unique_ptr<api::FleetApiDeps> fleet_deps;
  std::unique_ptr<api::RepoStatusDeps> repo_status_deps;
  std::unique_ptr<api::ReleaseApiDeps> release_deps;
  std::unique_ptr<api::DeploymentApiDeps> deployment_deps;
  std::unique_ptr<api::GroupApiDeps> group_deps;
  std::unique_ptr<api::ConsoleDeps> console_deps;
  std::unique_ptr<api::MetricsDeps> metrics_deps;
  std::unique_ptr<api::HealthDeps> health_deps;
  http::Router router;

  // Running work: stopped first on destruction.
  std::unique_ptr<Periodic> housekeeping;
  std::unique_ptr<Periodic> last_seen_flush;
  std::unique_ptr<Periodic> delta_builder;  // stopped after deltas->Cancel()
  std::unique_ptr<http::HttpServer> server;
};

// Steps of Aloftd::Start, one file each.
Status WireDevices(Aloftd::Parts& p);     // device API, repositories, artifacts, check-in
Status WireManagement(Aloftd::Parts& p);  // operators, audit, devices, groups, releases,
                                          // deployments
Status WireMetrics(Aloftd::Parts& p);     // /metrics and the gauges over stored state

}  // namespace aloft::server::app
