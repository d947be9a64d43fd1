#include "testing/repo_builder.hpp"

#include <cstdlib>
#include <iostream>

#include "core/crypto/hash.hpp"
#include "core/metadata/updater.hpp"

namespace aloft::testing {

using core::codec::Json;
using core::crypto::PrivateKey;
using namespace core::metadata;

namespace {
constexpr std::chrono::days kLifetime{365};

// Fixture code: a failure here is a broken test setup, not a condition to handle.
template <class T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    std::cerr << "RepoBuilder: " << what << ": " << r.error().ToString() << "\n";
    std::abort();
  }
  return std::move(*r);
}

Common MakeCommon(std::string_view type, Timestamp now) {
  return Common{std::string(type), std::string(kSpecVersion), 1, now + kLifetime};
}

MetaFile DescribeFile(std::int64_t version, const Bytes& bytes, bool with_hashes) {
  MetaFile m;
  m.version = version;
  if (with_hashes) {
    m.length = static_cast<std::int64_t>(bytes.size());
    m.hashes = Hashes{{"sha256", core::crypto::Sha256Hex(bytes)}};
  }
  return m;
}
}  // namespace

Timestamp RepoBuilder::DefaultNow() {
  return Must(aloft::ParseTimestamp("2030-01-01T00:00:00Z"), "default time");
}

RepoBuilder::RepoBuilder(core::crypto::KeyType key_type, Timestamp now_time)
    : now(now_time), key_type_(key_type) {
  root.common = MakeCommon(kRoot, now);
  root.consistent_snapshot = true;
  for (std::string_view role : {kRoot, kTimestamp, kSnapshot, kTargets}) {
    root.roles[std::string(role)] = RoleKeys{{}, 1};
    AddRoleKey(role, NewKey());
  }
  timestamp.common = MakeCommon(kTimestamp, now);
  timestamp.snapshot_meta.version = 1;
  snapshot.common = MakeCommon(kSnapshot, now);
  snapshot.meta["targets.json"].version = 1;
  targets[std::string(kTargets)].common = MakeCommon(kTargets, now);
  root_history.push_back(Sign(ToJson(root), kRoot));
}

PrivateKey RepoBuilder::NewKey() const {
  return Must(PrivateKey::Generate(key_type_), "generate key");
}

void RepoBuilder::AddRoleKey(std::string_view role, const PrivateKey& key) {
  std::string keyid = key.KeyId();
  root.keys[keyid] = ToListedKey(key.Public());
  root.roles[std::string(role)].keyids.push_back(keyid);
  signers[std::string(role)].push_back(key);
}

void RepoBuilder::SetRoleKeys(std::string_view role, const std::vector<PrivateKey>& keys) {
  root.roles[std::string(role)].keyids.clear();
  signers[std::string(role)].clear();
  for (const auto& key : keys) AddRoleKey(role, key);
}

void RepoBuilder::AddTarget(std::string path, Bytes content, std::string_view role) {
  TargetFile file;
  file.length = static_cast<std::int64_t>(content.size());
  file.hashes = {{"sha256", core::crypto::Sha256Hex(content)}};
  targets[std::string(role)].targets[path] = std::move(file);
  artifacts[std::move(path)] = std::move(content);
}

void RepoBuilder::Delegate(std::string_view delegator, DelegatedRole role,
                           const std::vector<PrivateKey>& keys) {
  TargetsMetadata& parent = targets.at(std::string(delegator));
  if (!parent.delegations) parent.delegations.emplace();
  role.keys.keyids.clear();
  for (const auto& key : keys) {
    parent.delegations->keys[key.KeyId()] = ToListedKey(key.Public());
    role.keys.keyids.push_back(key.KeyId());
  }
  signers[role.name] = keys;
  TargetsMetadata& child = targets[role.name];
  child.common = MakeCommon(kTargets, now);
  snapshot.meta[role.name + ".json"].version = 1;
  parent.delegations->roles.push_back(std::move(role));
}

void RepoBuilder::PublishRoot(const std::vector<PrivateKey>& extra_signers) {
  root.common.version += 1;
  Json envelope = Must(SignMetadata(ToJson(root), signers.at(std::string(kRoot))), "sign root");
  for (const auto& key : extra_signers) {
    if (!AddSignature(envelope, key)) std::abort();  // only fails for a malformed envelope
  }
  std::string text = Serialize(envelope);
  root_history.emplace_back(text.begin(), text.end());
}

void RepoBuilder::BumpTargets(std::string_view role) {
  targets.at(std::string(role)).common.version += 1;
}

void RepoBuilder::BumpSnapshot() {
  for (const auto& [role, md] : targets) snapshot.meta[role + ".json"].version = md.common.version;
  snapshot.common.version += 1;
}

void RepoBuilder::BumpTimestamp() {
  timestamp.snapshot_meta.version = snapshot.common.version;
  timestamp.common.version += 1;
}

void RepoBuilder::PublishTargetsChange(std::string_view role) {
  BumpTargets(role);
  BumpSnapshot();
  BumpTimestamp();
}

Bytes RepoBuilder::Sign(const Json& signed_json, std::string_view role) const {
  auto it = signers.find(role);
  std::vector<PrivateKey> keys = it == signers.end() ? std::vector<PrivateKey>{} : it->second;
  std::string text = Serialize(Must(SignMetadata(signed_json, keys), "sign"));
  return Bytes(text.begin(), text.end());
}

Bytes RepoBuilder::RoleBytes(std::string_view role) const {
  if (role == kRoot) return root_history.back();
  if (role == kTimestamp || role == kSnapshot) {
    auto files = Files();
    return role == kTimestamp ? files.at("metadata/timestamp.json")
                              : files.at("metadata/snapshot.json");
  }
  const TargetsMetadata& md = targets.at(std::string(role));
  return Sign(ToJson(md), role);
}

std::map<std::string, Bytes> RepoBuilder::Files() const {
  std::map<std::string, Bytes> files;
  for (std::size_t i = 0; i < root_history.size(); ++i) {
    files["metadata/" + std::to_string(i + 1) + ".root.json"] = root_history[i];
  }
  SnapshotMetadata snap = snapshot;
  for (const auto& [role, md] : targets) {
    Bytes bytes = Sign(ToJson(md), role);
    std::string quoted = PercentEncode(role);
    files["metadata/" + std::to_string(md.common.version) + "." + quoted + ".json"] = bytes;
    files["metadata/" + quoted + ".json"] = bytes;
    if (meta_hashes) {
      auto it = snap.meta.find(role + ".json");
      std::int64_t version = it == snap.meta.end() ? md.common.version : it->second.version;
      snap.meta[role + ".json"] = DescribeFile(version, bytes, true);
    }
  }
  Bytes snap_bytes = Sign(ToJson(snap), kSnapshot);
  files["metadata/" + std::to_string(snap.common.version) + ".snapshot.json"] = snap_bytes;
  files["metadata/snapshot.json"] = snap_bytes;
  TimestampMetadata ts = timestamp;
  if (meta_hashes) ts.snapshot_meta = DescribeFile(ts.snapshot_meta.version, snap_bytes, true);
  files["metadata/timestamp.json"] = Sign(ToJson(ts), kTimestamp);
  for (const auto& [path, content] : artifacts) {
    files["targets/" + path] = content;
    std::size_t slash = path.rfind('/');
    std::size_t base = slash == std::string::npos ? 0 : slash + 1;
    files["targets/" + path.substr(0, base) + core::crypto::Sha256Hex(content) + "." +
          path.substr(base)] = content;
  }
  return files;
}

}  // namespace aloft::testing
