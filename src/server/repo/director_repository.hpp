#pragma once

// The Uptane Director: what each device should install now. Everything is signed online by
// aloftd. That is safe only because devices also require the Image repository (offline
// targets key) to have signed the very image the Director names (core/uptane/image_match):
// a compromised Director can choose among released images, never introduce one.
//
// One root, generated on first use and shared by every device (devices ship it as their
// Director trust anchor); one targets/snapshot/timestamp chain per device, created lazily on
// the device's first fetch, so assigning nothing to a million devices writes nothing.
//
// Thread-safety: all methods may be called from any thread.

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/metadata/model.hpp"
#include "core/uptane/target_custom.hpp"
#include "server/repo/online_keys.hpp"
#include "server/repo/publishing.hpp"
#include "server/repo/repo_store.hpp"

namespace aloft::server::repo {

// One image for one device, as the Image repository lists it.
struct AssignedImage {
  std::string target_path;
  core::metadata::TargetFile target;  // length and hashes as in the Image targets; custom ignored
  // core::uptane::ChunkListSha256 of the Image target's chunk digests, or "": published as the
  // Director custom "chunksSha256", the Director's agreement on them.
  std::string chunks_sha256 = {};
  std::string hardware_id;
  std::string deployment_id;
  // A delta target of the Image repository that turns the image the device runs into this
  // one; published as the Director custom "delta" member. The device checks it against the
  // Image repository and the slot against `target`'s image, so it is only a hint.
  std::optional<core::uptane::DeltaRef> delta = std::nullopt;
};

class DirectorRepository {
 public:
  // `store`, `keys` and `clock` must outlive the repository.
  DirectorRepository(RepoStore& store, const OnlineKeys& keys, const Clock& clock,
                     Lifetimes lifetimes = {});

  // The shared root (version 1 is generated on first use). kCorrupt when the stored root does
  // not name the current online director keys (the secrets were replaced: devices trusting
  // the old root would refuse everything).
  Result<Bytes> Root();

  // Publishes a new targets for `device_id` (version + 1) naming `image` with Director custom
  // {hardwareId, deviceId, deploymentId[, delta]}, or no target at all when `image` is nullopt,
  // with snapshot and timestamp, in one transaction. kInvalidArgument for an empty device id,
  // target path, hardware id or a target without a sha256 hash; store errors.
  Status Assign(std::string_view device_id, const std::optional<AssignedImage>& image);

  // A file of `device_id`'s repository: "<N>.root.json" (shared), "timestamp.json" (created
  // or re-signed as needed), "<V>.snapshot.json", "<V>.targets.json". kNotFound otherwise.
  // The caller must have authenticated `device_id`: these are that device's instructions.
  Result<Bytes> File(std::string_view device_id, std::string_view name);

 private:
  Result<StoredMetadata> EnsureRoot();
  // EnsureRoot() once per process; afterwards a no-op.
  Status RootReady();
  Result<Bytes> DeviceTimestamp(std::string_view device_id);
  // The device's latest timestamp when nothing in its chain needs (re-)signing at `now`.
  Result<std::optional<Bytes>> TimestampIfFresh(const std::string& repo, Timestamp now);
  // Signs targets (version `version`), snapshot and timestamp for `repo`.
  Result<std::vector<MetadataWrite>> SignChain(std::string_view repo,
                                               core::metadata::TargetsMetadata targets,
                                               std::int64_t version, Timestamp now);
  OnlineSigners Signers() const;
  Timestamp Now() const;

  RepoStore& store_;
  const OnlineKeys& keys_;
  const Clock& clock_;
  Lifetimes lifetimes_;
  std::mutex write_mutex_;
  std::atomic<bool> root_ready_{false};
};

}  // namespace aloft::server::repo
