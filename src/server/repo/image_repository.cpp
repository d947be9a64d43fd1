#include "server/repo/image_repository.hpp"

#include <algorithm>
#include <string>

#include "core/codec/json.hpp"
#include "core/metadata/trusted_set.hpp"
#include "core/uptane/target_custom.hpp"

namespace aloft::server::repo {
namespace {

namespace md = core::metadata;

bool ListsKey(const md::RootMetadata& root, std::string_view role,
              const core::crypto::PrivateKey& key) {
  auto r = root.roles.find(role);
  if (r == root.roles.end()) return false;
  const std::string id = key.KeyId();
  if (std::find(r->second.keyids.begin(), r->second.keyids.end(), id) == r->second.keyids.end()) {
    return false;
  }
  auto listed = root.keys.find(id);
  return listed != root.keys.end() && listed->second.key &&
         listed->second.key->SameKeyAs(key.Public());
}

bool NamesPair(const md::RootMetadata& root, const ImageOnlineKeys& pair) {
  for (const auto& [role, key] : {std::pair{md::kSnapshot, &pair.snapshot},
                                  std::pair{md::kTimestamp, &pair.timestamp}}) {
    auto r = root.roles.find(role);
    if (r == root.roles.end() || r->second.threshold != 1 || !ListsKey(root, role, *key)) {
      return false;
    }
  }
  return true;
}

std::string DescribePair(const ImageOnlineKeys& pair) {
  std::string out;
  for (const auto& [role, key] : {std::pair{md::kSnapshot, &pair.snapshot},
                                  std::pair{md::kTimestamp, &pair.timestamp}}) {
    if (!out.empty()) out += "; ";
    out += std::string(role) + ": keyid " + key->KeyId() + ", key " +
           core::codec::CanonicalJson(key->Public().ToTufJson());
  }
  return out;
}

}  // namespace

ImageRepository::ImageRepository(RepoStore& store, const OnlineKeys& keys, const Clock& clock,
                                 Lifetimes lifetimes, const OnlineKeyRotation* rotation)
    : store_(store),
      keys_(keys),
      clock_(clock),
      lifetimes_(lifetimes),
      rotation_(rotation),
      pairs_{keys.ImagePair(), std::nullopt} {}

Timestamp ImageRepository::Now() const {
  return std::chrono::floor<std::chrono::seconds>(clock_.Now());
}

ImageRepository::OnlinePairs ImageRepository::OnlineKeyPairs() const {
  std::lock_guard lock(pairs_mutex_);
  return pairs_;
}

ImageOnlineKeys ImageRepository::CurrentPair() const {
  std::lock_guard lock(pairs_mutex_);
  return pairs_.current;
}

OnlineSigners ImageRepository::Signers(const ImageOnlineKeys& pair) const {
  return OnlineSigners{pair.snapshot, pair.timestamp, lifetimes_.snapshot, lifetimes_.timestamp};
}

Result<ImageRepository::NamedPair> ImageRepository::CheckOnlineKeys(
    const md::RootMetadata& root, const OnlinePairs& pairs) const {
  // The point of offline root and targets keys is that the server cannot use them: no online
  // key, in use or staged, may sign either.
  std::vector<const core::crypto::PrivateKey*> online = {
      &pairs.current.snapshot, &pairs.current.timestamp, &keys_.director_root,
      &keys_.director_targets, &keys_.director_snapshot, &keys_.director_timestamp};
  if (pairs.next) {
    online.push_back(&pairs.next->snapshot);
    online.push_back(&pairs.next->timestamp);
  }
  for (std::string_view role : {md::kRoot, md::kTargets}) {
    for (const auto* key : online) {
      if (ListsKey(root, role, *key)) {
        return Fail(Errc::kInvalidArgument, "root lets the server's online key " + key->KeyId() +
                                                " sign role '" + std::string(role) +
                                                "'; root and targets keys must be offline");
      }
    }
  }
  if (NamesPair(root, pairs.current)) return NamedPair::kCurrent;
  if (pairs.next && NamesPair(root, *pairs.next)) return NamedPair::kNext;
  std::string message =
      "root must list the server's online image snapshot and timestamp keys for those roles, "
      "each with threshold 1: " + DescribePair(pairs.current);
  if (pairs.next) {
    message += " (or, to finish the staged rotation, the next pair: " + DescribePair(*pairs.next) + ")";
  }
  return Fail(Errc::kInvalidArgument, std::move(message));
}

// Snapshot and timestamp signed by the pair a new root names, verified the way a device will
// verify them after that root. Empty when nothing was released yet (no targets).
Result<std::vector<MetadataWrite>> ImageRepository::ResignForNewPair(ByteView root,
                                                                     const ImageOnlineKeys& pair,
                                                                     Timestamp now) {
  auto targets = store_.GetLatest(kImageRepo, md::kTargets);
  if (!targets) return Fail(targets.error());
  if (!*targets) return std::vector<MetadataWrite>();
  auto writes = SignSnapshotAndTimestamp(store_, kImageRepo, (*targets)->version,
                                         (*targets)->bytes, Signers(pair), now);
  if (!writes) return Fail(writes.error());
  auto trusted = md::TrustedSet::Create(root, now);
  if (!trusted) return Fail(std::move(trusted).error().WithContext("new root"));
  auto ts = trusted->UpdateTimestamp((*writes)[1].bytes);
  if (!ts) return Fail(std::move(ts).error().WithContext("timestamp under the new keys"));
  if (Status s = trusted->UpdateSnapshot((*writes)[0].bytes, false); !s) {
    return Fail(std::move(s).error().WithContext("snapshot under the new keys"));
  }
  return writes;
}

Status ImageRepository::UploadRoot(ByteView bytes) {
  std::lock_guard lock(write_mutex_);
  const Timestamp now = Now();
  auto current = store_.GetLatest(kImageRepo, md::kRoot);
  if (!current) return Fail(current.error());
  // The first root is the trust anchor: an operator uploads it on purpose, as they flash it
  // into devices. Every later one must verify as the next link of the chain from the stored one.
  auto trusted = [&]() -> Result<md::TrustedSet> {
    if (!*current) {
      auto anchor = md::TrustedSet::Create(bytes, now);
      if (!anchor) return Fail(std::move(anchor).error().WithContext("root"));
      return anchor;
    }
    auto chain = md::TrustedSet::Create((*current)->bytes, now);
    if (!chain) return Fail(std::move(chain).error().WithContext("stored root"));
    if (Status s = chain->UpdateRoot(bytes); !s) {
      return Fail(std::move(s).error().WithContext("root rotation"));
    }
    return chain;
  }();
  if (!trusted) return Fail(trusted.error());
  if (Status s = trusted->CheckRootFresh(); !s)
    return Fail(std::move(s).error().WithContext("root"));
  const md::RootMetadata& root = trusted->root();
  if (!root.consistent_snapshot) {
    return Fail(Errc::kInvalidArgument,
                "root must set consistent_snapshot to true (aloftd serves versioned files)");
  }
  const OnlinePairs pairs = OnlineKeyPairs();
  auto named = CheckOnlineKeys(root, pairs);
  if (!named) return Fail(named.error());
  std::vector<MetadataWrite> writes = {MetadataWrite{std::string(md::kRoot), root.common.version,
                                                     Bytes(bytes.begin(), bytes.end()),
                                                     root.common.expires, true}};
  if (*named == NamedPair::kCurrent) return store_.Put(kImageRepo, writes);

  // A rotation: publish the root with metadata its new keys signed, then switch to them.
  auto resigned = ResignForNewPair(bytes, *pairs.next, now);
  if (!resigned) return Fail(resigned.error());
  writes.insert(writes.end(), resigned->begin(), resigned->end());
  if (Status s = store_.Put(kImageRepo, writes); !s) return s;
  {
    std::lock_guard pairs_lock(pairs_mutex_);
    pairs_ = OnlinePairs{*pairs.next, std::nullopt};
  }
  if (Status s = rotation_->PromoteNext(); !s) {
    return Fail(std::move(s).error().WithContext(
        "root published and the new online keys are in use, but their key files could not be "
        "renamed (aloftd finishes this at its next start)"));
  }
  return Ok();
}

Result<ImageOnlineKeys> ImageRepository::StageKeyRotation() {
  if (!rotation_) return Fail(Errc::kUnsupported, "online-key rotation is not configured");
  std::lock_guard lock(write_mutex_);
  {
    std::lock_guard pairs_lock(pairs_mutex_);
    if (pairs_.next) return *pairs_.next;
  }
  auto next = rotation_->StageNext();
  if (!next) return Fail(next.error());
  std::lock_guard pairs_lock(pairs_mutex_);
  pairs_.next = *next;
  return next;
}

Status ImageRepository::ResumeKeyRotation() {
  if (!rotation_) return Ok();
  std::lock_guard lock(write_mutex_);
  auto next = rotation_->LoadNext();
  if (!next) return Fail(std::move(next).error().WithContext("staged online keys"));
  if (!*next) return Ok();
  auto root = store_.GetLatest(kImageRepo, md::kRoot);
  if (!root) return Fail(root.error());
  bool published = false;
  if (*root) {
    auto parsed = md::ParseRoot((*root)->bytes);
    if (!parsed) return Fail(Errc::kCorrupt, "stored image root: " + parsed.error().message());
    published = NamesPair(parsed->content, **next) && !NamesPair(parsed->content, CurrentPair());
  }
  std::lock_guard pairs_lock(pairs_mutex_);
  if (!published) {
    pairs_.next = **next;
    return Ok();
  }
  // The root naming the staged pair was published, then the process stopped before the key
  // files were renamed: finish the switch.
  if (Status s = rotation_->PromoteNext(); !s) return s;
  pairs_ = OnlinePairs{**next, std::nullopt};
  return Ok();
}

Status ImageRepository::UploadTargets(ByteView bytes) {
  std::lock_guard lock(write_mutex_);
  const Timestamp now = Now();
  auto root = store_.GetLatest(kImageRepo, md::kRoot);
  if (!root) return Fail(root.error());
  if (!*root) return Fail(Errc::kNotFound, "upload the Image repository's root first");
  auto parsed = md::ParseTargets(bytes);
  if (!parsed) return Fail(parsed.error());
  const md::TargetsMetadata& targets = parsed->content;
  auto stored = store_.GetLatest(kImageRepo, md::kTargets);
  if (!stored) return Fail(stored.error());
  if (*stored && targets.common.version <= (*stored)->version) {
    return Fail(Errc::kRollback, "targets version " + std::to_string(targets.common.version) +
                                     " is not greater than the published version " +
                                     std::to_string((*stored)->version));
  }

  auto writes =
      SignSnapshotAndTimestamp(store_, kImageRepo, targets.common.version, bytes,
                               Signers(CurrentPair()), now);
  if (!writes) return Fail(writes.error());
  // Verify exactly as a device will: root, then the timestamp and snapshot we are about to
  // publish, then the uploaded targets through them.
  auto trusted = md::TrustedSet::Create((*root)->bytes, now);
  if (!trusted) return Fail(std::move(trusted).error().WithContext("stored root"));
  if (Status s = trusted->CheckRootFresh(); !s)
    return Fail(std::move(s).error().WithContext("root"));
  auto ts = trusted->UpdateTimestamp((*writes)[1].bytes);
  if (!ts) return Fail(std::move(ts).error().WithContext("new timestamp"));
  if (Status s = trusted->UpdateSnapshot((*writes)[0].bytes, false); !s) {
    return Fail(std::move(s).error().WithContext("new snapshot"));
  }
  if (Status s = trusted->UpdateTargets(bytes); !s) {
    return Fail(std::move(s).error().WithContext("targets"));
  }

  if (targets.delegations) {
    return Fail(Errc::kUnsupported, "targets: delegations are not supported by aloftd");
  }
  for (const auto& [path, file] : targets.targets) {
    if (!file.hashes.contains("sha256")) {
      return Fail(Errc::kInvalidArgument, "target '" + path + "' has no sha256 hash");
    }
    auto custom = core::uptane::ParseImageCustom(file.custom);
    if (!custom) {
      return Fail(std::move(custom).error().WithContext("target '" + path + "' custom"));
    }
  }

  writes->insert(writes->begin(),
                 MetadataWrite{std::string(md::kTargets), targets.common.version,
                               Bytes(bytes.begin(), bytes.end()), targets.common.expires, true});
  return store_.Put(kImageRepo, *writes);
}

Result<std::optional<Bytes>> ImageRepository::TimestampIfFresh(Timestamp now) {
  auto latest = store_.GetLatest(kImageRepo, md::kTimestamp);
  if (!latest) return Fail(latest.error());
  if (!*latest) return Fail(Errc::kNotFound, "the Image repository has no targets yet");
  auto snapshot = RequireLatest(store_, kImageRepo, md::kSnapshot);
  if (!snapshot) return Fail(snapshot.error());
  if (NeedsRefresh(snapshot->expires, lifetimes_.snapshot, now) ||
      NeedsRefresh((*latest)->expires, lifetimes_.timestamp, now)) {
    return std::optional<Bytes>();
  }
  return std::optional<Bytes>(std::move((*latest)->bytes));
}

Result<Bytes> ImageRepository::FreshTimestamp() {
  const Timestamp now = Now();
  auto fresh = TimestampIfFresh(now);
  if (!fresh) return Fail(fresh.error());
  if (*fresh) return std::move(**fresh);

  std::lock_guard lock(write_mutex_);
  // Another request may have re-signed while this one waited for the lock.
  fresh = TimestampIfFresh(now);
  if (!fresh) return Fail(fresh.error());
  if (*fresh) return std::move(**fresh);
  auto snapshot = RequireLatest(store_, kImageRepo, md::kSnapshot);
  if (!snapshot) return Fail(snapshot.error());
  const ImageOnlineKeys pair = CurrentPair();
  std::vector<MetadataWrite> writes;
  if (NeedsRefresh(snapshot->expires, lifetimes_.snapshot, now)) {
    auto targets = RequireLatest(store_, kImageRepo, md::kTargets);
    if (!targets) return Fail(targets.error());
    auto signed_writes = SignSnapshotAndTimestamp(store_, kImageRepo, targets->version,
                                                  targets->bytes, Signers(pair), now);
    if (!signed_writes) return Fail(signed_writes.error());
    writes = std::move(*signed_writes);
  } else {
    auto timestamp = SignTimestamp(store_, kImageRepo, *snapshot, Signers(pair), now);
    if (!timestamp) return Fail(timestamp.error());
    writes.push_back(std::move(*timestamp));
  }
  Status put = store_.Put(kImageRepo, writes);
  if (put) return std::move(writes.back().bytes);
  // kAlreadyExists: another process re-signed first; serve what it published.
  if (put.error().code() != Errc::kAlreadyExists) return Fail(put.error());
  auto latest = RequireLatest(store_, kImageRepo, md::kTimestamp);
  if (!latest) return Fail(latest.error());
  return std::move(latest->bytes);
}

Result<Bytes> ImageRepository::File(std::string_view name) {
  auto file = ParseMetadataFileName(name);
  if (!file) return Fail(Errc::kNotFound, "no such metadata file");
  if (!file->version) return FreshTimestamp();
  auto stored = store_.Get(kImageRepo, file->role, *file->version);
  if (!stored) return Fail(stored.error());
  if (!*stored) return Fail(Errc::kNotFound, "no such metadata file");
  return std::move((*stored)->bytes);
}

Result<md::TargetsMetadata> ImageRepository::CurrentTargets() {
  auto stored = store_.GetLatest(kImageRepo, md::kTargets);
  if (!stored) return Fail(stored.error());
  if (!*stored) return Fail(Errc::kNotFound, "the Image repository has no targets yet");
  auto parsed = md::ParseTargets((*stored)->bytes);
  if (!parsed) return Fail(Errc::kCorrupt, "stored image targets: " + parsed.error().message());
  return std::move(parsed->content);
}

}  // namespace aloft::server::repo
