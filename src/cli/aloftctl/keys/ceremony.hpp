#pragma once

// The key ceremony: creating the offline root and targets keys with root v1, and rotating keys
// later with a new root version signed per TUF (§5.3.4: a threshold of the old root keys AND
// of the new ones).

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/aloftctl/keys/online_keys.hpp"
#include "cli/aloftctl/repo/offline_repo.hpp"
#include "core/base/time.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::cli::aloftctl::keys {

// How many keys a role gets and how many of them must sign.
struct RoleSpec {
  int keys = 1;
  int threshold = 1;
};
// kInvalidArgument unless 1 <= threshold <= keys <= 32.
Status CheckRoleSpec(std::string_view role, const RoleSpec& spec);

struct InitOptions {
  RoleSpec root;
  RoleSpec targets;
  std::chrono::days root_expiry{365};
  core::crypto::KeyType key_type = core::crypto::KeyType::kEd25519;
};

struct KeyFile {
  std::string role;
  std::string keyid;
  std::filesystem::path path;
};

struct InitResult {
  std::vector<KeyFile> keys;
  std::int64_t root_version = 1;
};

// Creates the repository at `dir`, generates the keys (each saved encrypted under
// `passphrase`) and writes root v1 — consistent_snapshot true, the server's online keys for
// snapshot and timestamp (threshold 1), expiring `now` + root_expiry — signed by every root
// key. kAlreadyExists when `dir` already holds a repository.
Result<InitResult> InitRepository(const std::filesystem::path& dir, const InitOptions& options,
                                  const OnlinePublicKeys& online, std::string_view passphrase,
                                  Timestamp now);

enum class RotatedRole : std::uint8_t { kRoot, kTargets, kOnline };
Result<RotatedRole> ParseRotatedRole(std::string_view name);  // "root", "targets", "online"

struct RotateOptions {
  RotatedRole role = RotatedRole::kRoot;
  // New key count and threshold; nullopt keeps the current ones (root and targets only).
  std::optional<RoleSpec> spec;
  // kOnline: the server's new online keys.
  std::optional<OnlinePublicKeys> online;
  std::chrono::days root_expiry{365};
  // Lifetime of the targets version re-staged for new targets keys.
  std::chrono::days targets_expiry{365};
  // Keys that sign the new root right away (old root keys, typically). Others sign later with
  // `release sign`.
  std::vector<core::crypto::PrivateKey> signers;
};

struct RotateResult {
  std::int64_t root_version = 0;
  std::vector<KeyFile> new_keys;  // saved under `passphrase`
  // For new targets keys, the current targets re-staged (same releases, version + 1,
  // unsigned) so the new keys can sign them; 0 when there were none.
  std::int64_t restaged_targets_version = 0;
};

// Writes root version latest+1 with the role's keys replaced (new keys generated and saved
// under `passphrase`) or, for kOnline, the online snapshot and timestamp keys replaced. The
// new root is signed by the new root keys (root rotation) and by `signers`. Refused
// (kInvalidArgument) while the latest root is still incomplete: finish signing it first.
Result<RotateResult> RotateKeys(const repo::OfflineRepo& repo, const RotateOptions& options,
                                std::string_view passphrase, Timestamp now);

}  // namespace aloft::cli::aloftctl::keys
