#pragma once

// The device's Uptane client: the two repositories aloftd serves, refreshed with the core's
// TUF workflow, and their agreement (core/uptane/image_match.hpp):
//
//   Director  <server>/api/v1/director/   per-device instructions, online keys
//   Image     <server>/api/v1/image/      what was released, offline root and targets keys
//   targets   <server>/api/v1/targets/<sha256>.<basename>   artifacts (consistent snapshots)
//
// Each repository keeps its verified metadata in its own directory (<data_dir>/metadata/
// director and .../image). Their first root comes from a trust anchor provisioned with the
// device image (config director_root, image_root), copied in only while the directory holds
// no root: a root learnt through a rotation is never replaced by the older anchor, and
// nothing is ever trusted on first use from the network.
//
// Thread-safety: none. Each Refresh() makes fresh Updater instances (an Updater refreshes
// once) over the same stores.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/metadata/fetcher.hpp"
#include "core/metadata/metadata_store.hpp"
#include "core/metadata/updater.hpp"
#include "core/uptane/image_match.hpp"

namespace aloft::agent::uptane_client {

struct UptaneClientOptions {
  std::string server_url;               // no trailing slash
  std::filesystem::path metadata_dir;   // <data_dir>/metadata
  std::filesystem::path director_root;  // trust anchors
  std::filesystem::path image_root;
  std::size_t max_metadata_bytes = std::size_t{1} << 20;  // per metadata file
  core::uptane::DeltaPolicy delta_policy;                  // which delta pointers to take
};

// What the Director names for this device, as far as it can be read; filled even when the
// image is then refused, so the caller can report and remember the refusal.
struct DirectorAssignment {
  std::string target_path;
  std::string target_sha256;  // the Director's sha256 of the artifact ("" if it lists none)
  std::string deployment_id;  // from the Director's custom ("" if unreadable)
};

struct RefreshResult {
  std::int64_t director_targets_version = 0;
  // nullopt: the Director assigns nothing.
  std::optional<DirectorAssignment> assignment;
  // With an assignment: the image both repositories agree on, or why it is refused.
  // Refusal codes: kVerificationFailed (disagreement, wrong device or hardware, never
  // signed), kRollback (security counter below the installed one), kInvalidArgument (the
  // image's signed custom data is unusable); anything else comes from looking the image up in
  // the Image repository's delegations and may pass. Refreshing the Image repository itself
  // (bad signatures, rollback, expiry, transport) fails Refresh() instead: a poll that failed,
  // not a verdict on the assignment.
  std::optional<Result<core::uptane::ApprovedImage>> image;
};

// The URL of an artifact in aloftd's target store: "<server>/api/v1/targets/<sha256>.<basename>"
// (TUF consistent-snapshot naming; the basename percent-encoded). kInvalidArgument when the
// signed hashes hold no sha256.
Result<std::string> TargetUrl(const std::string& server_url, const std::string& target_path,
                              const core::metadata::Hashes& hashes);

// Copies the trust anchor at `anchor` into `store` as its root, unless the store already holds
// a root. The directory of a DirectoryMetadataStore must exist. kNotFound for a missing
// anchor; the root's signatures are checked by the next Updater::Refresh.
Status SeedTrustAnchor(core::metadata::MetadataStore& store, const std::filesystem::path& anchor,
                       std::size_t max_bytes);

// Updater caps for one metadata file limit.
core::metadata::UpdaterConfig UpdaterConfigFor(std::string metadata_url, std::string targets_url,
                                               std::size_t max_metadata_bytes);

class UptaneClient {
 public:
  // `fetcher` (with the device's bearer token: aloftd serves both repositories to
  // authenticated devices only) and `clock` must outlive the client.
  UptaneClient(UptaneClientOptions options, core::metadata::Fetcher& fetcher, const Clock& clock)
      : options_(std::move(options)), fetcher_(fetcher), clock_(clock) {}

  // Refreshes the Director; when it assigns an image, refreshes the Image repository and
  // checks the assignment (SelectApprovedImage). Errors are either repository's refresh
  // (the Image repository's prefixed "image repository: "), trust anchor or store:
  // kUnavailable/kTimeout for the network, kVerificationFailed/kRollback/kExpired for
  // metadata, kNotFound for a missing anchor, kIo for the stores.
  Result<RefreshResult> Refresh(const core::uptane::DeviceIdentity& device);

  const UptaneClientOptions& options() const noexcept { return options_; }

 private:
  UptaneClientOptions options_;
  core::metadata::Fetcher& fetcher_;
  const Clock& clock_;
};

}  // namespace aloft::agent::uptane_client
