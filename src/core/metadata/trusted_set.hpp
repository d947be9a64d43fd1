#pragma once

// The client's trusted metadata, and the only way to change it: every Update* takes untrusted
// bytes, runs the checks of the TUF specification §5.3–5.6 in order, and only then replaces
// what is trusted. Pure: no I/O and no clock of its own (the reference time is fixed when
// the set is created, as the specification asks: §5.1 "record the time at which the update
// began"). The caller persists the bytes of an update only when it returned Ok().

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/time.hpp"
#include "core/metadata/model.hpp"

namespace aloft::core::metadata {

class TrustedSet {
 public:
  // §5.2: loads the trusted root (shipped with the device or stored after a previous update).
  // It must be signed by a threshold of its own root keys; its expiry is not checked here
  // (an expired local root is the normal starting point of a root rotation).
  static Result<TrustedSet> Create(ByteView root_bytes, Timestamp reference_time);

  // §5.3.4–5.3.8: one step of the root chain. The new root must be signed by a threshold of
  // the trusted root's root keys and of its own, and its version must be exactly one more.
  // Not allowed once a timestamp is trusted. Expiry is checked afterwards, by
  // CheckRootFresh(), because an intermediate root may well have expired.
  Status UpdateRoot(ByteView bytes);
  // §5.3.10: kExpired if the final root has expired.
  Status CheckRootFresh() const;

  // §5.4. Returns false, trusting nothing new, when the version equals the trusted one.
  // A timestamp that verifies but has expired is kept for rollback checks and kExpired is
  // returned (python-tuf does the same), so the caller must not persist it.
  Result<bool> UpdateTimestamp(ByteView bytes);

  // §5.5. `from_cache`: the bytes were verified and stored by an earlier update, so the
  // length and hashes listed by the current timestamp are not re-checked. A snapshot that
  // verifies but has expired or does not match the timestamp's version is kept for rollback
  // checks and the error returned.
  Status UpdateSnapshot(ByteView bytes, bool from_cache);

  // §5.6: top-level targets, delegated by root.
  Status UpdateTargets(ByteView bytes) { return UpdateDelegatedTargets(bytes, kTargets, kRoot); }
  // §5.6 for a delegated role: `delegator` must be trusted already and delegate `role`.
  Status UpdateDelegatedTargets(ByteView bytes, std::string_view role, std::string_view delegator);

  Timestamp reference_time() const noexcept { return reference_time_; }
  const RootMetadata& root() const noexcept { return root_.content; }
  const TimestampMetadata* timestamp() const noexcept;
  const SnapshotMetadata* snapshot() const noexcept;
  const TargetsMetadata* targets(std::string_view role = kTargets) const noexcept;

 private:
  explicit TrustedSet(Timestamp reference_time) : reference_time_(reference_time) {}
  Status CheckTimestampFinal() const;
  Status CheckSnapshotFinal() const;
  bool Expired(const Common& c) const noexcept { return c.expires <= reference_time_; }

  Timestamp reference_time_;
  Untrusted<RootMetadata> root_;
  std::optional<Untrusted<TimestampMetadata>> timestamp_;
  std::optional<Untrusted<SnapshotMetadata>> snapshot_;
  std::map<std::string, Untrusted<TargetsMetadata>, std::less<>> targets_;
};

}  // namespace aloft::core::metadata
