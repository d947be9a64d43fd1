// Typed metadata → Json, and signing of envelopes.

#include "core/base/hex.hpp"
#include "core/metadata/model.hpp"

namespace aloft::core::metadata {
namespace {

using codec::Json;

Json CommonJson(const Common& c) {
  Json j = Json::Object{};
  j["_type"] = c.type;
  j["spec_version"] = c.spec_version.empty() ? std::string(kSpecVersion) : c.spec_version;
  j["version"] = c.version;
  j["expires"] = FormatTimestamp(c.expires);
  return j;
}

Json KeyRingJson(const KeyRing& ring) {
  Json::Object keys;
  for (const auto& [keyid, listed] : ring) keys.emplace(keyid, listed.json);
  return keys;
}

Json RoleKeysJson(const RoleKeys& rk) {
  Json::Array ids;
  for (const auto& id : rk.keyids) ids.emplace_back(id);
  Json j = Json::Object{};
  j["keyids"] = std::move(ids);
  j["threshold"] = rk.threshold;
  return j;
}

Json StringArray(const std::vector<std::string>& v) {
  Json::Array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

Json HashesJson(const Hashes& hashes) {
  Json::Object o;
  for (const auto& [alg, hex] : hashes) o.emplace(alg, hex);
  return o;
}

}  // namespace

Json ToJson(const MetaFile& meta) {
  Json j = Json::Object{};
  j["version"] = meta.version;
  if (meta.length) j["length"] = *meta.length;
  if (meta.hashes) j["hashes"] = HashesJson(*meta.hashes);
  return j;
}

Json ToJson(const TargetFile& target) {
  Json j = Json::Object{};
  j["length"] = target.length;
  j["hashes"] = HashesJson(target.hashes);
  if (!target.custom.IsNull()) j["custom"] = target.custom;
  return j;
}

Json ToJson(const RootMetadata& root) {
  Json j = CommonJson(root.common);
  j["consistent_snapshot"] = root.consistent_snapshot;
  j["keys"] = KeyRingJson(root.keys);
  Json::Object roles;
  for (const auto& [name, rk] : root.roles) roles.emplace(name, RoleKeysJson(rk));
  j["roles"] = std::move(roles);
  return j;
}

Json ToJson(const TimestampMetadata& timestamp) {
  Json j = CommonJson(timestamp.common);
  j["meta"] = Json::Object{{"snapshot.json", ToJson(timestamp.snapshot_meta)}};
  return j;
}

Json ToJson(const SnapshotMetadata& snapshot) {
  Json j = CommonJson(snapshot.common);
  Json::Object meta;
  for (const auto& [name, mf] : snapshot.meta) meta.emplace(name, ToJson(mf));
  j["meta"] = std::move(meta);
  return j;
}

Json ToJson(const TargetsMetadata& targets) {
  Json j = CommonJson(targets.common);
  Json::Object files;
  for (const auto& [path, tf] : targets.targets) files.emplace(path, ToJson(tf));
  j["targets"] = std::move(files);
  if (targets.delegations) {
    const Delegations& d = *targets.delegations;
    Json dj = Json::Object{};
    dj["keys"] = KeyRingJson(d.keys);
    if (d.succinct) {
      Json s = RoleKeysJson(d.succinct->keys);
      s["bit_length"] = d.succinct->bit_length;
      s["name_prefix"] = d.succinct->name_prefix;
      dj["succinct_roles"] = std::move(s);
    } else {
      Json::Array roles;
      for (const DelegatedRole& r : d.roles) {
        Json rj = RoleKeysJson(r.keys);
        rj["name"] = r.name;
        rj["terminating"] = r.terminating;
        if (r.paths) rj["paths"] = StringArray(*r.paths);
        if (r.path_hash_prefixes) rj["path_hash_prefixes"] = StringArray(*r.path_hash_prefixes);
        roles.push_back(std::move(rj));
      }
      dj["roles"] = std::move(roles);
    }
    j["delegations"] = std::move(dj);
  }
  return j;
}

ListedKey ToListedKey(const crypto::PublicKey& key) { return ListedKey{key.ToTufJson(), key}; }

Status AddSignature(Json& envelope, const crypto::PrivateKey& key) {
  const Json* signed_json = envelope.Find("signed");
  if (signed_json == nullptr || !signed_json->IsObject()) {
    return Fail(Errc::kInvalidArgument, "envelope has no 'signed' object");
  }
  auto sig = key.Sign(AsBytes(codec::CanonicalJson(*signed_json)));
  if (!sig) return Fail(sig.error());
  std::string keyid = key.KeyId();
  Json& sigs = envelope["signatures"];
  if (sigs.IsNull()) sigs = Json::Array{};
  if (!sigs.IsArray()) return Fail(Errc::kInvalidArgument, "'signatures' is not an array");
  Json entry = Json::Object{{"keyid", keyid}, {"sig", HexEncode(*sig)}};
  for (Json& existing : sigs.AsArray()) {
    if (const Json* id = existing.Find("keyid"); id != nullptr && id->IsString() &&
                                                 id->AsString() == keyid) {
      existing = std::move(entry);  // the same key signs once
      return Ok();
    }
  }
  sigs.AsArray().push_back(std::move(entry));
  return Ok();
}

Result<Json> SignMetadata(const Json& signed_json, const std::vector<crypto::PrivateKey>& keys) {
  Json envelope = Json::Object{{"signatures", Json::Array{}}, {"signed", signed_json}};
  for (const auto& key : keys) {
    if (Status s = AddSignature(envelope, key); !s) return Fail(s.error());
  }
  return envelope;
}

// Not canonical JSON: that form writes control characters raw (as securesystemslib does),
// which is not valid JSON, and PEM keys hold newlines. Signatures cover the canonical form
// of "signed", whatever form the file itself has.
std::string Serialize(const Json& envelope) { return codec::DumpJson(envelope); }

}  // namespace aloft::core::metadata
