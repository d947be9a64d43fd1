#pragma once

// Threshold signing of the staged root and targets, one key holder at a time, and the checks
// that decide whether they are complete: the same verification a device runs (core's
// TrustedSet and VerifyThreshold), so "complete" here means "aloftd and devices will accept
// the signatures".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/aloftctl/repo/offline_repo.hpp"
#include "core/base/time.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"

namespace aloft::cli::aloftctl::repo {

// One stored metadata version: the envelope (to add signatures to) and its parsed view.
template <class T>
struct StoredMetadata {
  std::int64_t version = 0;
  Bytes bytes;
  core::codec::Json envelope;
  core::metadata::Untrusted<T> parsed;
};

Result<StoredMetadata<core::metadata::RootMetadata>> LoadRoot(const OfflineRepo& repo,
                                                              std::int64_t version);
Result<StoredMetadata<core::metadata::RootMetadata>> LoadLatestRoot(const OfflineRepo& repo);
// nullopt when no targets version exists yet.
Result<std::optional<StoredMetadata<core::metadata::TargetsMetadata>>> LoadLatestTargets(
    const OfflineRepo& repo);

// One set of keys of which `threshold` must sign.
struct Requirement {
  std::string label;  // "root v2 root keys", "root v1 root keys (rotation)", "targets keys"
  std::int64_t threshold = 1;
  std::vector<std::string> keyids;     // who may sign
  std::vector<std::string> signed_by;  // of those, whose signature verifies
  bool met() const noexcept { return static_cast<std::int64_t>(signed_by.size()) >= threshold; }
};

struct SigningState {
  std::string role;  // "root" or "targets"
  std::int64_t version = 0;
  Timestamp expires{};
  std::vector<Requirement> requirements;
  // Every requirement met, as decided by core's verifier (not by the counts above).
  bool complete = false;
};

// The latest root: a threshold of its own root keys and, from version 2 on, of the previous
// version's root keys (TUF §5.3.4).
Result<SigningState> RootSigningState(const OfflineRepo& repo);
// The latest targets against the latest root's targets role; nullopt without targets.
Result<std::optional<SigningState>> TargetsSigningState(const OfflineRepo& repo);

struct SignedFile {
  std::string role;
  std::int64_t version = 0;
  bool complete = false;  // after this signature
};

// Adds `key`'s signature to each staged, incomplete metadata file it may sign and has not
// signed yet (`only_role` "root" or "targets" restricts the choice). Errors, all
// kInvalidArgument: the key may sign none of them ("key ... is not a root or targets key of
// the staged metadata"), its signature is there already, or what it may sign is complete.
Result<std::vector<SignedFile>> SignStaged(const OfflineRepo& repo,
                                           const core::crypto::PrivateKey& key,
                                           std::optional<std::string> only_role = std::nullopt);

// Verifies the root chain 1..latest the way a device with root v1 does (each step signed by
// a threshold of the old and the new root keys, versions one apart) and that the latest root
// has not expired at `now`. kVerificationFailed / kExpired / kRollback name the version.
Status VerifyRootChain(const OfflineRepo& repo, Timestamp now);
// Verifies the latest targets against the latest root: threshold and expiry.
Status VerifyLatestTargets(const OfflineRepo& repo, Timestamp now);

}  // namespace aloft::cli::aloftctl::repo
