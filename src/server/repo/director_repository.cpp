#include "server/repo/director_repository.hpp"

#include <algorithm>

#include "core/uptane/target_custom.hpp"

namespace aloft::server::repo {
namespace {

namespace md = core::metadata;

md::Common NewCommon(std::string_view type, std::int64_t version, Timestamp expires) {
  md::Common c;
  c.type = std::string(type);
  c.spec_version = std::string(md::kSpecVersion);
  c.version = version;
  c.expires = expires;
  return c;
}

struct RoleKey {
  std::string_view role;
  const core::crypto::PrivateKey& key;
};

}  // namespace

DirectorRepository::DirectorRepository(RepoStore& store, const OnlineKeys& keys, const Clock& clock,
                                       Lifetimes lifetimes)
    : store_(store), keys_(keys), clock_(clock), lifetimes_(lifetimes) {}

Timestamp DirectorRepository::Now() const {
  return std::chrono::floor<std::chrono::seconds>(clock_.Now());
}

OnlineSigners DirectorRepository::Signers() const {
  return OnlineSigners{keys_.director_snapshot, keys_.director_timestamp, lifetimes_.snapshot,
                       lifetimes_.timestamp};
}

Result<StoredMetadata> DirectorRepository::EnsureRoot() {
  const RoleKey role_keys[] = {{md::kRoot, keys_.director_root},
                               {md::kTargets, keys_.director_targets},
                               {md::kSnapshot, keys_.director_snapshot},
                               {md::kTimestamp, keys_.director_timestamp}};
  auto stored = store_.GetLatest(kDirectorRepo, md::kRoot);
  if (!stored) return Fail(stored.error());
  if (*stored) {
    auto parsed = md::ParseRoot((*stored)->bytes);
    if (!parsed) return Fail(Errc::kCorrupt, "stored director root: " + parsed.error().message());
    for (const RoleKey& rk : role_keys) {
      auto role = parsed->content.roles.find(rk.role);
      if (role == parsed->content.roles.end() ||
          std::find(role->second.keyids.begin(), role->second.keyids.end(), rk.key.KeyId()) ==
              role->second.keyids.end()) {
        return Fail(Errc::kCorrupt, "the director root does not name the online director " +
                                        std::string(rk.role) +
                                        " key: the secrets directory was replaced");
      }
    }
    return std::move(**stored);
  }

  const Timestamp now = Now();
  md::RootMetadata root;
  root.common = NewCommon(md::kRoot, 1, now + lifetimes_.director_root);
  root.consistent_snapshot = true;
  for (const RoleKey& rk : role_keys) {
    const std::string id = rk.key.KeyId();
    root.keys[id] = md::ToListedKey(rk.key.Public());
    root.roles[std::string(rk.role)] = md::RoleKeys{{id}, 1};
  }
  auto bytes = SignRole(md::ToJson(root), keys_.director_root);
  if (!bytes) return Fail(bytes.error());
  StoredMetadata created{1, std::move(*bytes), root.common.expires};
  Status put =
      store_.Put(kDirectorRepo,
                 {MetadataWrite{std::string(md::kRoot), 1, created.bytes, created.expires, true}});
  if (put) return created;
  if (put.error().code() != Errc::kAlreadyExists) return Fail(put.error());
  return RequireLatest(store_, kDirectorRepo, md::kRoot);  // another process created it
}

Status DirectorRepository::RootReady() {
  if (root_ready_.load(std::memory_order_acquire)) return Ok();
  auto root = EnsureRoot();
  if (!root) return Fail(root.error());
  root_ready_.store(true, std::memory_order_release);
  return Ok();
}

Result<Bytes> DirectorRepository::Root() {
  auto root = EnsureRoot();
  if (!root) return Fail(root.error());
  return std::move(root->bytes);
}

Result<std::vector<MetadataWrite>> DirectorRepository::SignChain(std::string_view repo,
                                                                 md::TargetsMetadata targets,
                                                                 std::int64_t version,
                                                                 Timestamp now) {
  targets.common = NewCommon(md::kTargets, version, now + lifetimes_.director_targets);
  auto bytes = SignRole(md::ToJson(targets), keys_.director_targets);
  if (!bytes) return Fail(bytes.error());
  auto writes = SignSnapshotAndTimestamp(store_, repo, version, *bytes, Signers(), now);
  if (!writes) return Fail(writes.error());
  writes->insert(writes->begin(), MetadataWrite{std::string(md::kTargets), version,
                                                std::move(*bytes), targets.common.expires, true});
  return writes;
}

Status DirectorRepository::Assign(std::string_view device_id,
                                  const std::optional<AssignedImage>& image) {
  if (device_id.empty()) return Fail(Errc::kInvalidArgument, "device id is empty");
  md::TargetsMetadata targets;
  if (image) {
    if (image->target_path.empty() || image->hardware_id.empty()) {
      return Fail(Errc::kInvalidArgument, "an assignment needs a target path and a hardware id");
    }
    if (!image->target.hashes.contains("sha256")) {
      return Fail(Errc::kInvalidArgument, "target '" + image->target_path + "' has no sha256 hash");
    }
    md::TargetFile file;
    file.length = image->target.length;
    file.hashes = image->target.hashes;
    if (image->delta &&
        (image->delta->target.empty() || !image->delta->file.hashes.contains("sha256") ||
         image->delta->file.length <= 0)) {
      return Fail(Errc::kInvalidArgument, "the delta of '" + image->target_path +
                                              "' needs a target path, a length and a sha256");
    }
    core::uptane::DirectorCustom custom{image->hardware_id, std::string(device_id),
                                        image->deployment_id, image->delta};
    // Agreeing on the release's chunk digests spares devices a second hash of the download:
    // the digests then bind its bytes to both repositories (core/uptane/target_custom.hpp).
    custom.chunks_sha256 = image->chunks_sha256;
    file.custom = core::uptane::ToJson(custom);
    targets.targets[image->target_path] = std::move(file);
  }
  if (Status s = RootReady(); !s) return s;

  std::lock_guard lock(write_mutex_);
  const std::string repo = DirectorDeviceRepo(device_id);
  auto latest = store_.GetLatest(repo, md::kTargets);
  if (!latest) return Fail(latest.error());
  const std::int64_t version = *latest ? (*latest)->version + 1 : 1;
  auto writes = SignChain(repo, std::move(targets), version, Now());
  if (!writes) return Fail(writes.error());
  return store_.Put(repo, *writes);
}

Result<std::optional<Bytes>> DirectorRepository::TimestampIfFresh(const std::string& repo,
                                                                  Timestamp now) {
  auto latest = store_.GetLatest(repo, md::kTimestamp);
  if (!latest) return Fail(latest.error());
  if (!*latest) return std::optional<Bytes>();
  auto targets = RequireLatest(store_, repo, md::kTargets);
  if (!targets) return Fail(targets.error());
  auto snapshot = RequireLatest(store_, repo, md::kSnapshot);
  if (!snapshot) return Fail(snapshot.error());
  if (NeedsRefresh(targets->expires, lifetimes_.director_targets, now) ||
      NeedsRefresh(snapshot->expires, lifetimes_.snapshot, now) ||
      NeedsRefresh((*latest)->expires, lifetimes_.timestamp, now)) {
    return std::optional<Bytes>();
  }
  return std::optional<Bytes>(std::move((*latest)->bytes));
}

Result<Bytes> DirectorRepository::DeviceTimestamp(std::string_view device_id) {
  const std::string repo = DirectorDeviceRepo(device_id);
  const Timestamp now = Now();
  auto fresh = TimestampIfFresh(repo, now);
  if (!fresh) return Fail(fresh.error());
  if (*fresh) return std::move(**fresh);

  std::lock_guard lock(write_mutex_);
  // Another request may have published while this one waited for the lock.
  fresh = TimestampIfFresh(repo, now);
  if (!fresh) return Fail(fresh.error());
  if (*fresh) return std::move(**fresh);
  auto targets = store_.GetLatest(repo, md::kTargets);
  if (!targets) return Fail(targets.error());
  std::vector<MetadataWrite> writes;
  if (!*targets) {
    // First contact: an empty targets, version 1 ("nothing to install").
    auto signed_writes = SignChain(repo, md::TargetsMetadata{}, 1, now);
    if (!signed_writes) return Fail(signed_writes.error());
    writes = std::move(*signed_writes);
  } else if (NeedsRefresh((*targets)->expires, lifetimes_.director_targets, now)) {
    auto parsed = md::ParseTargets((*targets)->bytes);
    if (!parsed)
      return Fail(Errc::kCorrupt, "stored director targets: " + parsed.error().message());
    auto signed_writes = SignChain(repo, std::move(parsed->content), (*targets)->version + 1, now);
    if (!signed_writes) return Fail(signed_writes.error());
    writes = std::move(*signed_writes);
  } else {
    auto snapshot = RequireLatest(store_, repo, md::kSnapshot);
    if (!snapshot) return Fail(snapshot.error());
    if (NeedsRefresh(snapshot->expires, lifetimes_.snapshot, now)) {
      auto signed_writes = SignSnapshotAndTimestamp(store_, repo, (*targets)->version,
                                                    (*targets)->bytes, Signers(), now);
      if (!signed_writes) return Fail(signed_writes.error());
      writes = std::move(*signed_writes);
    } else {
      auto timestamp = SignTimestamp(store_, repo, *snapshot, Signers(), now);
      if (!timestamp) return Fail(timestamp.error());
      writes.push_back(std::move(*timestamp));
    }
  }
  Status put = store_.Put(repo, writes);
  if (put) return std::move(writes.back().bytes);
  // kAlreadyExists: another process published first; serve theirs.
  if (put.error().code() != Errc::kAlreadyExists) return Fail(put.error());
  auto latest = RequireLatest(store_, repo, md::kTimestamp);
  if (!latest) return Fail(latest.error());
  return std::move(latest->bytes);
}

Result<Bytes> DirectorRepository::File(std::string_view device_id, std::string_view name) {
  if (device_id.empty()) return Fail(Errc::kInvalidArgument, "device id is empty");
  auto file = ParseMetadataFileName(name);
  if (!file) return Fail(Errc::kNotFound, "no such metadata file");
  if (Status s = RootReady(); !s) return Fail(s.error());
  if (!file->version) return DeviceTimestamp(device_id);
  const std::string repo =
      file->role == md::kRoot ? std::string(kDirectorRepo) : DirectorDeviceRepo(device_id);
  auto stored = store_.Get(repo, file->role, *file->version);
  if (!stored) return Fail(stored.error());
  if (!*stored) return Fail(Errc::kNotFound, "no such metadata file");
  return std::move((*stored)->bytes);
}

}  // namespace aloft::server::repo
