#include "server/repo/publishing.hpp"

#include "core/crypto/hash.hpp"

namespace aloft::server::repo {
namespace {

namespace md = core::metadata;

constexpr std::size_t kMaxVersionDigits = 18;  // stays below INT64_MAX

md::Common NewCommon(std::string_view type, std::int64_t version, Timestamp expires) {
  md::Common c;
  c.type = std::string(type);
  c.spec_version = std::string(md::kSpecVersion);
  c.version = version;
  c.expires = expires;
  return c;
}

Result<std::int64_t> NextVersion(RepoStore& store, std::string_view repo, std::string_view role) {
  auto latest = store.GetLatest(repo, role);
  if (!latest) return Fail(latest.error());
  return *latest ? (*latest)->version + 1 : 1;
}

}  // namespace

bool NeedsRefresh(Timestamp expires, std::chrono::seconds lifetime, Timestamp now) {
  return expires - now < lifetime / 2;
}

std::optional<MetadataFileName> ParseMetadataFileName(std::string_view name) {
  if (name == "timestamp.json") return MetadataFileName{std::string(md::kTimestamp), {}};
  const std::size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > kMaxVersionDigits) return std::nullopt;
  const std::string_view digits = name.substr(0, dot);
  if (digits.front() == '0') return std::nullopt;
  std::int64_t version = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    version = version * 10 + (c - '0');
  }
  const std::string_view rest = name.substr(dot + 1);
  for (std::string_view role : {md::kRoot, md::kSnapshot, md::kTargets}) {
    if (rest.size() == role.size() + 5 && rest.starts_with(role) && rest.ends_with(".json")) {
      return MetadataFileName{std::string(role), version};
    }
  }
  return std::nullopt;
}

Result<Bytes> SignRole(const core::codec::Json& signed_json, const core::crypto::PrivateKey& key) {
  auto envelope = md::SignMetadata(signed_json, {key});
  if (!envelope) return Fail(envelope.error());
  return ToBytes(md::Serialize(*envelope));
}

md::MetaFile DescribeFile(std::int64_t version, ByteView bytes) {
  md::MetaFile meta;
  meta.version = version;
  meta.length = static_cast<std::int64_t>(bytes.size());
  meta.hashes = md::Hashes{{"sha256", core::crypto::Sha256Hex(bytes)}};
  return meta;
}

Result<std::vector<MetadataWrite>> SignSnapshotAndTimestamp(RepoStore& store, std::string_view repo,
                                                            std::int64_t targets_version,
                                                            ByteView targets,
                                                            const OnlineSigners& signers,
                                                            Timestamp now) {
  auto version = NextVersion(store, repo, md::kSnapshot);
  if (!version) return Fail(version.error());
  md::SnapshotMetadata snapshot;
  snapshot.common = NewCommon(md::kSnapshot, *version, now + signers.snapshot_lifetime);
  snapshot.meta["targets.json"] = DescribeFile(targets_version, targets);
  auto bytes = SignRole(md::ToJson(snapshot), signers.snapshot);
  if (!bytes) return Fail(bytes.error());
  StoredMetadata stored{*version, std::move(*bytes), snapshot.common.expires};
  auto timestamp = SignTimestamp(store, repo, stored, signers, now);
  if (!timestamp) return Fail(timestamp.error());
  std::vector<MetadataWrite> writes;
  writes.push_back(MetadataWrite{std::string(md::kSnapshot), stored.version,
                                 std::move(stored.bytes), stored.expires, true});
  writes.push_back(std::move(*timestamp));
  return writes;
}

Result<MetadataWrite> SignTimestamp(RepoStore& store, std::string_view repo,
                                    const StoredMetadata& snapshot, const OnlineSigners& signers,
                                    Timestamp now) {
  auto version = NextVersion(store, repo, md::kTimestamp);
  if (!version) return Fail(version.error());
  md::TimestampMetadata timestamp;
  timestamp.common = NewCommon(md::kTimestamp, *version, now + signers.timestamp_lifetime);
  timestamp.snapshot_meta = DescribeFile(snapshot.version, snapshot.bytes);
  auto bytes = SignRole(md::ToJson(timestamp), signers.timestamp);
  if (!bytes) return Fail(bytes.error());
  return MetadataWrite{std::string(md::kTimestamp), *version, std::move(*bytes),
                       timestamp.common.expires, /*keep_history=*/false};
}

Result<StoredMetadata> RequireLatest(RepoStore& store, std::string_view repo,
                                     std::string_view role) {
  auto latest = store.GetLatest(repo, role);
  if (!latest) return Fail(latest.error());
  if (!*latest) {
    return Fail(Errc::kCorrupt,
                "repository " + std::string(repo) + " has no " + std::string(role) + " metadata");
  }
  return std::move(**latest);
}

}  // namespace aloft::server::repo
