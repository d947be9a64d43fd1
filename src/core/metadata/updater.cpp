#include "core/metadata/updater.hpp"

#include <set>
#include <utility>
#include <vector>

#include "core/metadata/delegation.hpp"
#include "core/metadata/verify.hpp"

namespace aloft::core::metadata {
namespace {

std::string WithSlash(std::string url) {
  if (url.empty() || url.back() != '/') url.push_back('/');
  return url;
}

// A target path in a URL: each segment percent-encoded, the '/' between them kept.
std::string EncodePath(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    out += PercentEncode(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return out;
    out.push_back('/');
    start = slash + 1;
  }
}

std::set<std::string> KeyIdSet(const RootMetadata& root, std::string_view role) {
  const RoleKeys& rk = root.roles.at(std::string(role));
  return {rk.keyids.begin(), rk.keyids.end()};
}

// Forwards a download to the caller's sink while checking it against the signed length and
// hashes, so a wrong byte is noticed as it passes.
class VerifyingWriter final : public io::Writer {
 public:
  VerifyingWriter(PayloadVerifier& verifier, io::Writer& sink) : verifier_(verifier), sink_(sink) {}
  Status Write(ByteView data) override {
    if (Status s = verifier_.Update(data); !s) return s;
    return sink_.Write(data);
  }

 private:
  PayloadVerifier& verifier_;
  io::Writer& sink_;
};

}  // namespace

Updater::Updater(UpdaterConfig config, Fetcher& fetcher, MetadataStore& store,
                 Timestamp reference_time)
    : config_(std::move(config)), fetcher_(fetcher), store_(store), reference_time_(reference_time) {
  config_.metadata_url = WithSlash(std::move(config_.metadata_url));
  config_.targets_url = WithSlash(std::move(config_.targets_url));
}

Status Updater::Refresh() {
  if (!refreshed_) refreshed_ = DoRefresh();
  return *refreshed_;
}

Status Updater::DoRefresh() {
  if (Status s = LoadRoot(); !s) return Fail(std::move(s).error().WithContext("root"));
  if (Status s = LoadTimestamp(); !s) return Fail(std::move(s).error().WithContext("timestamp"));
  if (Status s = LoadSnapshot(); !s) return Fail(std::move(s).error().WithContext("snapshot"));
  if (Status s = LoadTargets(kTargets, kRoot); !s) {
    return Fail(std::move(s).error().WithContext("targets"));
  }
  return Ok();
}

Result<Bytes> Updater::FetchMetadata(const std::string& file_name, std::size_t max_bytes) {
  return FetchBytes(fetcher_, config_.metadata_url + file_name, max_bytes);
}

Status Updater::Persist(std::string_view role, ByteView bytes) {
  if (Status s = store_.Store(role, bytes); !s) {
    return Fail(std::move(s).error().WithContext("storing verified " + std::string(role)));
  }
  return Ok();
}

Status Updater::LoadRoot() {
  // §5.2: the trusted root comes from local storage, never from the network.
  auto local = store_.Load(kRoot);
  if (!local) return Fail(local.error());
  if (!*local) return Fail(Errc::kNotFound, "no trusted root.json in the metadata store");
  auto set = TrustedSet::Create(**local, reference_time_);
  if (!set) return Fail(set.error());
  trusted_.emplace(std::move(*set));

  const RootMetadata initial = trusted_->root();
  // §5.3.2–5.3.9: N+1.root.json until the repository has no more, persisting each as it
  // verifies, so an interrupted rotation resumes where it stopped.
  const std::int64_t first = initial.common.version + 1;
  for (std::int64_t v = first; v < first + static_cast<std::int64_t>(config_.max_root_rotations);
       ++v) {
    std::string name = std::to_string(v) + ".root.json";
    auto bytes = FetchMetadata(name, config_.root_max_bytes);
    if (!bytes) {
      if (bytes.error().code() == Errc::kNotFound) break;  // §5.3.3: no newer root
      return Fail(std::move(bytes).error().WithContext(name));
    }
    if (Status s = trusted_->UpdateRoot(*bytes); !s) {
      return Fail(std::move(s).error().WithContext(name));
    }
    if (Status s = Persist(kRoot, *bytes); !s) return s;
  }
  // §5.3.10: the final root must not have expired.
  if (Status s = trusted_->CheckRootFresh(); !s) return s;
  // §5.3.11: new timestamp or snapshot keys make the old files unverifiable; forget them, so
  // a repository recovering from a fast-forward attack can start their versions afresh.
  const RootMetadata& now = trusted_->root();
  if (KeyIdSet(initial, kTimestamp) != KeyIdSet(now, kTimestamp) ||
      KeyIdSet(initial, kSnapshot) != KeyIdSet(now, kSnapshot)) {
    if (Status s = store_.Remove(kTimestamp); !s) return s;
    if (Status s = store_.Remove(kSnapshot); !s) return s;
  }
  return Ok();
}

Status Updater::LoadTimestamp() {
  // The stored timestamp only serves as the rollback reference; it may have expired.
  if (auto local = store_.Load(kTimestamp); local && *local) {
    (void)trusted_->UpdateTimestamp(**local);
  }
  // §5.4.1: always the unversioned file.
  auto bytes = FetchMetadata("timestamp.json", config_.timestamp_max_bytes);
  if (!bytes) return Fail(bytes.error());
  auto changed = trusted_->UpdateTimestamp(*bytes);
  if (!changed) return Fail(changed.error());
  if (*changed) return Persist(kTimestamp, *bytes);
  return Ok();
}

Status Updater::LoadSnapshot() {
  if (auto local = store_.Load(kSnapshot); local && *local) {
    // A stored snapshot that still matches the timestamp saves a download.
    if (trusted_->UpdateSnapshot(**local, /*from_cache=*/true)) return Ok();
  }
  const MetaFile& meta = trusted_->timestamp()->snapshot_meta;
  std::string name = trusted_->root().consistent_snapshot
                         ? std::to_string(meta.version) + ".snapshot.json"
                         : "snapshot.json";
  std::size_t cap =
      meta.length ? static_cast<std::size_t>(*meta.length) : config_.snapshot_max_bytes;
  auto bytes = FetchMetadata(name, cap);
  if (!bytes) return Fail(bytes.error());
  if (Status s = trusted_->UpdateSnapshot(*bytes, /*from_cache=*/false); !s) return s;
  return Persist(kSnapshot, *bytes);
}

Status Updater::LoadTargets(std::string_view role, std::string_view delegator) {
  if (trusted_->targets(role) != nullptr) return Ok();
  if (auto local = store_.Load(role); local && *local) {
    if (trusted_->UpdateDelegatedTargets(**local, role, delegator)) return Ok();
  }
  auto meta_it = trusted_->snapshot()->meta.find(std::string(role) + ".json");
  if (meta_it == trusted_->snapshot()->meta.end()) {
    return Fail(Errc::kVerificationFailed, "snapshot does not list " + std::string(role) + ".json");
  }
  const MetaFile& meta = meta_it->second;
  std::string name = trusted_->root().consistent_snapshot
                         ? std::to_string(meta.version) + "." + PercentEncode(role) + ".json"
                         : PercentEncode(role) + ".json";
  std::size_t cap =
      meta.length ? static_cast<std::size_t>(*meta.length) : config_.targets_max_bytes;
  auto bytes = FetchMetadata(name, cap);
  if (!bytes) return Fail(bytes.error());
  if (Status s = trusted_->UpdateDelegatedTargets(*bytes, role, delegator); !s) return s;
  return Persist(role, *bytes);
}

Result<TargetInfo> Updater::FindTarget(std::string_view target_path) {
  if (Status s = Refresh(); !s) return Fail(s.error());
  // §5.6.7: pre-order depth-first search from the top-level targets role.
  std::vector<std::pair<std::string, std::string>> to_visit{{std::string(kTargets),
                                                             std::string(kRoot)}};
  std::set<std::pair<std::string, std::string>> visited;
  std::size_t budget = config_.max_delegations;
  while (budget > 0 && !to_visit.empty()) {
    auto [role, delegator] = std::move(to_visit.back());
    to_visit.pop_back();
    if (visited.contains({role, delegator})) continue;  // delegation cycles end here
    if (Status s = LoadTargets(role, delegator); !s) {
      return Fail(std::move(s).error().WithContext(role));
    }
    const TargetsMetadata& targets = *trusted_->targets(role);
    if (auto it = targets.targets.find(target_path); it != targets.targets.end()) {
      return TargetInfo{std::string(target_path), it->second};
    }
    visited.insert({role, delegator});
    if (targets.delegations) {
      std::vector<std::pair<std::string, std::string>> children;
      for (const ChildRole& child : RolesForTarget(*targets.delegations, target_path)) {
        children.emplace_back(child.name, role);
        if (child.terminating) {
          to_visit.clear();  // a terminating role ends the search below it
          break;
        }
      }
      to_visit.insert(to_visit.end(), children.rbegin(), children.rend());
    }
    --budget;
  }
  return Fail(Errc::kNotFound, "no trusted role lists target '" + std::string(target_path) + "'");
}

Status Updater::DownloadTarget(const TargetInfo& target, io::Writer& sink) {
  if (!trusted_) return Fail(Errc::kInternal, "refresh first");
  auto verifier = PayloadVerifier::Create("target " + target.path, target.file.length,
                                          target.file.hashes);
  if (!verifier) return Fail(verifier.error());
  std::string path = EncodePath(target.path);
  if (trusted_->root().consistent_snapshot && config_.prefix_targets_with_hash) {
    // §5.7.3: "<dirname>/<hash>.<basename>" with a hash the metadata lists.
    const std::string& hash = target.file.hashes.begin()->second;
    std::size_t slash = path.rfind('/');
    std::size_t base = slash == std::string::npos ? 0 : slash + 1;
    path = path.substr(0, base) + PercentEncode(hash) + "." + path.substr(base);
  }
  VerifyingWriter writer(*verifier, sink);
  if (Status s = fetcher_.Fetch(config_.targets_url + path,
                                static_cast<std::size_t>(target.file.length), writer);
      !s) {
    return Fail(std::move(s).error().WithContext("target " + target.path));
  }
  return verifier->Finish();
}

Result<Bytes> FetchBytes(Fetcher& fetcher, const std::string& url, std::size_t max_bytes) {
  io::BytesWriter sink(max_bytes);
  if (Status s = fetcher.Fetch(url, max_bytes, sink); !s) return Fail(s.error());
  return std::move(sink).bytes();
}

}  // namespace aloft::core::metadata
