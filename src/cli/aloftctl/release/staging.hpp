#pragma once

// Staging targets versions: adding a release (a target entry with Aloft's image custom data)
// or revoking one. Staged targets are unsigned; `release sign` collects the signatures.
//
// Which version a change lands in: when the latest targets version is complete (signed by a
// threshold, so possibly uploaded already) the change makes version + 1; when it is still
// being signed the change is folded into it and its signatures are dropped (they covered other
// content). Either way the targets expire `expiry` from now.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/aloftctl/release/artifact.hpp"
#include "cli/aloftctl/repo/offline_repo.hpp"
#include "core/base/time.hpp"
#include "core/metadata/model.hpp"

namespace aloft::cli::aloftctl::release {

struct ReleaseSpec {
  std::string name;  // the target path; empty: DefaultReleaseName
  std::string version;
  std::vector<std::string> hardware_ids;
  std::int64_t security_counter = 0;
  std::string notes;  // optional, signed with the release ("notes" in custom)
};

// A target path that is one safe URL and file name component: 1..128 characters of
// [A-Za-z0-9._+-], not starting with '.' or '-'. kInvalidArgument otherwise.
Status CheckReleaseName(std::string_view name);
// Version and hardware ids: non-empty, at most 128 printable ASCII characters without spaces.
Status CheckReleaseSpec(const ReleaseSpec& spec);
// "<image stem>-<version><image extension>.zst", e.g. rootfs.ext4 + 2.1.0 ->
// "rootfs-2.1.0.ext4.zst"; characters a release name may not hold become '_'.
std::string DefaultReleaseName(const std::filesystem::path& image, std::string_view version);

// The signed target entry for `artifact`: length and sha256 of the compressed bytes (sha256
// only, as python-tuf signs by default: every device checks every listed hash over the whole
// download, and a second, slower one (sha512 ran at 0.46 GB/s here) adds CPU, not security,
// while SHA-256 stands),
// and custom = ImageCustom{version, hardwareIds, securityCounter, payload{raw, zstd, image
// length, image sha256}} (+ "notes" when given). Exactly what agent/install's MakeInstallPlan
// reads.
core::metadata::TargetFile MakeTargetFile(const ReleaseSpec& spec, const Artifact& artifact);

struct StagedTargets {
  std::int64_t version = 0;
  std::size_t dropped_signatures = 0;  // from folding into an incomplete version
};

// A further target staged in the same targets version as a release (its deltas).
struct ExtraTarget {
  std::string name;
  core::metadata::TargetFile file;
};

// Adds the release, and `extra` targets with it (release/delta.hpp), to the staged targets.
// kAlreadyExists when a target of that name exists (names are immutable: a device may be
// installing it; revoke and pick a new name).
Result<StagedTargets> StageRelease(const repo::OfflineRepo& repo, const ReleaseSpec& spec,
                                   const Artifact& artifact, std::chrono::days expiry,
                                   Timestamp now, const std::vector<ExtraTarget>& extra = {});

// Removes `name`, and the deltas that produce it, from the staged targets. kNotFound when no
// release has that name.
Result<StagedTargets> RevokeRelease(const repo::OfflineRepo& repo, std::string_view name,
                                    std::chrono::days expiry, Timestamp now);

// The releases in the latest targets version, by name (empty without targets).
Result<std::map<std::string, core::metadata::TargetFile, std::less<>>> StagedReleases(
    const repo::OfflineRepo& repo);

}  // namespace aloft::cli::aloftctl::release
