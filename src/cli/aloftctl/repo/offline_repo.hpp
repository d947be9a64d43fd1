#pragma once

// The operator's offline repository: a directory that holds the Image repository's offline
// keys and every root and targets version made with them, meant for a machine that never
// touches the network (or a USB stick carried between key holders). Layout:
//
//   DIR/                         0700
//     keys/                      0700; private keys encrypted with a passphrase, 0600,
//                                "<role>-<first 16 hex digits of the key id>.pem"
//     metadata/<N>.root.json     every root version made here (N = 1, 2, ...), signed as far
//                                as signatures have been collected
//     metadata/<V>.targets.json  every targets version made here
//     artifacts/<sha256>         compressed release artifacts, named by their signed sha256
//     online-keys.json           the server's online snapshot/timestamp keys given to keys init
//
// The highest version of a role is the "staged" one: the one being signed, or the one to
// upload once signed. Earlier versions are kept: a root rotation is verified as a chain, and
// they are the record of what was signed. Files are replaced atomically (temp, fsync, rename).
//
// Thread-safety: none. Two aloftctl processes on one directory are not supported.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/codec/json.hpp"

namespace aloft::cli::aloftctl::repo {

// Metadata files are at most this large (a targets file with thousands of releases fits).
inline constexpr std::size_t kMaxMetadataBytes = std::size_t{16} * 1024 * 1024;

class OfflineRepo {
 public:
  // Creates the directory tree (0700) for a new repository. kAlreadyExists when `dir` already
  // holds a root: keys init never overwrites keys or metadata.
  static Result<OfflineRepo> Create(const std::filesystem::path& dir);
  // Opens an existing repository. kNotFound (with "run `aloftctl keys init`") when `dir` holds
  // no root.
  static Result<OfflineRepo> Open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::filesystem::path keys_dir() const { return dir_ / "keys"; }
  std::filesystem::path artifacts_dir() const { return dir_ / "artifacts"; }
  std::filesystem::path online_keys_file() const { return dir_ / "online-keys.json"; }
  // artifacts/<sha256>. `sha256` must be 64 hex digits (checked by callers that take it from
  // outside).
  std::filesystem::path ArtifactPath(std::string_view sha256) const;
  std::filesystem::path MetadataPath(std::string_view role, std::int64_t version) const;

  // The highest version of `role` ("root" or "targets") stored; 0 when there is none.
  Result<std::int64_t> LatestVersion(std::string_view role) const;
  // The bytes of one version. kNotFound when absent.
  Result<Bytes> ReadMetadata(std::string_view role, std::int64_t version) const;
  // Writes `envelope` as <version>.<role>.json (pretty JSON: people read these in a key
  // ceremony; signatures cover the canonical form of "signed", not the file's spacing).
  Status WriteMetadata(std::string_view role, std::int64_t version,
                       const core::codec::Json& envelope) const;

 private:
  explicit OfflineRepo(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path dir_;
};

}  // namespace aloft::cli::aloftctl::repo
