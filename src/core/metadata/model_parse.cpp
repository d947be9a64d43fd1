// Json → typed metadata, with the shape checks of the TUF specification (§4) and python-tuf.

#include <set>
#include <string>

#include "core/metadata/model.hpp"

namespace aloft::core::metadata {
namespace {

using codec::Json;

// Bounds that keep a hostile but validly signed file from costing unbounded CPU.
constexpr std::size_t kMaxSignatures = 1024;
constexpr std::size_t kMaxKeys = 4096;
constexpr std::size_t kMaxRoles = 100000;
constexpr std::int64_t kMaxSuccinctBitLength = 32;

Error Bad(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

Result<Common> ParseCommon(const Json& signed_json, std::string_view expected_type) {
  Common c;
  auto type = codec::GetString(signed_json, "_type");
  if (!type) return Fail(type.error());
  if (*type != expected_type) {
    return Fail(Bad("_type is '" + *type + "', expected '" + std::string(expected_type) + "'"));
  }
  c.type = *type;
  auto spec = codec::GetString(signed_json, "spec_version");
  if (!spec) return Fail(spec.error());
  // "1.0", "1.0.31": two or three dot-separated numbers with our major version.
  std::size_t parts = 1;
  bool digits_ok = !spec->empty() && spec->front() != '.' && spec->back() != '.';
  for (std::size_t i = 0; i < spec->size(); ++i) {
    char ch = (*spec)[i];
    if (ch == '.') {
      ++parts;
      if (i + 1 < spec->size() && (*spec)[i + 1] == '.') digits_ok = false;
    } else if (ch < '0' || ch > '9') {
      digits_ok = false;
    }
  }
  if (!digits_ok || parts < 2 || parts > 3) {
    return Fail(Bad("spec_version '" + *spec + "' is not a version number"));
  }
  if (spec->substr(0, spec->find('.')) != kSpecMajorVersion) {
    return Fail(Error(Errc::kUnsupported, "spec_version " + *spec + " is not supported (need 1.x)"));
  }
  c.spec_version = *spec;
  auto version = codec::GetInt(signed_json, "version");
  if (!version) return Fail(version.error());
  if (*version <= 0) return Fail(Bad("version must be positive"));
  c.version = *version;
  auto expires = codec::GetString(signed_json, "expires");
  if (!expires) return Fail(expires.error());
  auto ts = aloft::ParseTimestamp(*expires);
  if (!ts) return Fail(std::move(ts).error().WithContext("expires"));
  c.expires = *ts;
  return c;
}

Result<std::vector<std::string>> ParseStringArray(const Json& parent, std::string_view field,
                                                  bool unique) {
  auto arr = codec::GetArray(parent, field);
  if (!arr) return Fail(arr.error());
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (const Json& item : **arr) {
    if (!item.IsString()) return Fail(Bad("'" + std::string(field) + "' must hold strings"));
    if (unique && !seen.insert(item.AsString()).second) {
      return Fail(Bad("'" + std::string(field) + "' lists '" + item.AsString() + "' twice"));
    }
    out.push_back(item.AsString());
  }
  return out;
}

Result<RoleKeys> ParseRoleKeys(const Json& role) {
  RoleKeys rk;
  auto keyids = ParseStringArray(role, "keyids", /*unique=*/true);
  if (!keyids) return Fail(keyids.error());
  if (keyids->size() > kMaxKeys) return Fail(Bad("too many keyids"));
  rk.keyids = std::move(*keyids);
  auto threshold = codec::GetInt(role, "threshold");
  if (!threshold) return Fail(threshold.error());
  if (*threshold < 1) return Fail(Bad("threshold must be at least 1"));
  rk.threshold = *threshold;
  return rk;
}

Result<KeyRing> ParseKeyRing(const Json& parent) {
  auto keys = codec::GetObject(parent, "keys");
  if (!keys) return Fail(keys.error());
  if ((*keys)->size() > kMaxKeys) return Fail(Bad("too many keys"));
  KeyRing ring;
  for (const auto& [keyid, key_json] : **keys) {
    if (!key_json.IsObject()) return Fail(Bad("key " + keyid + " is not an object"));
    // The shape must be right even for key types we cannot use.
    for (const char* field : {"keytype", "scheme"}) {
      if (auto f = codec::GetString(key_json, field); !f) {
        return Fail(std::move(f).error().WithContext("key " + keyid));
      }
    }
    auto keyval = codec::GetObject(key_json, "keyval");
    if (!keyval) return Fail(std::move(keyval).error().WithContext("key " + keyid));
    ListedKey listed{key_json, std::nullopt};
    if (auto parsed = crypto::PublicKey::FromTufJson(key_json)) listed.key = std::move(*parsed);
    ring.emplace(keyid, std::move(listed));
  }
  return ring;
}

Result<Hashes> ParseHashes(const Json& parent) {
  auto obj = codec::GetObject(parent, "hashes");
  if (!obj) return Fail(obj.error());
  if ((*obj)->empty()) return Fail(Bad("'hashes' is empty"));
  Hashes hashes;
  for (const auto& [alg, value] : **obj) {
    if (!value.IsString()) return Fail(Bad("hash '" + alg + "' must be a string"));
    hashes.emplace(alg, value.AsString());
  }
  return hashes;
}

Result<MetaFile> ParseMetaFile(const Json& json) {
  if (!json.IsObject()) return Fail(Bad("meta entry must be an object"));
  MetaFile m;
  auto version = codec::GetInt(json, "version");
  if (!version) return Fail(version.error());
  if (*version <= 0) return Fail(Bad("meta version must be positive"));
  m.version = *version;
  if (json.Find("length") != nullptr) {
    auto length = codec::GetInt(json, "length");
    if (!length) return Fail(length.error());
    if (*length < 0) return Fail(Bad("meta length must not be negative"));
    m.length = *length;
  }
  if (json.Find("hashes") != nullptr) {
    auto hashes = ParseHashes(json);
    if (!hashes) return Fail(hashes.error());
    m.hashes = std::move(*hashes);
  }
  return m;
}

Result<TargetFile> ParseTargetFile(const Json& json) {
  if (!json.IsObject()) return Fail(Bad("target entry must be an object"));
  TargetFile t;
  auto length = codec::GetInt(json, "length");
  if (!length) return Fail(length.error());
  if (*length < 0) return Fail(Bad("target length must not be negative"));
  t.length = *length;
  auto hashes = ParseHashes(json);
  if (!hashes) return Fail(hashes.error());
  t.hashes = std::move(*hashes);
  if (const Json* custom = json.Find("custom")) t.custom = *custom;
  return t;
}

Result<Delegations> ParseDelegations(const Json& json) {
  if (!json.IsObject()) return Fail(Bad("'delegations' must be an object"));
  Delegations d;
  auto ring = ParseKeyRing(json);
  if (!ring) return Fail(std::move(ring).error().WithContext("delegations"));
  d.keys = std::move(*ring);
  const Json* roles = json.Find("roles");
  const Json* succinct = json.Find("succinct_roles");
  if ((roles != nullptr) == (succinct != nullptr)) {
    return Fail(Bad("delegations need exactly one of 'roles' and 'succinct_roles'"));
  }
  if (roles != nullptr) {
    if (!roles->IsArray()) return Fail(Bad("delegations 'roles' must be an array"));
    if (roles->AsArray().size() > kMaxRoles) return Fail(Bad("too many delegated roles"));
    std::set<std::string, std::less<>> names;
    for (const Json& role : roles->AsArray()) {
      if (!role.IsObject()) return Fail(Bad("delegated role must be an object"));
      DelegatedRole r;
      auto name = codec::GetString(role, "name");
      if (!name) return Fail(std::move(name).error().WithContext("delegated role"));
      r.name = *name;
      if (r.name.empty()) return Fail(Bad("delegated role name is empty"));
      if (r.name == kRoot || r.name == kTimestamp || r.name == kSnapshot || r.name == kTargets) {
        return Fail(Bad("delegated role may not be named '" + r.name + "'"));
      }
      if (!names.insert(r.name).second) return Fail(Bad("delegated role '" + r.name + "' twice"));
      auto keys = ParseRoleKeys(role);
      if (!keys) return Fail(std::move(keys).error().WithContext("delegated role " + r.name));
      r.keys = std::move(*keys);
      auto terminating = codec::GetBool(role, "terminating");
      if (!terminating) return Fail(std::move(terminating).error().WithContext("role " + r.name));
      r.terminating = *terminating;
      bool has_paths = role.Find("paths") != nullptr;
      bool has_prefixes = role.Find("path_hash_prefixes") != nullptr;
      if (has_paths == has_prefixes) {
        return Fail(Bad("delegated role '" + r.name +
                        "' needs exactly one of 'paths' and 'path_hash_prefixes'"));
      }
      if (has_paths) {
        auto paths = ParseStringArray(role, "paths", false);
        if (!paths) return Fail(std::move(paths).error().WithContext("role " + r.name));
        r.paths = std::move(*paths);
      } else {
        auto prefixes = ParseStringArray(role, "path_hash_prefixes", false);
        if (!prefixes) return Fail(std::move(prefixes).error().WithContext("role " + r.name));
        r.path_hash_prefixes = std::move(*prefixes);
      }
      d.roles.push_back(std::move(r));
    }
  } else {
    if (!succinct->IsObject()) return Fail(Bad("'succinct_roles' must be an object"));
    SuccinctRoles s;
    auto keys = ParseRoleKeys(*succinct);
    if (!keys) return Fail(std::move(keys).error().WithContext("succinct_roles"));
    s.keys = std::move(*keys);
    auto bits = codec::GetInt(*succinct, "bit_length");
    if (!bits) return Fail(std::move(bits).error().WithContext("succinct_roles"));
    if (*bits < 1 || *bits > kMaxSuccinctBitLength) {
      return Fail(Bad("succinct_roles bit_length must be 1..32"));
    }
    s.bit_length = *bits;
    auto prefix = codec::GetString(*succinct, "name_prefix");
    if (!prefix) return Fail(std::move(prefix).error().WithContext("succinct_roles"));
    s.name_prefix = *prefix;
    d.succinct = std::move(s);
  }
  return d;
}

// The envelope: {"signatures": [...], "signed": {...}} and nothing else.
template <class T>
Result<Untrusted<T>> ParseEnvelope(ByteView bytes) {
  auto json = codec::ParseJson(AsChars(bytes));
  if (!json) return Fail(json.error());
  if (!json->IsObject()) return Fail(Bad("metadata must be a JSON object"));
  if (json->AsObject().size() != 2 || json->Find("signed") == nullptr ||
      json->Find("signatures") == nullptr) {
    return Fail(Bad("metadata must have exactly the members 'signed' and 'signatures'"));
  }
  Untrusted<T> out;
  auto sigs = codec::GetArray(*json, "signatures");
  if (!sigs) return Fail(sigs.error());
  if ((*sigs)->size() > kMaxSignatures) return Fail(Bad("too many signatures"));
  std::set<std::string, std::less<>> seen;
  for (const Json& s : **sigs) {
    if (!s.IsObject()) return Fail(Bad("signature must be an object"));
    auto keyid = codec::GetString(s, "keyid");
    if (!keyid) return Fail(std::move(keyid).error().WithContext("signature"));
    auto sig = codec::GetString(s, "sig");
    if (!sig) return Fail(std::move(sig).error().WithContext("signature"));
    if (!seen.insert(*keyid).second) {
      return Fail(Bad("key " + *keyid + " signed more than once"));
    }
    out.signatures.push_back({*keyid, *sig});
  }
  auto signed_obj = codec::GetMember(*json, "signed", Json::Kind::kObject);
  if (!signed_obj) return Fail(signed_obj.error());
  out.signed_json = std::move(json->AsObject().at("signed"));
  out.canonical = codec::CanonicalJson(out.signed_json);
  return out;
}

template <class T, class F>
Result<Untrusted<T>> ParseRole(ByteView bytes, std::string_view role, F&& parse_content) {
  auto env = ParseEnvelope<T>(bytes);
  if (!env) return Fail(std::move(env).error().WithContext(role));
  auto common = ParseCommon(env->signed_json, role);
  if (!common) return Fail(std::move(common).error().WithContext(role));
  env->content.common = std::move(*common);
  if (Status s = parse_content(env->signed_json, env->content); !s) {
    return Fail(std::move(s).error().WithContext(role));
  }
  return env;
}

}  // namespace

Result<Untrusted<RootMetadata>> ParseRoot(ByteView bytes) {
  return ParseRole<RootMetadata>(bytes, kRoot, [](const Json& j, RootMetadata& root) -> Status {
    if (const Json* cs = j.Find("consistent_snapshot")) {
      if (!cs->IsBool()) return Fail(Bad("consistent_snapshot must be a boolean"));
      root.consistent_snapshot = cs->AsBool();
    }
    auto ring = ParseKeyRing(j);
    if (!ring) return Fail(ring.error());
    root.keys = std::move(*ring);
    auto roles = codec::GetObject(j, "roles");
    if (!roles) return Fail(roles.error());
    for (const auto& [name, role] : **roles) {
      if (name != kRoot && name != kTimestamp && name != kSnapshot && name != kTargets) {
        return Fail(Bad("roles must be the top-level roles, not '" + name + "'"));
      }
      if (!role.IsObject()) return Fail(Bad("role '" + name + "' must be an object"));
      auto keys = ParseRoleKeys(role);
      if (!keys) return Fail(std::move(keys).error().WithContext("role " + name));
      root.roles.emplace(name, std::move(*keys));
    }
    if (root.roles.size() != 4) {
      return Fail(Bad("roles must list root, timestamp, snapshot and targets"));
    }
    return Ok();
  });
}

Result<Untrusted<TimestampMetadata>> ParseTimestamp(ByteView bytes) {
  return ParseRole<TimestampMetadata>(
      bytes, kTimestamp, [](const Json& j, TimestampMetadata& ts) -> Status {
        auto meta = codec::GetObject(j, "meta");
        if (!meta) return Fail(meta.error());
        auto it = (*meta)->find("snapshot.json");
        if (it == (*meta)->end() || (*meta)->size() != 1) {
          return Fail(Bad("meta must describe exactly snapshot.json"));
        }
        auto mf = ParseMetaFile(it->second);
        if (!mf) return Fail(std::move(mf).error().WithContext("meta snapshot.json"));
        ts.snapshot_meta = std::move(*mf);
        return Ok();
      });
}

Result<Untrusted<SnapshotMetadata>> ParseSnapshot(ByteView bytes) {
  return ParseRole<SnapshotMetadata>(
      bytes, kSnapshot, [](const Json& j, SnapshotMetadata& snap) -> Status {
        auto meta = codec::GetObject(j, "meta");
        if (!meta) return Fail(meta.error());
        for (const auto& [name, entry] : **meta) {
          auto mf = ParseMetaFile(entry);
          if (!mf) return Fail(std::move(mf).error().WithContext("meta " + name));
          snap.meta.emplace(name, std::move(*mf));
        }
        return Ok();
      });
}

Result<Untrusted<TargetsMetadata>> ParseTargets(ByteView bytes) {
  return ParseRole<TargetsMetadata>(
      bytes, kTargets, [](const Json& j, TargetsMetadata& targets) -> Status {
        auto files = codec::GetObject(j, "targets");
        if (!files) return Fail(files.error());
        for (const auto& [path, entry] : **files) {
          auto tf = ParseTargetFile(entry);
          if (!tf) return Fail(std::move(tf).error().WithContext("target " + path));
          targets.targets.emplace(path, std::move(*tf));
        }
        if (const Json* d = j.Find("delegations")) {
          auto delegations = ParseDelegations(*d);
          if (!delegations) return Fail(delegations.error());
          targets.delegations = std::move(*delegations);
        }
        return Ok();
      });
}

Result<std::int64_t> PeekVersionUntrusted(ByteView bytes) {
  auto json = codec::ParseJson(AsChars(bytes));
  if (!json) return Fail(json.error());
  const Json* s = json->Find("signed");
  if (s == nullptr) return Fail(Bad("no 'signed' member"));
  return codec::GetInt(*s, "version");
}

}  // namespace aloft::core::metadata
