#include "platform/posix/directory_metadata_store.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>

#include "platform/posix/files.hpp"
#include "core/base/percent_encode.hpp"

namespace aloft::platform::posix {
namespace {

Status CheckRole(std::string_view role) {
  if (role.empty()) return Fail(Errc::kInvalidArgument, "empty role name");
  return Ok();
}

}  // namespace

std::string RoleFileName(std::string_view role) {
  // A role named "." or ".." is spelled out ("%2E.json") so every name round-trips and is
  // obviously distinct from the directory entries "." and "..".
  return PercentEncodeFileName(role) + ".json";
}

Result<std::optional<Bytes>> DirectoryMetadataStore::Load(std::string_view role) {
  if (auto ok = CheckRole(role); !ok) return Fail(std::move(ok).error());
  auto bytes = ReadFile(PathFor(role), kMaxStoredMetadataBytes);
  if (!bytes) {
    if (bytes.error().code() == Errc::kNotFound) return std::optional<Bytes>();
    return Fail(std::move(bytes).error().WithContext("load " + std::string(role)));
  }
  return std::optional<Bytes>(std::move(*bytes));
}

Status DirectoryMetadataStore::Store(std::string_view role, ByteView bytes) {
  if (auto ok = CheckRole(role); !ok) return ok;
  if (auto written = AtomicWriteFile(PathFor(role), bytes, 0644); !written) {
    return Fail(std::move(written).error().WithContext("store " + std::string(role)));
  }
  return Ok();
}

Status DirectoryMetadataStore::Remove(std::string_view role) {
  if (auto ok = CheckRole(role); !ok) return ok;
  const std::filesystem::path path = PathFor(role);
  if (::unlink(path.c_str()) < 0) {
    if (errno == ENOENT) return Ok();
    return Fail(ErrnoError(errno, "remove", path).WithContext("remove " + std::string(role)));
  }
  // Make the removal durable too, or a crash could bring back metadata we meant to forget.
  if (auto synced = FsyncDirectory(dir_); !synced) {
    return Fail(std::move(synced).error().WithContext("remove " + std::string(role)));
  }
  return Ok();
}

}  // namespace aloft::platform::posix
