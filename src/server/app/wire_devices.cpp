// The device-facing half of aloftd: enrollment and authentication, check-in, reports that
// drive the rollouts, the repositories' metadata and the artifact downloads.

#include <iostream>

#include "server/app/parts.hpp"

namespace aloft::server::app {

Status WireDevices(Aloftd::Parts& p) {
  const config::ServerConfig& config = p.config;
  p.enrollment = std::make_unique<devices::EnrollmentService>(*p.store, *p.store, p.clock);
  p.directory = std::make_unique<devices::StoreDeviceDirectory>(*p.store);
  p.last_seen = std::make_unique<devices::LastSeenRecorder>(*p.store);
  p.authenticator = std::make_unique<auth::DeviceAuthenticator>(
      *p.directory, p.clock,
      auth::DeviceAuthenticator::Options{config.public_url, std::chrono::seconds(300), 1'000'000});
  p.device_limit = std::make_unique<http::RateLimiter>(
      p.clock, http::RateLimit{config.per_device_burst, config.per_device_requests_per_second,
                               1'000'000});
  p.device_deps = std::make_unique<api::DeviceApiDeps>(api::DeviceApiDeps{
      *p.enrollment, *p.authenticator, *p.tokens, *p.store, *p.store, *p.device_limit, p.clock,
      // Each report stored for the first time moves the device's rollout row.
      [&p](std::string_view device_id, const core::wire::Report& report) {
        if (auto applied = p.deployments->OnReport(device_id, report); !applied) {
          std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                           {"level", "error"},
                           {"event", "report_not_applied"},
                           {"device", std::string(device_id)},
                           {"error", applied.error().ToString()}}) +
                           "\n";
        }
      }});
  if (Status s = api::RegisterDeviceRoutes(p.router, *p.device_deps); !s) return s;

  p.checkin_deps = std::make_unique<api::CheckInDeps>(api::CheckInDeps{
      *p.device_deps, *p.deployments,
      [&p](std::string_view device_id) -> Result<std::int64_t> {
        return p.repo_store->LatestVersion(repo::DirectorDeviceRepo(device_id), "targets");
      },
      p.last_seen.get(), p.read_scopes.get()});
  if (Status s = api::RegisterCheckInRoutes(p.router, *p.checkin_deps); !s) return s;

  p.repo_deps = std::make_unique<api::RepoApiDeps>(
      api::RepoApiDeps{*p.device_deps, *p.image_repo, *p.director_repo});
  if (Status s = api::RegisterRepoRoutes(p.router, *p.repo_deps); !s) return s;

  p.artifact_download_deps = std::make_unique<api::ArtifactDownloadDeps>(
      api::ArtifactDownloadDeps{*p.blobs, [&p](std::string_view sha256) -> std::optional<std::filesystem::path> {
                                  return p.blobs->PathFor(sha256);
                                }});
  return api::RegisterArtifactDownloadRoutes(p.router, *p.artifact_download_deps);
}

}  // namespace aloft::server::app
