#include "cli/aloftctl/repo/offline_repo.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "core/metadata/model.hpp"
#include "platform/posix/files.hpp"

namespace aloft::cli::aloftctl::repo {
namespace {

namespace fs = std::filesystem;
namespace posix = platform::posix;

Status CheckRole(std::string_view role) {
  if (role == core::metadata::kRoot || role == core::metadata::kTargets) return Ok();
  return Fail(Errc::kInternal, "the offline repository keeps root and targets only, not '" +
                                   std::string(role) + "'");
}

}  // namespace

Result<OfflineRepo> OfflineRepo::Create(const fs::path& dir) {
  OfflineRepo repo(dir);
  std::error_code ec;
  if (fs::exists(repo.MetadataPath(core::metadata::kRoot, 1), ec)) {
    return Fail(Errc::kAlreadyExists, dir.string() +
                                          " already holds a repository (metadata/1.root.json); "
                                          "keys are never overwritten: pick another --repo");
  }
  for (const fs::path& sub : {dir, repo.keys_dir(), dir / "metadata", repo.artifacts_dir()}) {
    if (Status s = posix::EnsurePrivateDirectory(sub); !s) return Fail(s.error());
  }
  return repo;
}

Result<OfflineRepo> OfflineRepo::Open(const fs::path& dir) {
  OfflineRepo repo(dir);
  std::error_code ec;
  if (!fs::exists(repo.MetadataPath(core::metadata::kRoot, 1), ec)) {
    return Fail(Errc::kNotFound, dir.string() +
                                     " holds no offline repository; create one with `aloftctl "
                                     "keys init` or pass --repo DIR");
  }
  // Artifacts may be added long after keys init (another machine, a fresh checkout).
  if (Status s = posix::EnsurePrivateDirectory(repo.artifacts_dir()); !s) return Fail(s.error());
  return repo;
}

fs::path OfflineRepo::ArtifactPath(std::string_view sha256) const {
  return artifacts_dir() / std::string(sha256);
}

fs::path OfflineRepo::MetadataPath(std::string_view role, std::int64_t version) const {
  return dir_ / "metadata" / (std::to_string(version) + "." + std::string(role) + ".json");
}

Result<std::int64_t> OfflineRepo::LatestVersion(std::string_view role) const {
  if (Status s = CheckRole(role); !s) return Fail(s.error());
  const std::string suffix = "." + std::string(role) + ".json";
  std::int64_t latest = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir_ / "metadata", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    const std::string_view digits(name.data(), name.size() - suffix.size());
    std::int64_t version = 0;
    const auto [end_ptr, err] =
        std::from_chars(digits.data(), digits.data() + digits.size(), version);
    if (err != std::errc() || end_ptr != digits.data() + digits.size() || version <= 0) continue;
    latest = std::max(latest, version);
  }
  if (ec) return Fail(posix::ErrnoError(ec.value(), "list", dir_ / "metadata"));
  return latest;
}

Result<Bytes> OfflineRepo::ReadMetadata(std::string_view role, std::int64_t version) const {
  if (Status s = CheckRole(role); !s) return Fail(s.error());
  return posix::ReadFile(MetadataPath(role, version), kMaxMetadataBytes);
}

Status OfflineRepo::WriteMetadata(std::string_view role, std::int64_t version,
                                  const core::codec::Json& envelope) const {
  if (Status s = CheckRole(role); !s) return s;
  const std::string text = core::codec::DumpJson(envelope, true) + "\n";
  return posix::AtomicWriteFile(MetadataPath(role, version), AsBytes(text), 0644);
}

}  // namespace aloft::cli::aloftctl::repo
