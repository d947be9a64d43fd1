#include "cli/aloftctl/repo/signing.hpp"

#include <algorithm>

#include "core/base/hex.hpp"
#include "core/metadata/trusted_set.hpp"
#include "core/metadata/verify.hpp"

namespace aloft::cli::aloftctl::repo {
namespace {

namespace md = core::metadata;

template <class T, class ParseFn>
Result<StoredMetadata<T>> Load(const OfflineRepo& repo, std::string_view role, std::int64_t version,
                               ParseFn parse) {
  auto bytes = repo.ReadMetadata(role, version);
  if (!bytes) return Fail(bytes.error());
  const std::string what = std::to_string(version) + "." + std::string(role) + ".json";
  auto parsed = parse(*bytes);
  if (!parsed) return Fail(std::move(parsed).error().WithContext(what));
  if (parsed->content.common.version != version) {
    return Fail(Errc::kCorrupt,
                what + " says it is version " + std::to_string(parsed->content.common.version));
  }
  auto envelope = core::codec::ParseJson(AsChars(*bytes));
  if (!envelope) return Fail(std::move(envelope).error().WithContext(what));
  StoredMetadata<T> stored;
  stored.version = version;
  stored.bytes = std::move(*bytes);
  stored.envelope = std::move(*envelope);
  stored.parsed = std::move(*parsed);
  return stored;
}

// The key IDs in `role` whose signature over `canonical` verifies with the listed key.
std::vector<std::string> ValidSigners(const std::string& canonical,
                                      const std::vector<md::Signature>& signatures,
                                      const md::KeyRing& keys, const md::RoleKeys& role) {
  std::vector<std::string> out;
  for (const md::Signature& sig : signatures) {
    if (std::find(role.keyids.begin(), role.keyids.end(), sig.keyid) == role.keyids.end()) continue;
    auto listed = keys.find(sig.keyid);
    if (listed == keys.end() || !listed->second.key) continue;
    auto raw = HexDecode(sig.sig);
    if (!raw || !listed->second.key->Verify(AsBytes(canonical), *raw)) continue;
    if (std::find(out.begin(), out.end(), sig.keyid) == out.end()) out.push_back(sig.keyid);
  }
  return out;
}

Requirement MakeRequirement(std::string label, const std::string& canonical,
                            const std::vector<md::Signature>& signatures, const md::KeyRing& keys,
                            const md::RoleKeys& role) {
  return Requirement{std::move(label), role.threshold, role.keyids,
                     ValidSigners(canonical, signatures, keys, role)};
}

Result<md::RoleKeys> RoleOf(const md::RootMetadata& root, std::string_view role) {
  auto it = root.roles.find(role);
  if (it == root.roles.end()) {
    return Fail(Errc::kCorrupt, "root v" + std::to_string(root.common.version) + " has no '" +
                                    std::string(role) + "' role");
  }
  return it->second;
}

bool Lists(const md::RoleKeys& role, const std::string& keyid) {
  return std::find(role.keyids.begin(), role.keyids.end(), keyid) != role.keyids.end();
}

// Whether `keyid` has a valid signature counted by any of the state's requirements.
bool HasSigned(const SigningState& state, const std::string& keyid) {
  for (const Requirement& r : state.requirements) {
    if (std::find(r.signed_by.begin(), r.signed_by.end(), keyid) != r.signed_by.end()) return true;
  }
  return false;
}

}  // namespace

Result<StoredMetadata<md::RootMetadata>> LoadRoot(const OfflineRepo& repo, std::int64_t version) {
  return Load<md::RootMetadata>(repo, md::kRoot, version, md::ParseRoot);
}

Result<StoredMetadata<md::RootMetadata>> LoadLatestRoot(const OfflineRepo& repo) {
  auto latest = repo.LatestVersion(md::kRoot);
  if (!latest) return Fail(latest.error());
  if (*latest == 0) return Fail(Errc::kNotFound, "the repository has no root");
  return LoadRoot(repo, *latest);
}

Result<std::optional<StoredMetadata<md::TargetsMetadata>>> LoadLatestTargets(
    const OfflineRepo& repo) {
  auto latest = repo.LatestVersion(md::kTargets);
  if (!latest) return Fail(latest.error());
  if (*latest == 0) return std::optional<StoredMetadata<md::TargetsMetadata>>();
  auto stored = Load<md::TargetsMetadata>(repo, md::kTargets, *latest, md::ParseTargets);
  if (!stored) return Fail(stored.error());
  return std::optional<StoredMetadata<md::TargetsMetadata>>(std::move(*stored));
}

Result<SigningState> RootSigningState(const OfflineRepo& repo) {
  auto root = LoadLatestRoot(repo);
  if (!root) return Fail(root.error());
  const md::RootMetadata& content = root->parsed.content;
  SigningState state;
  state.role = std::string(md::kRoot);
  state.version = root->version;
  state.expires = content.common.expires;
  auto own = RoleOf(content, md::kRoot);
  if (!own) return Fail(own.error());
  state.requirements.push_back(
      MakeRequirement("root v" + std::to_string(root->version) + " root keys",
                      root->parsed.canonical, root->parsed.signatures, content.keys, *own));
  if (root->version == 1) {
    state.complete = md::TrustedSet::Create(root->bytes, content.common.expires).has_value();
    return state;
  }
  auto previous = LoadRoot(repo, root->version - 1);
  if (!previous) return Fail(previous.error());
  auto old_role = RoleOf(previous->parsed.content, md::kRoot);
  if (!old_role) return Fail(old_role.error());
  state.requirements.push_back(MakeRequirement(
      "root v" + std::to_string(previous->version) + " root keys (rotation)",
      root->parsed.canonical, root->parsed.signatures, previous->parsed.content.keys, *old_role));
  // The verdict is core's: the previous root as trusted, this one as the next chain step.
  auto chain = md::TrustedSet::Create(previous->bytes, previous->parsed.content.common.expires);
  state.complete = chain && chain->UpdateRoot(root->bytes).has_value();
  return state;
}

Result<std::optional<SigningState>> TargetsSigningState(const OfflineRepo& repo) {
  auto targets = LoadLatestTargets(repo);
  if (!targets) return Fail(targets.error());
  if (!*targets) return std::optional<SigningState>();
  auto root = LoadLatestRoot(repo);
  if (!root) return Fail(root.error());
  auto role = RoleOf(root->parsed.content, md::kTargets);
  if (!role) return Fail(role.error());
  const auto& stored = **targets;
  SigningState state;
  state.role = std::string(md::kTargets);
  state.version = stored.version;
  state.expires = stored.parsed.content.common.expires;
  state.requirements.push_back(MakeRequirement(
      "targets keys (root v" + std::to_string(root->version) + ")", stored.parsed.canonical,
      stored.parsed.signatures, root->parsed.content.keys, *role));
  state.complete =
      md::VerifyThreshold(md::kTargets, stored.parsed, root->parsed.content.keys, *role)
          .has_value();
  return std::optional<SigningState>(std::move(state));
}

Result<std::vector<SignedFile>> SignStaged(const OfflineRepo& repo,
                                           const core::crypto::PrivateKey& key,
                                           std::optional<std::string> only_role) {
  const std::string keyid = key.KeyId();
  std::vector<SignedFile> signed_files;
  std::vector<std::string> already_signed;  // incomplete, but this key's signature is there
  bool eligible_anywhere = false;

  auto root = LoadLatestRoot(repo);
  if (!root) return Fail(root.error());
  if (!only_role || *only_role == md::kRoot) {
    auto own = RoleOf(root->parsed.content, md::kRoot);
    if (!own) return Fail(own.error());
    bool eligible = Lists(*own, keyid);
    if (root->version > 1) {
      auto previous = LoadRoot(repo, root->version - 1);
      if (!previous) return Fail(previous.error());
      auto old_role = RoleOf(previous->parsed.content, md::kRoot);
      if (!old_role) return Fail(old_role.error());
      eligible = eligible || Lists(*old_role, keyid);
    }
    auto state = RootSigningState(repo);
    if (!state) return Fail(state.error());
    eligible_anywhere = eligible_anywhere || eligible;
    if (eligible && !state->complete && HasSigned(*state, keyid)) {
      already_signed.push_back("root v" + std::to_string(root->version));
    } else if (eligible && !state->complete) {
      if (Status s = md::AddSignature(root->envelope, key); !s) return Fail(s.error());
      if (Status s = repo.WriteMetadata(md::kRoot, root->version, root->envelope); !s) {
        return Fail(s.error());
      }
      auto after = RootSigningState(repo);
      if (!after) return Fail(after.error());
      signed_files.push_back({std::string(md::kRoot), root->version, after->complete});
    }
  }

  if (!only_role || *only_role == md::kTargets) {
    auto targets = LoadLatestTargets(repo);
    if (!targets) return Fail(targets.error());
    auto role = RoleOf(root->parsed.content, md::kTargets);
    if (!role) return Fail(role.error());
    const bool eligible = Lists(*role, keyid) && targets->has_value();
    eligible_anywhere = eligible_anywhere || eligible;
    if (eligible) {
      auto state = TargetsSigningState(repo);
      if (!state) return Fail(state.error());
      if (*state && !(*state)->complete && HasSigned(**state, keyid)) {
        already_signed.push_back("targets v" + std::to_string((*state)->version));
      } else if (*state && !(*state)->complete) {
        auto& stored = **targets;
        if (Status s = md::AddSignature(stored.envelope, key); !s) return Fail(s.error());
        if (Status s = repo.WriteMetadata(md::kTargets, stored.version, stored.envelope); !s) {
          return Fail(s.error());
        }
        auto after = TargetsSigningState(repo);
        if (!after) return Fail(after.error());
        signed_files.push_back(
            {std::string(md::kTargets), stored.version, *after && (*after)->complete});
      }
    }
  }

  if (!eligible_anywhere) {
    return Fail(Errc::kInvalidArgument, "key " + keyid + " is not " +
                                            (only_role ? "a " + *only_role + " key"
                                                       : std::string("a root or targets key")) +
                                            " of the staged metadata");
  }
  if (signed_files.empty() && !already_signed.empty()) {
    std::string list;
    for (const auto& what : already_signed) list += (list.empty() ? "" : ", ") + what;
    return Fail(Errc::kInvalidArgument, "key " + keyid + " has signed " + list +
                                            " already; another key holder must sign next");
  }
  if (signed_files.empty()) {
    return Fail(Errc::kInvalidArgument,
                "nothing to sign with key " + keyid + ": what it may sign is complete already");
  }
  return signed_files;
}

Status VerifyRootChain(const OfflineRepo& repo, Timestamp now) {
  auto latest = repo.LatestVersion(md::kRoot);
  if (!latest) return Fail(latest.error());
  auto first = repo.ReadMetadata(md::kRoot, 1);
  if (!first) return Fail(first.error());
  auto trusted = md::TrustedSet::Create(*first, now);
  if (!trusted) return Fail(std::move(trusted).error().WithContext("root v1"));
  for (std::int64_t v = 2; v <= *latest; ++v) {
    auto bytes = repo.ReadMetadata(md::kRoot, v);
    if (!bytes) return Fail(bytes.error());
    if (Status s = trusted->UpdateRoot(*bytes); !s) {
      return Fail(std::move(s).error().WithContext("root v" + std::to_string(v)));
    }
  }
  if (Status s = trusted->CheckRootFresh(); !s) {
    return Fail(std::move(s).error().WithContext("root v" + std::to_string(*latest)));
  }
  return Ok();
}

Status VerifyLatestTargets(const OfflineRepo& repo, Timestamp now) {
  auto root = LoadLatestRoot(repo);
  if (!root) return Fail(root.error());
  auto targets = LoadLatestTargets(repo);
  if (!targets) return Fail(targets.error());
  if (!*targets) return Fail(Errc::kNotFound, "no targets staged: run `aloftctl release create`");
  auto role = RoleOf(root->parsed.content, md::kTargets);
  if (!role) return Fail(role.error());
  const auto& stored = **targets;
  const std::string what = "targets v" + std::to_string(stored.version);
  if (Status s = md::VerifyThreshold(md::kTargets, stored.parsed, root->parsed.content.keys, *role);
      !s) {
    return Fail(std::move(s).error().WithContext(what));
  }
  if (stored.parsed.content.common.expires <= now) {
    return Fail(Errc::kExpired,
                what + " expired at " + FormatTimestamp(stored.parsed.content.common.expires));
  }
  return Ok();
}

}  // namespace aloft::cli::aloftctl::repo
