#include "agent/uptane_client/uptane_client.hpp"

#include <algorithm>

#include "core/base/percent_encode.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/directory_metadata_store.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::uptane_client {
namespace {

namespace fs = std::filesystem;
namespace metadata = core::metadata;
using platform::posix::DirectoryMetadataStore;

// The Director's instruction as far as it can be read: the check that matters is
// SelectApprovedImage's; this only names the assignment for reports.
DirectorAssignment Describe(const std::string& path, const metadata::TargetFile& target) {
  DirectorAssignment a;
  a.target_path = path;
  if (auto it = target.hashes.find("sha256"); it != target.hashes.end())
    a.target_sha256 = it->second;
  if (auto custom = core::uptane::ParseDirectorCustom(target.custom)) {
    a.deployment_id = custom->deployment_id;
  }
  return a;
}

Result<DirectoryMetadataStore> OpenStore(const fs::path& dir, const fs::path& anchor,
                                         std::size_t max_bytes, std::string_view name) {
  if (anchor.empty()) {
    return Fail(Errc::kInvalidArgument, std::string(name) + " trust anchor: " + std::string(name) +
                                            "_root is not set in the agent configuration");
  }
  if (Status made = platform::posix::EnsurePrivateDirectory(dir); !made) {
    return Fail(std::move(made).error().WithContext(std::string(name) + " metadata"));
  }
  DirectoryMetadataStore store(dir);
  if (Status seeded = SeedTrustAnchor(store, anchor, max_bytes); !seeded) {
    return Fail(std::move(seeded).error().WithContext(std::string(name) + " trust anchor"));
  }
  return store;
}

}  // namespace

Result<std::string> TargetUrl(const std::string& server_url, const std::string& target_path,
                              const metadata::Hashes& hashes) {
  const auto sha = hashes.find("sha256");
  if (sha == hashes.end()) {
    return Fail(Errc::kInvalidArgument, "target " + target_path + " has no sha256");
  }
  const std::size_t slash = target_path.rfind('/');
  const std::string basename =
      slash == std::string::npos ? target_path : target_path.substr(slash + 1);
  return server_url + "/api/v1/targets/" + PercentEncode(sha->second) + "." +
         PercentEncode(basename);
}

Status SeedTrustAnchor(metadata::MetadataStore& store, const fs::path& anchor,
                       std::size_t max_bytes) {
  auto existing = store.Load(metadata::kRoot);
  if (!existing) return Fail(std::move(existing).error());
  if (*existing) return Ok();
  auto bytes = platform::posix::ReadFile(anchor, max_bytes);
  if (!bytes) return Fail(std::move(bytes).error());
  return store.Store(metadata::kRoot, *bytes);
}

metadata::UpdaterConfig UpdaterConfigFor(std::string metadata_url, std::string targets_url,
                                         std::size_t max_metadata_bytes) {
  metadata::UpdaterConfig config;
  config.metadata_url = std::move(metadata_url);
  config.targets_url = std::move(targets_url);
  config.root_max_bytes = max_metadata_bytes;
  config.timestamp_max_bytes = std::min(config.timestamp_max_bytes, max_metadata_bytes);
  config.snapshot_max_bytes = max_metadata_bytes;
  config.targets_max_bytes = max_metadata_bytes;
  return config;
}

Result<RefreshResult> UptaneClient::Refresh(const core::uptane::DeviceIdentity& device) {
  const std::string api = options_.server_url + "/api/v1/";
  const Timestamp now = clock_.Now();
  auto director_store = OpenStore(options_.metadata_dir / "director", options_.director_root,
                                  options_.max_metadata_bytes, "director");
  if (!director_store) return Fail(std::move(director_store).error());
  metadata::Updater director(
      UpdaterConfigFor(api + "director/", api + "targets/", options_.max_metadata_bytes), fetcher_,
      *director_store, now);
  if (Status refreshed = director.Refresh(); !refreshed) {
    return Fail(std::move(refreshed).error().WithContext("director"));
  }
  const metadata::TargetsMetadata& targets = *director.trusted()->targets();
  RefreshResult result;
  result.director_targets_version = targets.common.version;
  if (targets.targets.empty()) return result;
  if (targets.targets.size() == 1) {
    const auto& [path, target] = *targets.targets.begin();
    result.assignment = Describe(path, target);
  } else {
    result.assignment = DirectorAssignment{};  // refused below: one image at a time
  }

  auto image_store = OpenStore(options_.metadata_dir / "image", options_.image_root,
                               options_.max_metadata_bytes, "image");
  if (!image_store) return Fail(std::move(image_store).error());
  metadata::Updater image(
      UpdaterConfigFor(api + "image/", api + "targets/", options_.max_metadata_bytes), fetcher_,
      *image_store, now);
  // Refreshed before the match: Image metadata that does not verify (tampered or replayed in
  // transit, stale in a cache, expired) says nothing about the assignment. It fails this poll,
  // as the Director's does, instead of becoming a refusal the agent remembers and never
  // retries (which would let a one-off network attacker block a deployment for good).
  if (Status refreshed = image.Refresh(); !refreshed) {
    return Fail(std::move(refreshed).error().WithContext("image repository"));
  }
  auto approved = core::uptane::SelectApprovedImage(targets, image, device,
                                                     options_.delta_policy);
  if (!approved) {
    result.image = Result<core::uptane::ApprovedImage>(Fail(std::move(approved).error()));
  } else if (*approved) {
    result.image = Result<core::uptane::ApprovedImage>(std::move(**approved));
  }
  return result;
}

}  // namespace aloft::agent::uptane_client
