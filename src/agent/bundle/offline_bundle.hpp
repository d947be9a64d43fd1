#pragma once

// Offline update bundles: install a signed release without the server (a USB stick, a
// service laptop), checked against the same trust anchor and the same anti-rollback counter
// as an online update.
//
// Format: the Image repository as aloftd serves it, cut down to one target, as a directory,
// an uncompressed tar of that directory, or a URL under which the same files are served:
//
//   bundle.json                       {"format": 1, "target": "<target path>"}
//   metadata/<N>.root.json            the Image repository's root chain (any run of versions
//                                     that continues the device's trusted root; 1.root.json ..
//                                     is the simple choice)
//   metadata/timestamp.json
//   metadata/<V>.snapshot.json        consistent-snapshot names, as the repository serves them
//   metadata/<V>.targets.json         (and delegated roles "<V>.<role>.json" if any)
//   targets/<sha256>.<basename>       the artifact, exactly as signed
//
// The manifest is not signed: it only chooses which signed target to install.
//
// Why no Director: the Director's job is to say which device installs what *now*; someone who
// plugs a bundle into a device has made that decision. What the Director adds against a
// compromised server (the device installs only what the Image repository released) is exactly
// what is checked here without it: the root chain from the device's trusted Image root,
// threshold signatures, expiry, the artifact's signed length and hashes (while it streams), the
// hardware id and the security counter. Deliberately *not* checked: that timestamp and
// snapshot versions are at least those the device saw online. A bundle made before the
// device's last online check must still install; an old bundle cannot bring back an image
// below the device's security counter, which is what protects against known-vulnerable
// releases. The bundle's metadata is verified in a scratch store and never replaces the
// device's online metadata.

#include <filesystem>
#include <string>

#include "agent/bundle/bundle_reader.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/uptane/image_match.hpp"

namespace aloft::agent::bundle {

inline constexpr std::string_view kManifestName = "bundle.json";

struct BundleOptions {
  std::filesystem::path image_root;          // the trust anchor (config image_root)
  std::filesystem::path image_metadata_dir;  // <data_dir>/metadata/image: its root.json, if
                                             // any, is newer than the anchor and is used
  std::filesystem::path scratch_dir;         // emptied and reused for each bundle
  std::size_t max_metadata_bytes = std::size_t{1} << 20;
};

struct BundleImage {
  core::uptane::ApprovedImage image;  // director left empty: no deployment
  std::string artifact_member;        // "targets/<sha256>.<basename>"
};

// Verifies everything but the artifact's bytes (those are checked as they stream into the
// slot). Errors:
//   kInvalidArgument     no usable manifest, unusable signed custom data
//   kNotFound            the bundle lacks the target or a metadata file (or the trust anchor)
//   kVerificationFailed  signatures, thresholds, hashes; an image not for this hardware
//   kRollback            a security counter below the installed one; a root version rollback
//   kExpired             metadata past its expiry
Result<BundleImage> VerifyBundle(BundleReader& reader, const BundleOptions& options,
                                 const Clock& clock, const core::uptane::DeviceIdentity& device);

}  // namespace aloft::agent::bundle
