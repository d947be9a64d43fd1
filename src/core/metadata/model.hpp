#pragma once

// TUF metadata (specification 1.0.x) as typed values. Parsing keeps the original "signed"
// object next to the typed view, so members we do not know still count in the canonical
// bytes that signatures cover: a newer repository's extra fields verify as signed.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/time.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::core::metadata {

inline constexpr std::string_view kRoot = "root";
inline constexpr std::string_view kTimestamp = "timestamp";
inline constexpr std::string_view kSnapshot = "snapshot";
inline constexpr std::string_view kTargets = "targets";

// The major version of the TUF specification this client implements.
inline constexpr std::string_view kSpecMajorVersion = "1";
// What we write into metadata we produce.
inline constexpr std::string_view kSpecVersion = "1.0.31";

// A key as listed in root or in a delegation. A key whose type or scheme we do not support
// is kept (so the metadata still parses and other keys can meet the threshold) but can
// never verify a signature.
struct ListedKey {
  codec::Json json;
  std::optional<crypto::PublicKey> key;  // nullopt when unsupported or malformed
};
using KeyRing = std::map<std::string, ListedKey, std::less<>>;  // by key ID

// Who may sign a role: key IDs (unique) and how many of them must.
struct RoleKeys {
  std::vector<std::string> keyids;
  std::int64_t threshold = 1;
};

// Members every role has.
struct Common {
  std::string type;  // "_type"
  std::string spec_version;
  std::int64_t version = 0;
  Timestamp expires{};
};

struct RootMetadata {
  Common common;
  bool consistent_snapshot = false;
  KeyRing keys;
  std::map<std::string, RoleKeys, std::less<>> roles;  // exactly root/timestamp/snapshot/targets
};

// Hashes by algorithm name ("sha256") → lowercase hex, as written in metadata. Unknown
// algorithms are kept; verification needs at least one algorithm we know.
using Hashes = std::map<std::string, std::string, std::less<>>;

// A metadata file as described by timestamp ("snapshot.json") or snapshot ("targets.json").
struct MetaFile {
  std::int64_t version = 0;
  std::optional<std::int64_t> length;
  std::optional<Hashes> hashes;
};

struct TimestampMetadata {
  Common common;
  MetaFile snapshot_meta;  // meta["snapshot.json"]
};

struct SnapshotMetadata {
  Common common;
  std::map<std::string, MetaFile, std::less<>> meta;  // "targets.json", "<role>.json"
};

struct TargetFile {
  std::int64_t length = 0;
  Hashes hashes;
  codec::Json custom;  // null when absent
};

struct DelegatedRole {
  std::string name;
  RoleKeys keys;
  bool terminating = false;
  std::optional<std::vector<std::string>> paths;
  std::optional<std::vector<std::string>> path_hash_prefixes;
};

// TAP 15 hash-bin delegation in one line: 2^bit_length bins named "<prefix>-<hex>".
struct SuccinctRoles {
  RoleKeys keys;
  std::int64_t bit_length = 0;
  std::string name_prefix;
};

struct Delegations {
  KeyRing keys;
  std::vector<DelegatedRole> roles;       // in priority order
  std::optional<SuccinctRoles> succinct;  // exclusive with roles
};

struct TargetsMetadata {
  Common common;
  std::map<std::string, TargetFile, std::less<>> targets;
  std::optional<Delegations> delegations;
};

struct Signature {
  std::string keyid;
  std::string sig;  // hex as received; a malformed one simply fails to verify
};

// Metadata as it came off the wire: parsed, not yet verified. Nothing here is trusted until
// a TrustedSet accepted it. `canonical` is what the signatures must cover.
template <class T>
struct Untrusted {
  T content;
  codec::Json signed_json;
  std::string canonical;
  std::vector<Signature> signatures;
};

// Parse the bytes of one role. Checks the envelope (exactly "signed" and "signatures", no
// duplicate signature key IDs), "_type", spec_version's major, positive versions, sizes and
// the shape of every member. Errors are kInvalidArgument and name the role and the field.
Result<Untrusted<RootMetadata>> ParseRoot(ByteView bytes);
Result<Untrusted<TimestampMetadata>> ParseTimestamp(ByteView bytes);
Result<Untrusted<SnapshotMetadata>> ParseSnapshot(ByteView bytes);
Result<Untrusted<TargetsMetadata>> ParseTargets(ByteView bytes);

// Reads the version of any role's metadata without verifying it, for diagnostics only.
Result<std::int64_t> PeekVersionUntrusted(ByteView bytes);

// The "signed" object for metadata we create (repositories, aloftctl, tests).
codec::Json ToJson(const RootMetadata& root);
codec::Json ToJson(const TimestampMetadata& timestamp);
codec::Json ToJson(const SnapshotMetadata& snapshot);
codec::Json ToJson(const TargetsMetadata& targets);
codec::Json ToJson(const TargetFile& target);
codec::Json ToJson(const MetaFile& meta);

// Signs `signed_json` with every key (each key ID once: a second signature by the same key
// replaces the first) and returns the envelope {"signatures": [...], "signed": ...}.
Result<codec::Json> SignMetadata(const codec::Json& signed_json,
                                 const std::vector<crypto::PrivateKey>& keys);
// Adds or replaces one signature on an existing envelope (threshold signing, one holder at a
// time).
Status AddSignature(codec::Json& envelope, const crypto::PrivateKey& key);
// The bytes we publish: compact standard JSON of the envelope.
std::string Serialize(const codec::Json& envelope);

// A listed key from a public key.
ListedKey ToListedKey(const crypto::PublicKey& key);

}  // namespace aloft::core::metadata
