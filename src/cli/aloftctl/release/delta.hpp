#pragma once

// Deltas staged with a release (`aloftctl release create ... --delta-from V1,V2`): for each
// older image, a patch (core/delta) to the new image, stored as an artifact like a full image
// and staged as an Image-repository target of its own, signed with the release by the same
// offline targets keys. Its custom binds it to both images (core/uptane/target_custom.hpp:
// "delta": {fromSha256, fromLength, toTarget, toSha256, toLength}); its name is
// DeltaTargetName(release, from digest), which is how aloftd finds it for a device.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cli/aloftctl/release/artifact.hpp"
#include "cli/aloftctl/release/staging.hpp"
#include "cli/aloftctl/repo/offline_repo.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/metadata/model.hpp"

namespace aloft::cli::aloftctl::release {

// An older image a delta starts from.
struct DeltaSource {
  std::string label;   // what the operator named: a staged release, or a file
  Bytes image;         // the uncompressed image (what a device's slot holds)
  std::string sha256;  // hex of `image`
};

// A staged delta, ready for StageRelease.
struct StagedDelta {
  std::string name;   // DeltaTargetName(release, source sha256)
  Artifact artifact;  // path, length, sha256, sha512 of the patch; image_* unused
  core::metadata::TargetFile target;
};

// The most a delta's source or target image may be: both are held in memory while the patch
// is computed (offline, on the release machine).
inline constexpr std::size_t kMaxDeltaImageBytes = std::size_t{4} << 30;

// Finds `from` among the staged releases (by target name, else by version; never a delta) and
// returns its image, decompressed from the repository's artifact and checked against the
// signed image digest; when no staged release matches and `from` is an existing file, that
// file is the image. kNotFound when neither; kInvalidArgument when a version names several
// releases; kVerificationFailed when the stored artifact does not hold the signed image.
Result<DeltaSource> LoadDeltaSource(const repo::OfflineRepo& repo, const std::string& from);

// Computes the patch from `source` to `image` (the new release's uncompressed bytes), writes
// it to the repository's artifacts (atomically, named by its sha256) and returns the target
// entry: length and hashes of the patch, custom = the release's version, hardware ids and
// security counter plus "delta". kInvalidArgument when the source is the new image itself or
// the release name leaves no room for the delta's name.
Result<StagedDelta> MakeDelta(const repo::OfflineRepo& repo, const ReleaseSpec& spec,
                              const DeltaSource& source, ByteView image,
                              const std::string& image_sha256, int level);

}  // namespace aloft::cli::aloftctl::release
