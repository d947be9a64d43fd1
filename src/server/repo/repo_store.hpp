#pragma once

// Where the repositories keep the metadata they serve: every signed version of every role,
// by repository. The store knows nothing of TUF; it keeps bytes and enforces one rule, that
// versions of a (repository, role) only grow, so two servers racing to publish cannot both
// win and a bug cannot publish a rollback.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"

namespace aloft::server::repo {

// Repository names: the Image repository, the Director's shared root, and one Director
// repository per device.
inline constexpr std::string_view kImageRepo = "image";
inline constexpr std::string_view kDirectorRepo = "director";
std::string DirectorDeviceRepo(std::string_view device_id);  // "director/<device id>"

struct StoredMetadata {
  std::int64_t version = 0;
  Bytes bytes;  // exactly as served
  Timestamp expires{};
};

struct MetadataWrite {
  std::string role;  // "root", "timestamp", "snapshot", "targets"
  std::int64_t version = 0;
  Bytes bytes;
  Timestamp expires{};
  // False for roles only ever served as their latest version (timestamp): older rows are
  // deleted in the same transaction, so re-signing every few hours does not grow the table.
  bool keep_history = true;
};

// Thread-safe: implementations serialise writers and let readers run alongside.
class RepoStore {
 public:
  virtual ~RepoStore() = default;

  // Stores every write of `repo` in one transaction: all or nothing. Each version must be
  // greater than the latest stored for its role, else kAlreadyExists (another writer
  // published first: re-read and decide again) and nothing is stored.
  virtual Status Put(std::string_view repo, const std::vector<MetadataWrite>& writes) = 0;

  // The highest version of `role` in `repo`; nullopt when there is none.
  virtual Result<std::optional<StoredMetadata>> GetLatest(std::string_view repo,
                                                          std::string_view role) = 0;
  // The highest version of `role` in `repo`, 0 when there is none: GetLatest without the
  // document, for the check-in, which only tells the device whether its metadata moved.
  virtual Result<std::int64_t> LatestVersion(std::string_view repo, std::string_view role) = 0;
  // One version; nullopt when it is not stored.
  virtual Result<std::optional<StoredMetadata>> Get(std::string_view repo, std::string_view role,
                                                    std::int64_t version) = 0;
};

}  // namespace aloft::server::repo
