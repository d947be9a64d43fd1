#include "cli/aloftctl/release/staging.hpp"

#include <cctype>

#include "cli/aloftctl/repo/signing.hpp"
#include "core/uptane/target_custom.hpp"

namespace aloft::cli::aloftctl::release {
namespace {

namespace md = core::metadata;

constexpr std::size_t kMaxNameLength = 128;

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ||
         c == '+';
}

Status CheckToken(std::string_view what, std::string_view value) {
  if (value.empty() || value.size() > kMaxNameLength) {
    return Fail(Errc::kInvalidArgument, std::string(what) + " must have 1 to " +
                                            std::to_string(kMaxNameLength) + " characters");
  }
  for (char c : value) {
    if (c <= ' ' || c > '~') {
      return Fail(Errc::kInvalidArgument,
                  std::string(what) + " '" + std::string(value) +
                      "' may hold only printable ASCII characters without spaces");
    }
  }
  return Ok();
}

// The targets the next change starts from, and the version it lands in.
struct Base {
  md::TargetsMetadata content;
  std::size_t dropped_signatures = 0;
};

Result<Base> StagingBase(const repo::OfflineRepo& repo, std::chrono::days expiry, Timestamp now) {
  auto latest = repo::LoadLatestTargets(repo);
  if (!latest) return Fail(latest.error());
  Base base;
  if (!*latest) {
    base.content.common.type = std::string(md::kTargets);
    base.content.common.version = 1;
  } else {
    auto state = repo::TargetsSigningState(repo);
    if (!state) return Fail(state.error());
    base.content = (*latest)->parsed.content;
    if (*state && (*state)->complete) {
      base.content.common.version = (*latest)->version + 1;
    } else {
      base.dropped_signatures = (*latest)->parsed.signatures.size();
    }
  }
  base.content.common.expires = now + expiry;
  return base;
}

Status Write(const repo::OfflineRepo& repo, const md::TargetsMetadata& content) {
  // Unsigned: the key holders sign, one at a time, with `release sign`.
  core::codec::Json envelope = core::codec::Json::Object{{"signatures", core::codec::Json::Array{}},
                                                         {"signed", md::ToJson(content)}};
  return repo.WriteMetadata(md::kTargets, content.common.version, envelope);
}

}  // namespace

Status CheckReleaseName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return Fail(Errc::kInvalidArgument,
                "release name must have 1 to " + std::to_string(kMaxNameLength) + " characters");
  }
  if (name.front() == '.' || name.front() == '-') {
    return Fail(Errc::kInvalidArgument,
                "release name '" + std::string(name) + "' must not start with '.' or '-'");
  }
  for (char c : name) {
    if (!NameChar(c)) {
      return Fail(Errc::kInvalidArgument, "release name '" + std::string(name) +
                                              "' may hold only letters, digits and . _ + -");
    }
  }
  return Ok();
}

Status CheckReleaseSpec(const ReleaseSpec& spec) {
  if (Status s = CheckReleaseName(spec.name); !s) return s;
  if (Status s = CheckToken("version", spec.version); !s) return s;
  if (spec.hardware_ids.empty()) {
    return Fail(Errc::kInvalidArgument, "a release needs at least one --hardware id");
  }
  if (spec.hardware_ids.size() > 256) {
    return Fail(Errc::kInvalidArgument, "a release may name at most 256 hardware ids");
  }
  for (const auto& id : spec.hardware_ids) {
    if (Status s = CheckToken("hardware id", id); !s) return s;
  }
  if (spec.security_counter < 0) {
    return Fail(Errc::kInvalidArgument, "the security counter must not be negative");
  }
  return Ok();
}

std::string DefaultReleaseName(const std::filesystem::path& image, std::string_view version) {
  std::string name =
      image.stem().string() + "-" + std::string(version) + image.extension().string() + ".zst";
  for (char& c : name) {
    if (!NameChar(c)) c = '_';
  }
  while (!name.empty() && (name.front() == '.' || name.front() == '-')) name.erase(0, 1);
  if (name.size() > kMaxNameLength) name.erase(0, name.size() - kMaxNameLength);
  return name;
}

md::TargetFile MakeTargetFile(const ReleaseSpec& spec, const Artifact& artifact) {
  core::uptane::ImageCustom custom;
  custom.version = spec.version;
  custom.hardware_ids = spec.hardware_ids;
  custom.security_counter = spec.security_counter;
  core::uptane::PayloadInfo payload;
  payload.format = "raw";
  payload.compression = "zstd";
  payload.length = artifact.image_length;
  payload.sha256 = artifact.image_sha256;
  custom.payload = std::move(payload);
  if (!artifact.chunk_sha256.empty()) {
    custom.chunks = core::uptane::ChunkInfo{artifact.chunk_size, artifact.chunk_sha256};
  }

  md::TargetFile file;
  file.length = artifact.length;
  file.hashes = {{"sha256", artifact.sha256}};
  file.custom = core::uptane::ToJson(custom);
  if (!spec.notes.empty()) file.custom["notes"] = spec.notes;
  return file;
}

Result<StagedTargets> StageRelease(const repo::OfflineRepo& repo, const ReleaseSpec& spec,
                                   const Artifact& artifact, std::chrono::days expiry,
                                   Timestamp now, const std::vector<ExtraTarget>& extra) {
  if (Status s = CheckReleaseSpec(spec); !s) return Fail(s.error());
  auto base = StagingBase(repo, expiry, now);
  if (!base) return Fail(base.error());
  if (base->content.targets.contains(spec.name)) {
    return Fail(Errc::kAlreadyExists,
                "a release named '" + spec.name +
                    "' exists already; names are immutable: choose another --name (or revoke "
                    "the old one first)");
  }
  base->content.targets.emplace(spec.name, MakeTargetFile(spec, artifact));
  for (const ExtraTarget& target : extra) {
    if (Status s = CheckReleaseName(target.name); !s) return Fail(s.error());
    if (!base->content.targets.emplace(target.name, target.file).second) {
      return Fail(Errc::kAlreadyExists, "a target named '" + target.name + "' exists already");
    }
  }
  if (Status s = Write(repo, base->content); !s) return Fail(s.error());
  return StagedTargets{base->content.common.version, base->dropped_signatures};
}

Result<StagedTargets> RevokeRelease(const repo::OfflineRepo& repo, std::string_view name,
                                    std::chrono::days expiry, Timestamp now) {
  auto base = StagingBase(repo, expiry, now);
  if (!base) return Fail(base.error());
  auto it = base->content.targets.find(name);
  if (it == base->content.targets.end()) {
    return Fail(Errc::kNotFound, "no release named '" + std::string(name) + "' is staged");
  }
  base->content.targets.erase(it);
  // Its deltas go with it: they only ever produce the revoked image.
  std::erase_if(base->content.targets, [name](const auto& entry) {
    auto custom = core::uptane::ParseImageCustom(entry.second.custom);
    return custom && custom->delta && custom->delta->to_target == name;
  });
  if (Status s = Write(repo, base->content); !s) return Fail(s.error());
  return StagedTargets{base->content.common.version, base->dropped_signatures};
}

Result<std::map<std::string, md::TargetFile, std::less<>>> StagedReleases(
    const repo::OfflineRepo& repo) {
  auto latest = repo::LoadLatestTargets(repo);
  if (!latest) return Fail(latest.error());
  if (!*latest) return std::map<std::string, md::TargetFile, std::less<>>();
  return (*latest)->parsed.content.targets;
}

}  // namespace aloft::cli::aloftctl::release
