#include "cli/aloftctl/keys/ceremony.hpp"

#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/metadata/model.hpp"
#include "platform/posix/files.hpp"

namespace aloft::cli::aloftctl::keys {
namespace {

namespace md = core::metadata;
using core::crypto::PrivateKey;

constexpr int kMaxKeysPerRole = 32;

struct GeneratedRole {
  std::vector<PrivateKey> keys;
  std::vector<KeyFile> files;
};

Result<GeneratedRole> GenerateRole(const std::filesystem::path& keys_dir, std::string_view role,
                                   int count, core::crypto::KeyType type,
                                   std::string_view passphrase) {
  GeneratedRole out;
  for (int i = 0; i < count; ++i) {
    auto key = PrivateKey::Generate(type);
    if (!key) return Fail(key.error());
    auto path = SaveKey(keys_dir, role, *key, passphrase);
    if (!path) return Fail(path.error());
    out.files.push_back({std::string(role), key->KeyId(), *path});
    out.keys.push_back(std::move(*key));
  }
  return out;
}

// Lists `keys` as the keys of `role` (replacing its previous ones) with `threshold`.
void SetRole(md::RootMetadata& root, std::string_view role,
             const std::vector<core::crypto::PublicKey>& keys, std::int64_t threshold) {
  md::RoleKeys rk;
  rk.threshold = threshold;
  for (const auto& key : keys) {
    const std::string id = key.ComputeKeyId();
    root.keys[id] = md::ToListedKey(key);
    rk.keyids.push_back(id);
  }
  root.roles[std::string(role)] = std::move(rk);
}

// Drops keys no role lists any more, so a rotated-out key cannot linger in the key ring.
void DropUnusedKeys(md::RootMetadata& root) {
  for (auto it = root.keys.begin(); it != root.keys.end();) {
    bool used = false;
    for (const auto& [name, rk] : root.roles) {
      used = used || std::find(rk.keyids.begin(), rk.keyids.end(), it->first) != rk.keyids.end();
    }
    it = used ? std::next(it) : root.keys.erase(it);
  }
}

std::vector<core::crypto::PublicKey> Publics(const std::vector<PrivateKey>& keys) {
  std::vector<core::crypto::PublicKey> out;
  for (const auto& key : keys) out.push_back(key.Public());
  return out;
}

Status WriteOnlineKeys(const repo::OfflineRepo& repo, const OnlinePublicKeys& online) {
  core::codec::Json doc = core::codec::Json::Object{
      {"snapshot", core::codec::Json::Object{{"keyid", online.snapshot.ComputeKeyId()},
                                             {"key", online.snapshot.ToTufJson()}}},
      {"timestamp", core::codec::Json::Object{{"keyid", online.timestamp.ComputeKeyId()},
                                              {"key", online.timestamp.ToTufJson()}}}};
  return platform::posix::AtomicWriteFile(repo.online_keys_file(),
                                          AsBytes(core::codec::DumpJson(doc, true) + "\n"), 0644);
}

}  // namespace

Status CheckRoleSpec(std::string_view role, const RoleSpec& spec) {
  if (spec.keys < 1 || spec.keys > kMaxKeysPerRole || spec.threshold < 1 ||
      spec.threshold > spec.keys) {
    return Fail(Errc::kInvalidArgument, std::string(role) + ": need 1 <= threshold <= keys <= " +
                                            std::to_string(kMaxKeysPerRole) + " (got " +
                                            std::to_string(spec.keys) + " keys, threshold " +
                                            std::to_string(spec.threshold) + ")");
  }
  return Ok();
}

Result<InitResult> InitRepository(const std::filesystem::path& dir, const InitOptions& options,
                                  const OnlinePublicKeys& online, std::string_view passphrase,
                                  Timestamp now) {
  if (Status s = CheckRoleSpec("root", options.root); !s) return Fail(s.error());
  if (Status s = CheckRoleSpec("targets", options.targets); !s) return Fail(s.error());
  if (passphrase.size() < kMinPassphraseLength) {
    return Fail(Errc::kInvalidArgument, "the passphrase must have at least " +
                                            std::to_string(kMinPassphraseLength) + " characters");
  }
  auto repo = repo::OfflineRepo::Create(dir);
  if (!repo) return Fail(repo.error());
  auto root_keys =
      GenerateRole(repo->keys_dir(), md::kRoot, options.root.keys, options.key_type, passphrase);
  if (!root_keys) return Fail(root_keys.error());
  auto targets_keys = GenerateRole(repo->keys_dir(), md::kTargets, options.targets.keys,
                                   options.key_type, passphrase);
  if (!targets_keys) return Fail(targets_keys.error());

  md::RootMetadata root;
  root.common.type = std::string(md::kRoot);
  root.common.version = 1;
  root.common.expires = now + options.root_expiry;
  root.consistent_snapshot = true;  // aloftd serves versioned files only
  SetRole(root, md::kRoot, Publics(root_keys->keys), options.root.threshold);
  SetRole(root, md::kTargets, Publics(targets_keys->keys), options.targets.threshold);
  SetRole(root, md::kSnapshot, {online.snapshot}, 1);
  SetRole(root, md::kTimestamp, {online.timestamp}, 1);
  auto envelope = md::SignMetadata(md::ToJson(root), root_keys->keys);
  if (!envelope) return Fail(envelope.error());
  if (Status s = repo->WriteMetadata(md::kRoot, 1, *envelope); !s) return Fail(s.error());
  if (Status s = WriteOnlineKeys(*repo, online); !s) return Fail(s.error());

  InitResult result;
  result.keys = std::move(root_keys->files);
  result.keys.insert(result.keys.end(), targets_keys->files.begin(), targets_keys->files.end());
  return result;
}

Result<RotatedRole> ParseRotatedRole(std::string_view name) {
  if (name == "root") return RotatedRole::kRoot;
  if (name == "targets") return RotatedRole::kTargets;
  if (name == "online") return RotatedRole::kOnline;
  return Fail(Errc::kInvalidArgument,
              "cannot rotate '" + std::string(name) + "': use root, targets or online");
}

Result<RotateResult> RotateKeys(const repo::OfflineRepo& repo, const RotateOptions& options,
                                std::string_view passphrase, Timestamp now) {
  auto state = repo::RootSigningState(repo);
  if (!state) return Fail(state.error());
  if (!state->complete) {
    return Fail(Errc::kInvalidArgument,
                "root v" + std::to_string(state->version) +
                    " is not fully signed yet; collect its signatures (`aloftctl release sign`) "
                    "before starting another rotation");
  }
  auto current = repo::LoadLatestRoot(repo);
  if (!current) return Fail(current.error());
  md::RootMetadata root = current->parsed.content;
  root.common.version = current->version + 1;
  root.common.expires = now + options.root_expiry;

  RotateResult result;
  result.root_version = root.common.version;
  std::vector<PrivateKey> new_root_keys;
  if (options.role == RotatedRole::kOnline) {
    if (!options.online) {
      return Fail(Errc::kInvalidArgument, "rotating the online keys needs --online-keys FILE");
    }
    SetRole(root, md::kSnapshot, {options.online->snapshot}, 1);
    SetRole(root, md::kTimestamp, {options.online->timestamp}, 1);
  } else {
    const std::string_view role = options.role == RotatedRole::kRoot ? md::kRoot : md::kTargets;
    const md::RoleKeys& old = root.roles.at(std::string(role));
    RoleSpec spec = options.spec.value_or(
        RoleSpec{static_cast<int>(old.keyids.size()), static_cast<int>(old.threshold)});
    if (Status s = CheckRoleSpec(role, spec); !s) return Fail(s.error());
    if (passphrase.size() < kMinPassphraseLength) {
      return Fail(Errc::kInvalidArgument, "the passphrase must have at least " +
                                              std::to_string(kMinPassphraseLength) + " characters");
    }
    // The key type follows the first key of the role being replaced.
    core::crypto::KeyType type = core::crypto::KeyType::kEd25519;
    if (auto listed = root.keys.find(old.keyids.front());
        listed != root.keys.end() && listed->second.key) {
      type = listed->second.key->type();
    }
    auto generated = GenerateRole(repo.keys_dir(), role, spec.keys, type, passphrase);
    if (!generated) return Fail(generated.error());
    SetRole(root, role, Publics(generated->keys), spec.threshold);
    result.new_keys = std::move(generated->files);
    if (options.role == RotatedRole::kRoot) new_root_keys = std::move(generated->keys);
  }
  DropUnusedKeys(root);

  auto envelope = md::SignMetadata(md::ToJson(root), new_root_keys);
  if (!envelope) return Fail(envelope.error());
  for (const auto& key : options.signers) {
    if (Status s = md::AddSignature(*envelope, key); !s) return Fail(s.error());
  }
  if (Status s = repo.WriteMetadata(md::kRoot, root.common.version, *envelope); !s) {
    return Fail(s.error());
  }
  if (options.role == RotatedRole::kOnline) {
    if (Status s = WriteOnlineKeys(repo, *options.online); !s) return Fail(s.error());
  }

  if (options.role == RotatedRole::kTargets) {
    auto targets = repo::LoadLatestTargets(repo);
    if (!targets) return Fail(targets.error());
    if (*targets) {
      md::TargetsMetadata content = (*targets)->parsed.content;
      content.common.version = (*targets)->version + 1;
      content.common.expires = now + options.targets_expiry;
      core::codec::Json unsigned_envelope = core::codec::Json::Object{
          {"signatures", core::codec::Json::Array{}}, {"signed", md::ToJson(content)}};
      if (Status s = repo.WriteMetadata(md::kTargets, content.common.version, unsigned_envelope);
          !s) {
        return Fail(s.error());
      }
      result.restaged_targets_version = content.common.version;
    }
  }
  return result;
}

}  // namespace aloft::cli::aloftctl::keys
