#pragma once

// Uptane's rule that no single repository decides what a device installs: the Director (online
// keys, per-device instructions) names a target, and the Image repository (offline root and
// targets keys) must have signed the very same image: same path, same length, same hashes,
// for this hardware. A compromised Director alone can therefore only choose among images the
// Image repository released, and the signed security counter stops it from choosing a
// known-vulnerable old one (Uptane Standard §5.4.4.2, "full verification").

#include <optional>
#include <string>

#include "core/metadata/model.hpp"
#include "core/metadata/updater.hpp"
#include "core/uptane/target_custom.hpp"

namespace aloft::core::uptane {

// What the device knows about itself; the security counter is the one signed into the image
// it runs now (persisted by the agent when it committed that image).
struct DeviceIdentity {
  std::string device_id;
  std::string hardware_id;
  std::int64_t installed_security_counter = 0;
};

// A delta the Director offered for the approved image and the Image repository signed as
// producing exactly that image (DeltaInfo::to_* equal the image's signed digest and length).
struct ApprovedDelta {
  std::string target_path;
  metadata::TargetFile target;  // as the Image repository signed it (the Director, if server-built)
  DeltaInfo info;
  bool server_built = false;  // bound by the Director alone (DeltaRef::server_built)
};

// Which deltas a device takes. A server-built delta is signed by the Director's online key
// only; it is a transport for an Image-signed image (the slot is checked against that image's
// digest before anything is switched), so the cost of a bad one is a second download. A
// device that wants the patch itself covered by the offline keys turns it off.
struct DeltaPolicy {
  bool accept_server_built = true;
};

// An image both repositories agree on, with everything the installer needs.
struct ApprovedImage {
  std::string target_path;
  metadata::TargetFile target;  // as the Image repository signed it
  ImageCustom image;
  DirectorCustom director;
  // The delta to try first, when the Director offered one that checks out; otherwise
  // `delta_problem` says why an offered delta was refused (the full image stays approved:
  // a delta is only a cheaper transport for it).
  std::optional<ApprovedDelta> delta;
  std::string delta_problem;
  // The Director signed the digest of `image.chunks` (its "chunksSha256"): the chunk digests
  // then bind every byte of the download to both repositories, as the whole-artifact hashes
  // do, and a device may check the download chunk by chunk only.
  bool chunks_agreed = false;
};

// Picks the image the Director assigns to `device` and checks it against the Image
// repository. `director_targets` must come from a refreshed Director updater; `image_repo`
// is refreshed here if it was not. Returns nullopt when the Director assigns nothing.
// Errors:
//   kVerificationFailed  the Director names another device or hardware, more than one image,
//                        an image the Image repository never signed, or one whose length or
//                        hashes differ; or the image is not for this hardware, or is a delta
//                        (the Director must name the full image and may point at a delta),
//                        or the Director names chunk digests other than the Image repository's
//   kRollback            the image's security counter is below the installed one
//   (and any error of the Image repository refresh)
Result<std::optional<ApprovedImage>> SelectApprovedImage(
    const metadata::TargetsMetadata& director_targets, metadata::Updater& image_repo,
    const DeviceIdentity& device, const DeltaPolicy& policy = {});

// Checks the Director's delta pointer for `approved` (CheckDelta) and fills approved.delta or
// approved.delta_problem. Never fails: a refused delta leaves the full image.
void ResolveDelta(ApprovedImage& approved, metadata::Updater& image_repo,
                  const DeltaPolicy& policy = {});

// The checks behind ResolveDelta: the Image repository signed `ref.target` with the same
// length and hashes as the Director says, as a delta whose result is `approved`'s image
// (target path, image digest, image length). For a server-built pointer (allowed by `policy`)
// the Director's own binding must name `approved`'s image digest and length instead, and the
// Image repository is not asked. kVerificationFailed otherwise.
Result<ApprovedDelta> CheckDelta(const DeltaRef& ref, const ApprovedImage& approved,
                                 metadata::Updater& image_repo, const DeltaPolicy& policy = {});

// Same length and, for every hash algorithm both list, the same digest; at least one known
// algorithm in common.
Status SameImage(const metadata::TargetFile& director, const metadata::TargetFile& image);

}  // namespace aloft::core::uptane
