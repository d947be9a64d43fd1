#pragma once

// A MetadataStore that keeps each role in one file of a directory, the layout TUF clients
// (python-tuf, the tuf-conformance suite) expect: role R lives in "<dir>/<quote(R)>.json".

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/metadata/metadata_store.hpp"

namespace aloft::platform::posix {

// The largest metadata file Load() accepts; anything bigger is reported as kTooLarge.
inline constexpr std::size_t kMaxStoredMetadataBytes = 16 * 1024 * 1024;

// The file name of `role`: PercentEncode(role) + ".json", so that any role name, even one with
// '/' or "..", stays a single component inside the directory. The names "." and ".." are
// encoded completely ("%2E.json", "%2E%2E.json"). Empty roles are rejected by the store.
std::string RoleFileName(std::string_view role);

// Thread-safety: calls may run concurrently; each Store is atomic (AtomicWriteFile), so a
// concurrent Load sees the old or the new bytes. Two processes must not share a directory
// unless they accept last-writer-wins per role.
class DirectoryMetadataStore final : public core::metadata::MetadataStore {
 public:
  // `dir` must exist when Load/Store/Remove run (see EnsurePrivateDirectory); it is not created
  // here so that a mistyped path fails loudly instead of starting from an empty trust store.
  explicit DirectoryMetadataStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // nullopt when the role's file does not exist; kTooLarge past kMaxStoredMetadataBytes; kIo
  // for unreadable files.
  Result<std::optional<Bytes>> Load(std::string_view role) override;
  // Atomic replace with mode 0644 (metadata is public). kIo / kNoSpace on failure.
  Status Store(std::string_view role, ByteView bytes) override;
  // Deletes the role's file; succeeds when there was none.
  Status Remove(std::string_view role) override;

  const std::filesystem::path& dir() const noexcept { return dir_; }
  // The path a role is stored at.
  std::filesystem::path PathFor(std::string_view role) const { return dir_ / RoleFileName(role); }

 private:
  std::filesystem::path dir_;
};

}  // namespace aloft::platform::posix
