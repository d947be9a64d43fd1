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

#include <mutex>
#include <optional>
#include <string_view>

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
  // `store`, `keys` and `clock` must outlive the repository.
  ImageRepository(RepoStore& store, const OnlineKeys& keys, const Clock& clock,
                  Lifetimes lifetimes = {});

  // Uploads a root. The first root is the trust anchor operators ship to devices: it must be
  // signed by a threshold of its own root keys. Every later root must verify as the next step
  // of the chain (version + 1, signed by a threshold of the old and of the new root keys).
  // Either way it must not have expired, must have consistent_snapshot true, must name the
  // server's online image snapshot and timestamp keys for those roles (threshold 1), and must
  // not let an online key sign root or targets.
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

 private:
  // The latest timestamp when neither it nor the snapshot needs re-signing at `now`.
  Result<std::optional<Bytes>> TimestampIfFresh(Timestamp now);
  Status CheckOnlineKeys(const core::metadata::RootMetadata& root) const;
  OnlineSigners Signers() const;
  Timestamp Now() const;

  RepoStore& store_;
  const OnlineKeys& keys_;
  const Clock& clock_;
  Lifetimes lifetimes_;
  std::mutex write_mutex_;  // one publisher at a time within this process
};

}  // namespace aloft::server::repo
