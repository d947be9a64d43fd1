#pragma once

// The Uptane Image repository: what a release *is*. Its root and targets are signed offline by
// operators (aloftctl) and only uploaded here; aloftd holds just the snapshot and timestamp
// keys the root names, so it can keep the repository fresh but cannot release software.
//
// Every upload is verified the way a device will verify it (TrustedSet), so the server never
// publishes metadata a device would refuse, and refuses it with a message an operator can act
// on instead.
//
// Thread-safety: all methods may be called from any thread; writes are serialised within the
// process, and the store's growing-version rule settles races between processes.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/metadata/model.hpp"
#include "server/repo/online_keys.hpp"
#include "server/repo/publishing.hpp"
#include "server/repo/repo_store.hpp"

namespace aloft::server::repo {

class ImageRepository {
 public:
  // `store`, `keys`, `clock` and `rotation` (when given) must outlive the repository. Without
  // `rotation` the online pair cannot be rotated (StageKeyRotation: kUnsupported).
  ImageRepository(RepoStore& store, const OnlineKeys& keys, const Clock& clock,
                  Lifetimes lifetimes = {}, const OnlineKeyRotation* rotation = nullptr);

  // Uploads a root. The first root is the trust anchor operators ship to devices: it must be
  // signed by a threshold of its own root keys. Every later root must verify as the next step
  // of the chain (version + 1, signed by a threshold of the old and of the new root keys).
  // Either way it must not have expired, must have consistent_snapshot true, must name the
  // server's online image snapshot and timestamp keys for those roles (threshold 1), and must
  // not let an online key sign root or targets.
  // Online-key rotation: when a next pair is staged (StageKeyRotation), a root may name it
  // instead of the current pair. Publishing such a root switches the server to the new pair:
  // snapshot and timestamp are re-signed with it in the same store transaction (clients drop
  // their trusted snapshot and timestamp when those keys rotate, TUF 5.3.11), and the staged
  // key files replace the current ones.
  // Errors: kInvalidArgument (unparseable, consistent_snapshot off, wrong online keys: the
  // message names the key to put in the root), kVerificationFailed (signatures, threshold),
  // kRollback (version not current + 1), kExpired; store errors.
  Status UploadRoot(ByteView bytes);

  // Uploads top-level targets signed offline against the current root, then publishes a
  // snapshot and a timestamp for it, all in one store transaction. The targets must verify
  // against the current root's targets role (threshold, expiry), carry a version greater than
  // the stored one, list for every target a sha256 hash and Aloft image custom data, and have
  // no delegations.
  // Errors: kNotFound (no root uploaded yet), kInvalidArgument, kVerificationFailed,
  // kExpired, kRollback, kUnsupported (delegations); store errors. On error nothing changes.
  Status UploadTargets(ByteView bytes);

  // The current timestamp, re-signed first (and the snapshot with it) when it is within half
  // a lifetime of expiry. kNotFound before the first targets upload.
  Result<Bytes> FreshTimestamp();

  // A served file by name: "<N>.root.json", "timestamp.json", "<V>.snapshot.json",
  // "<V>.targets.json". kNotFound for any other name or a version that does not exist.
  Result<Bytes> File(std::string_view name);

  // The latest trusted targets, for the Director (what may be assigned). kNotFound when none.
  Result<core::metadata::TargetsMetadata> CurrentTargets();

  // The online pair in use, and the staged next pair when a rotation is under way.
  struct OnlinePairs {
    ImageOnlineKeys current;
    std::optional<ImageOnlineKeys> next;
  };
  OnlinePairs OnlineKeyPairs() const;

  // Stages a new online pair for the next root to name, or returns the one already staged.
  // kUnsupported without a rotation store; key file errors.
  Result<ImageOnlineKeys> StageKeyRotation();

  // At start-up: picks up a pair staged by an earlier run, and finishes a promotion that a
  // crash interrupted after the root naming the staged pair was published.
  Status ResumeKeyRotation();

 private:
  // The latest timestamp when neither it nor the snapshot needs re-signing at `now`.
  Result<std::optional<Bytes>> TimestampIfFresh(Timestamp now);
  // Which pair `root` names for snapshot and timestamp: the current one, the staged one
  // (a rotation), or neither (kInvalidArgument naming the keys to put in the root).
  enum class NamedPair : std::uint8_t { kCurrent, kNext };
  Result<NamedPair> CheckOnlineKeys(const core::metadata::RootMetadata& root,
                                    const OnlinePairs& pairs) const;
  Result<std::vector<MetadataWrite>> ResignForNewPair(ByteView root, const ImageOnlineKeys& pair,
                                                      Timestamp now);
  OnlineSigners Signers(const ImageOnlineKeys& pair) const;
  ImageOnlineKeys CurrentPair() const;
  Timestamp Now() const;

  RepoStore& store_;
  const OnlineKeys& keys_;  // the Director's keys; the Image pair is pairs_
  const Clock& clock_;
  Lifetimes lifetimes_;
  const OnlineKeyRotation* rotation_;
  std::mutex write_mutex_;  // one publisher at a time within this process
  mutable std::mutex pairs_mutex_;  // pairs_ changes under write_mutex_, is read under this
  OnlinePairs pairs_;
};

}  // namespace aloft::server::repo
