#pragma once

// What the Image repository and the Director have in common: how long online-signed metadata
// lives, when it is re-signed, how snapshot and timestamp are built and signed, and which
// file names a repository serves.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"
#include "server/repo/repo_store.hpp"

namespace aloft::server::repo {

// Lifetimes of the metadata the server signs. Online metadata is re-signed (version + 1) when
// it is fetched with less than half of its lifetime left, so a device that polls at least
// every half lifetime never sees expired metadata, and an idle repository writes nothing.
struct Lifetimes {
  std::chrono::seconds timestamp{std::chrono::hours(24)};
  std::chrono::seconds snapshot{std::chrono::hours(24 * 7)};
  std::chrono::seconds director_targets{std::chrono::hours(24 * 7)};
  std::chrono::seconds director_root{std::chrono::hours(24 * 365 * 10)};
};

// True when less than half of `lifetime` is left before `expires`.
bool NeedsRefresh(Timestamp expires, std::chrono::seconds lifetime, Timestamp now);

// A file a repository serves, from its name.
struct MetadataFileName {
  std::string role;                     // "root", "snapshot", "targets" or "timestamp"
  std::optional<std::int64_t> version;  // set for all but "timestamp.json"
};
// Accepts exactly "<N>.root.json", "<N>.snapshot.json", "<N>.targets.json" (N a positive
// decimal without leading zeros, at most 18 digits) and "timestamp.json"; nullopt otherwise.
std::optional<MetadataFileName> ParseMetadataFileName(std::string_view name);

// Signs `signed_json` with `key` and returns the bytes to publish.
Result<Bytes> SignRole(const core::codec::Json& signed_json, const core::crypto::PrivateKey& key);

// How snapshot or timestamp describe a file: version, length and sha256 of the exact bytes.
core::metadata::MetaFile DescribeFile(std::int64_t version, ByteView bytes);

// The online keys and lifetimes that sign one repository's snapshot and timestamp.
struct OnlineSigners {
  const core::crypto::PrivateKey& snapshot;
  const core::crypto::PrivateKey& timestamp;
  std::chrono::seconds snapshot_lifetime;
  std::chrono::seconds timestamp_lifetime;
};

// A new snapshot listing `targets` (version `targets_version`) and a new timestamp listing
// that snapshot, each one version above what `repo` holds. Nothing is stored.
Result<std::vector<MetadataWrite>> SignSnapshotAndTimestamp(RepoStore& store, std::string_view repo,
                                                            std::int64_t targets_version,
                                                            ByteView targets,
                                                            const OnlineSigners& signers,
                                                            Timestamp now);
// A new timestamp listing `snapshot`, one version above `repo`'s latest. Nothing is stored.
Result<MetadataWrite> SignTimestamp(RepoStore& store, std::string_view repo,
                                    const StoredMetadata& snapshot, const OnlineSigners& signers,
                                    Timestamp now);

// The latest `role` of `repo`, or kCorrupt when there is none although there must be.
Result<StoredMetadata> RequireLatest(RepoStore& store, std::string_view repo,
                                     std::string_view role);

}  // namespace aloft::server::repo
