#include "server/releases/release_catalog.hpp"

#include "core/metadata/model.hpp"

namespace aloft::server::releases {

bool IsValidReleaseName(std::string_view name) noexcept {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<Release>> ReleaseCatalog::List() {
  auto targets = image_.CurrentTargets();
  if (!targets) {
    if (targets.error().code() == Errc::kNotFound) return std::vector<Release>{};
    return Fail(targets.error());
  }
  std::vector<Release> out;
  out.reserve(targets->targets.size());
  for (const auto& [name, file] : targets->targets) {  // std::map: ordered by name
    auto release = ReleaseFromTarget(name, file);
    if (!release) return Fail(release.error());
    out.push_back(std::move(*release));
  }
  return out;
}

Result<Release> ReleaseCatalog::Find(std::string_view name) {
  auto targets = image_.CurrentTargets();
  if (!targets && targets.error().code() != Errc::kNotFound) return Fail(targets.error());
  if (targets) {
    if (auto it = targets->targets.find(name); it != targets->targets.end()) {
      return ReleaseFromTarget(it->first, it->second);
    }
  }
  return Fail(Errc::kNotFound, "no release named '" + std::string(name.substr(0, 200)) + "'");
}

Result<std::int64_t> ReleaseCatalog::PublishTargets(ByteView targets_bytes) {
  auto parsed = core::metadata::ParseTargets(targets_bytes);
  if (!parsed) return Fail(parsed.error().WithContext("targets"));
  // Unverified here on purpose: these checks only decide whether to go on; the repository
  // verifies the signatures before anything is stored.
  const core::metadata::TargetsMetadata& targets = parsed->content;
  for (const auto& [name, file] : targets.targets) {
    if (!IsValidReleaseName(name)) {
      return Fail(Errc::kInvalidArgument,
                  "target name '" + name.substr(0, 200) +
                      "' must be one path segment of letters, digits and . _ + -");
    }
    auto release = ReleaseFromTarget(name, file);
    if (!release) return Fail(release.error());
    if (Status s = blobs::ValidateBlobId(release->sha256); !s) {
      return Fail(s.error().WithContext("target '" + name + "' sha256"));
    }
    auto blob = blobs_.Stat(release->sha256);
    if (!blob) {
      if (blob.error().code() == Errc::kNotFound) {
        return Fail(Errc::kNotFound, "artifact of target '" + name + "' (sha256 " +
                                         release->sha256 + ") is not uploaded; upload it first");
      }
      return Fail(blob.error());
    }
    if (static_cast<std::int64_t>(blob->size) != file.length) {
      return Fail(Errc::kVerificationFailed,
                  "artifact of target '" + name + "' is " + std::to_string(blob->size) +
                      " bytes but the signed length is " + std::to_string(file.length));
    }
  }
  if (Status s = image_.UploadTargets(targets_bytes); !s) return Fail(s.error());
  return targets.common.version;
}

}  // namespace aloft::server::releases
