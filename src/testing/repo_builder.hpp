#pragma once

// Builds signed TUF repositories with the library itself, for tests and benchmarks (the idea
// of aktualizr's uptane-generator and python-tuf's RepositorySimulator). Every role's content
// is a public member that a test may edit, including into something malicious; Files()
// signs the current state and returns what a repository would serve.

#include <map>
#include <string>
#include <vector>

#include "core/base/time.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"

namespace aloft::testing {

class RepoBuilder {
 public:
  // One key per top-level role (threshold 1), every role at version 1, consistent
  // snapshots on, everything expiring `now` + 365 days. Root v1 is published.
  explicit RepoBuilder(core::crypto::KeyType key_type = core::crypto::KeyType::kEd25519,
                       Timestamp now = DefaultNow());
  static Timestamp DefaultNow();  // 2030-01-01T00:00:00Z: tests use a fixed clock

  core::crypto::PrivateKey NewKey() const;

  // Adds `key` to a top-level role's key list (and to the role's signers).
  void AddRoleKey(std::string_view role, const core::crypto::PrivateKey& key);
  // Replaces a top-level role's keys with `keys` (signers too).
  void SetRoleKeys(std::string_view role, const std::vector<core::crypto::PrivateKey>& keys);

  // Adds a target file to `role` (top-level "targets" or a delegated role).
  void AddTarget(std::string path, Bytes content, std::string_view role = "targets");
  // Adds a delegation from `delegator` to a new role signed by `keys`.
  void Delegate(std::string_view delegator, core::metadata::DelegatedRole role,
                const std::vector<core::crypto::PrivateKey>& keys);

  // Version bumps, as a repository publishing a change would do them.
  // PublishRoot signs root.version+1 with the root signers and `extra_signers` (for a
  // rotation: the old root keys) and adds it to the served history.
  void PublishRoot(const std::vector<core::crypto::PrivateKey>& extra_signers = {});
  void BumpTargets(std::string_view role = "targets");
  void BumpSnapshot();   // syncs meta versions of every targets role, then version+1
  void BumpTimestamp();  // points at the current snapshot version, then version+1
  // Everything after a targets change: targets, snapshot and timestamp bumped.
  void PublishTargetsChange(std::string_view role = "targets");

  // Signed bytes of a role as served now ("root" gives the latest published root).
  Bytes RoleBytes(std::string_view role) const;
  Bytes RootBytes(std::int64_t version) const { return root_history.at(static_cast<std::size_t>(version - 1)); }

  // Every file a repository serves, by path: "metadata/<N>.root.json",
  // "metadata/timestamp.json", "metadata/<V>.snapshot.json" (and unversioned copies of
  // snapshot and targets roles), "targets/<path>" and "targets/<dir>/<sha256>.<name>".
  std::map<std::string, Bytes> Files() const;

  // The repository's content, free to edit.
  Timestamp now;
  core::metadata::RootMetadata root;
  core::metadata::TimestampMetadata timestamp;
  core::metadata::SnapshotMetadata snapshot;
  std::map<std::string, core::metadata::TargetsMetadata, std::less<>> targets;  // by role
  std::map<std::string, std::vector<core::crypto::PrivateKey>, std::less<>> signers;  // by role
  std::map<std::string, Bytes, std::less<>> artifacts;  // by target path
  std::vector<Bytes> root_history;                      // published roots, version 1 first
  // When true, timestamp and snapshot list length and sha256 of the files they describe.
  bool meta_hashes = false;

 private:
  core::crypto::KeyType key_type_;
  Bytes Sign(const core::codec::Json& signed_json, std::string_view role) const;
};

}  // namespace aloft::testing
