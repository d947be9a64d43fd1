#include "core/uptane/image_match.hpp"

#include <algorithm>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::core::uptane {

Status SameImage(const metadata::TargetFile& director, const metadata::TargetFile& image) {
  if (director.length != image.length) {
    return Fail(Errc::kVerificationFailed, "director says " + std::to_string(director.length) +
                                               " bytes, image repository signed " +
                                               std::to_string(image.length));
  }
  int compared = 0;
  for (const auto& [alg, director_hex] : director.hashes) {
    auto it = image.hashes.find(alg);
    if (it == image.hashes.end() || !crypto::ParseHashAlgorithm(alg)) continue;
    auto a = HexDecode(director_hex);
    auto b = HexDecode(it->second);
    if (!a || !b || !crypto::ConstantTimeEqual(*a, *b)) {
      return Fail(Errc::kVerificationFailed,
                  alg + " differs between the director and the image repository");
    }
    ++compared;
  }
  if (compared == 0) {
    return Fail(Errc::kVerificationFailed,
                "director and image repository share no known hash algorithm");
  }
  return Ok();
}

Result<std::optional<ApprovedImage>> SelectApprovedImage(
    const metadata::TargetsMetadata& director_targets, metadata::Updater& image_repo,
    const DeviceIdentity& device, const DeltaPolicy& policy) {
  if (director_targets.targets.empty()) return std::optional<ApprovedImage>{};
  // An A/B device installs one image at a time; a list is not an instruction we can follow.
  if (director_targets.targets.size() > 1) {
    return Fail(Errc::kVerificationFailed, "director assigns " +
                                               std::to_string(director_targets.targets.size()) +
                                               " images; this device installs exactly one");
  }
  const auto& [path, director_target] = *director_targets.targets.begin();
  auto director = ParseDirectorCustom(director_target.custom);
  if (!director) return Fail(std::move(director).error().WithContext("director target " + path));
  if (director->device_id != device.device_id) {
    return Fail(Errc::kVerificationFailed, "director target " + path + " is for device '" +
                                               director->device_id + "', not this one");
  }
  if (director->hardware_id != device.hardware_id) {
    return Fail(Errc::kVerificationFailed, "director target " + path + " is for hardware '" +
                                               director->hardware_id + "', this device is '" +
                                               device.hardware_id + "'");
  }
  auto image_target = image_repo.FindTarget(path);
  if (!image_target) {
    if (image_target.error().code() == Errc::kNotFound) {
      return Fail(Errc::kVerificationFailed,
                  "the image repository never signed " + path + " (director compromise?)");
    }
    return Fail(std::move(image_target).error().WithContext("image repository"));
  }
  if (Status s = SameImage(director_target, image_target->file); !s) {
    return Fail(std::move(s).error().WithContext(path));
  }
  auto image = ParseImageCustom(image_target->file.custom);
  if (!image) return Fail(std::move(image).error().WithContext("image target " + path));
  if (image->delta) {
    return Fail(Errc::kVerificationFailed,
                "director assigns " + path + ", a delta; it must assign the full image");
  }
  const auto& ids = image->hardware_ids;
  if (std::find(ids.begin(), ids.end(), device.hardware_id) == ids.end()) {
    return Fail(Errc::kVerificationFailed,
                "image " + path + " was not released for hardware '" + device.hardware_id + "'");
  }
  if (image->security_counter < device.installed_security_counter) {
    return Fail(Errc::kRollback, "image " + path + " has security counter " +
                                     std::to_string(image->security_counter) +
                                     ", below the installed " +
                                     std::to_string(device.installed_security_counter));
  }
  // A Director that names a chunk list must name this one: the repositories disagree otherwise.
  bool chunks_agreed = false;
  if (!director->chunks_sha256.empty()) {
    if (!image->chunks || ChunkListSha256(*image->chunks) != director->chunks_sha256) {
      return Fail(Errc::kVerificationFailed,
                  path + ": the director and the image repository disagree on its chunk digests");
    }
    chunks_agreed = true;
  }
  ApprovedImage approved{path, image_target->file, std::move(*image), std::move(*director), {},
                         {},   chunks_agreed};
  ResolveDelta(approved, image_repo, policy);
  return std::optional<ApprovedImage>{std::move(approved)};
}

namespace {

// Whether a delta's binding produces `approved`'s image: its signed digest and length.
bool ProducesApprovedImage(const DeltaInfo& info, const ApprovedImage& approved) {
  auto want = HexDecode(ImageSha256Hex(approved.target, approved.image));
  auto have = HexDecode(info.to_sha256);
  return want && have && crypto::ConstantTimeEqual(*want, *have) &&
         info.to_length == ImageLength(approved.target, approved.image);
}

Result<ApprovedDelta> CheckServerBuiltDelta(const DeltaRef& ref, const ApprovedImage& approved,
                                            const DeltaPolicy& policy) {
  if (!policy.accept_server_built) {
    return Fail(Errc::kVerificationFailed,
                "delta " + ref.target +
                    " was built by the server, and delta.accept_server_built "
                    "is off");
  }
  DeltaInfo info = *ref.server_built;
  info.to_target = approved.target_path;
  if (!ProducesApprovedImage(info, approved)) {
    return Fail(Errc::kVerificationFailed, "server-built delta " + ref.target +
                                               " does not produce the signed image of " +
                                               approved.target_path);
  }
  return ApprovedDelta{ref.target, ref.file, std::move(info), true};
}

}  // namespace

Result<ApprovedDelta> CheckDelta(const DeltaRef& ref, const ApprovedImage& approved,
                                 metadata::Updater& image_repo, const DeltaPolicy& policy) {
  if (ref.server_built) return CheckServerBuiltDelta(ref, approved, policy);
  auto signed_delta = image_repo.FindTarget(ref.target);
  if (!signed_delta) {
    if (signed_delta.error().code() == Errc::kNotFound) {
      return Fail(Errc::kVerificationFailed,
                  "the image repository never signed delta " + ref.target);
    }
    return Fail(std::move(signed_delta).error().WithContext("image repository"));
  }
  if (Status s = SameImage(ref.file, signed_delta->file); !s) {
    return Fail(std::move(s).error().WithContext("delta " + ref.target));
  }
  auto custom = ParseImageCustom(signed_delta->file.custom);
  if (!custom) return Fail(std::move(custom).error().WithContext("delta target " + ref.target));
  if (!custom->delta) {
    return Fail(Errc::kVerificationFailed, ref.target + " is not a delta");
  }
  const DeltaInfo& info = *custom->delta;
  if (info.to_target != approved.target_path) {
    return Fail(Errc::kVerificationFailed, "delta " + ref.target + " produces " + info.to_target +
                                               ", not " + approved.target_path);
  }
  if (!ProducesApprovedImage(info, approved)) {
    return Fail(
        Errc::kVerificationFailed,
        "delta " + ref.target + " does not produce the signed image of " + approved.target_path);
  }
  return ApprovedDelta{ref.target, signed_delta->file, info, false};
}

void ResolveDelta(ApprovedImage& approved, metadata::Updater& image_repo,
                  const DeltaPolicy& policy) {
  if (!approved.director.delta) return;
  auto delta = CheckDelta(*approved.director.delta, approved, image_repo, policy);
  if (delta) {
    approved.delta = std::move(*delta);
  } else {
    approved.delta_problem = delta.error().message();
  }
}

}  // namespace aloft::core::uptane
