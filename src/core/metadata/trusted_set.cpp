#include "core/metadata/trusted_set.hpp"

#include "core/metadata/delegation.hpp"
#include "core/metadata/verify.hpp"

namespace aloft::core::metadata {
namespace {
std::string Str(std::int64_t v) { return std::to_string(v); }
Error ExpiredError(std::string_view role, const Common& c) {
  return Error(Errc::kExpired,
               std::string(role) + " metadata expired at " + FormatTimestamp(c.expires));
}
}  // namespace

Result<TrustedSet> TrustedSet::Create(ByteView root_bytes, Timestamp reference_time) {
  auto root = ParseRoot(root_bytes);
  if (!root) return Fail(std::move(root).error().WithContext("trusted root"));
  const RoleKeys& root_role = root->content.roles.at(std::string(kRoot));
  if (Status s = VerifyThreshold(kRoot, *root, root->content.keys, root_role); !s) {
    return Fail(std::move(s).error().WithContext("trusted root is not signed by itself"));
  }
  TrustedSet set(reference_time);
  set.root_ = std::move(*root);
  return set;
}

Status TrustedSet::UpdateRoot(ByteView bytes) {
  if (timestamp_) {
    return Fail(Errc::kInternal, "root cannot change once a timestamp is trusted");
  }
  auto next = ParseRoot(bytes);
  if (!next) return Fail(next.error());
  // §5.3.5: signed by a threshold of keys of the trusted root ...
  const RoleKeys& old_role = root_.content.roles.at(std::string(kRoot));
  if (Status s = VerifyThreshold("root (by the trusted root's keys)", *next, root_.content.keys,
                                 old_role);
      !s) {
    return s;
  }
  // ... and of its own.
  const RoleKeys& new_role = next->content.roles.at(std::string(kRoot));
  if (Status s = VerifyThreshold("root (by its own keys)", *next, next->content.keys, new_role);
      !s) {
    return s;
  }
  // §5.3.6: exactly one version more.
  std::int64_t expected = root_.content.common.version + 1;
  if (next->content.common.version != expected) {
    return Fail(Errc::kRollback, "root version " + Str(next->content.common.version) +
                                     " where " + Str(expected) + " was expected");
  }
  root_ = std::move(*next);
  return Ok();
}

Status TrustedSet::CheckRootFresh() const {
  if (Expired(root_.content.common)) return Fail(ExpiredError(kRoot, root_.content.common));
  return Ok();
}

Result<bool> TrustedSet::UpdateTimestamp(ByteView bytes) {
  if (snapshot_) return Fail(Errc::kInternal, "timestamp cannot change once a snapshot is trusted");
  if (Status s = CheckRootFresh(); !s) return Fail(s.error());
  auto next = ParseTimestamp(bytes);
  if (!next) return Fail(next.error());
  // §5.4.2
  if (Status s = VerifyThreshold(kTimestamp, *next, root_.content.keys,
                                 root_.content.roles.at(std::string(kTimestamp)));
      !s) {
    return Fail(s.error());
  }
  if (timestamp_) {
    const TimestampMetadata& old = timestamp_->content;
    const TimestampMetadata& neu = next->content;
    // §5.4.3.1: no rollback of the timestamp itself; an equal version changes nothing.
    if (neu.common.version < old.common.version) {
      return Fail(Errc::kRollback, "timestamp version " + Str(neu.common.version) +
                                       " is older than the trusted " + Str(old.common.version));
    }
    if (neu.common.version == old.common.version) return false;
    // §5.4.3.2: no rollback of the snapshot version it names.
    if (neu.snapshot_meta.version < old.snapshot_meta.version) {
      return Fail(Errc::kRollback, "timestamp names snapshot version " +
                                       Str(neu.snapshot_meta.version) + ", older than the trusted " +
                                       Str(old.snapshot_meta.version));
    }
  }
  timestamp_ = std::move(*next);
  // §5.4.4: kept for rollback checks even when expired, but the update fails.
  if (Status s = CheckTimestampFinal(); !s) return Fail(s.error());
  return true;
}

Status TrustedSet::CheckTimestampFinal() const {
  if (Expired(timestamp_->content.common)) {
    return Fail(ExpiredError(kTimestamp, timestamp_->content.common));
  }
  return Ok();
}

Status TrustedSet::UpdateSnapshot(ByteView bytes, bool from_cache) {
  if (!timestamp_) return Fail(Errc::kInternal, "snapshot needs a trusted timestamp first");
  if (!targets_.empty()) return Fail(Errc::kInternal, "snapshot cannot change once targets are trusted");
  if (Status s = CheckTimestampFinal(); !s) return s;
  const MetaFile& expected = timestamp_->content.snapshot_meta;
  // §5.5.2: the bytes the timestamp describes (length and hashes, when it lists them).
  if (!from_cache) {
    if (Status s = VerifyMetaFile("snapshot", bytes, expected); !s) return s;
  }
  auto next = ParseSnapshot(bytes);
  if (!next) return Fail(next.error());
  // §5.5.3
  if (Status s = VerifyThreshold(kSnapshot, *next, root_.content.keys,
                                 root_.content.roles.at(std::string(kSnapshot)));
      !s) {
    return s;
  }
  // §5.5.5: no targets role may disappear or go back in version.
  if (snapshot_) {
    for (const auto& [name, old_meta] : snapshot_->content.meta) {
      auto it = next->content.meta.find(name);
      if (it == next->content.meta.end()) {
        return Fail(Errc::kRollback, "snapshot no longer lists " + name);
      }
      if (it->second.version < old_meta.version) {
        return Fail(Errc::kRollback, "snapshot lists " + name + " version " +
                                         Str(it->second.version) + ", older than the trusted " +
                                         Str(old_meta.version));
      }
    }
  }
  snapshot_ = std::move(*next);
  // §5.5.4 and §5.5.6: checked after storing, so a stale cached snapshot still guards
  // against rollback of the one that replaces it.
  return CheckSnapshotFinal();
}

Status TrustedSet::CheckSnapshotFinal() const {
  const SnapshotMetadata& snap = snapshot_->content;
  if (Expired(snap.common)) return Fail(ExpiredError(kSnapshot, snap.common));
  std::int64_t expected = timestamp_->content.snapshot_meta.version;
  if (snap.common.version != expected) {
    return Fail(Errc::kVerificationFailed, "snapshot version " + Str(snap.common.version) +
                                               " does not match the timestamp's " + Str(expected));
  }
  return Ok();
}

Status TrustedSet::UpdateDelegatedTargets(ByteView bytes, std::string_view role,
                                          std::string_view delegator) {
  if (!snapshot_) return Fail(Errc::kInternal, "targets need a trusted snapshot first");
  if (Status s = CheckSnapshotFinal(); !s) return s;
  // Whose keys, and how many of them.
  const KeyRing* keys = nullptr;
  const RoleKeys* role_keys = nullptr;
  if (delegator == kRoot) {
    if (role != kTargets) return Fail(Errc::kInternal, "root delegates only 'targets'");
    keys = &root_.content.keys;
    role_keys = &root_.content.roles.at(std::string(kTargets));
  } else {
    const TargetsMetadata* parent = targets(delegator);
    if (parent == nullptr) {
      return Fail(Errc::kInternal, "delegator " + std::string(delegator) + " is not trusted");
    }
    if (parent->delegations) {
      keys = &parent->delegations->keys;
      role_keys = FindDelegatedRoleKeys(*parent->delegations, role);
    }
    if (role_keys == nullptr) {
      return Fail(Errc::kVerificationFailed,
                  std::string(delegator) + " does not delegate to " + std::string(role));
    }
  }
  // §5.6.2: the bytes snapshot describes.
  auto meta_it = snapshot_->content.meta.find(std::string(role) + ".json");
  if (meta_it == snapshot_->content.meta.end()) {
    return Fail(Errc::kVerificationFailed, "snapshot does not list " + std::string(role) + ".json");
  }
  if (Status s = VerifyMetaFile(role, bytes, meta_it->second); !s) return s;
  auto next = ParseTargets(bytes);
  if (!next) return Fail(std::move(next).error().WithContext(role));
  // §5.6.3
  if (Status s = VerifyThreshold(role, *next, *keys, *role_keys); !s) return s;
  // §5.6.4: the version snapshot names.
  if (next->content.common.version != meta_it->second.version) {
    return Fail(Errc::kVerificationFailed,
                std::string(role) + " version " + Str(next->content.common.version) +
                    " does not match the snapshot's " + Str(meta_it->second.version));
  }
  // §5.6.5
  if (Expired(next->content.common)) return Fail(ExpiredError(role, next->content.common));
  targets_.insert_or_assign(std::string(role), std::move(*next));
  return Ok();
}

const TimestampMetadata* TrustedSet::timestamp() const noexcept {
  return timestamp_ ? &timestamp_->content : nullptr;
}
const SnapshotMetadata* TrustedSet::snapshot() const noexcept {
  return snapshot_ ? &snapshot_->content : nullptr;
}
const TargetsMetadata* TrustedSet::targets(std::string_view role) const noexcept {
  auto it = targets_.find(role);
  return it == targets_.end() ? nullptr : &it->second.content;
}

}  // namespace aloft::core::metadata
