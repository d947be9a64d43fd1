#include "server/deltas/delta_service.hpp"

#include <algorithm>
#include <system_error>

#include "core/base/hex.hpp"
#include "core/delta/patch.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/mapped_file.hpp"
#include "server/deltas/release_image.hpp"

namespace aloft::server::deltas {
namespace {

namespace fs = std::filesystem;

bool SharesHardware(const releases::Release& a, const releases::Release& b) {
  return std::any_of(a.hardware_ids.begin(), a.hardware_ids.end(), [&b](const std::string& id) {
    return std::find(b.hardware_ids.begin(), b.hardware_ids.end(), id) != b.hardware_ids.end();
  });
}

// Removes the scratch images however the build ends.
class ScratchFiles {
 public:
  explicit ScratchFiles(fs::path dir) : dir_(std::move(dir)) {}
  ~ScratchFiles() {
    std::error_code ec;
    fs::remove(source(), ec);
    fs::remove(target(), ec);
  }
  ScratchFiles(const ScratchFiles&) = delete;
  ScratchFiles& operator=(const ScratchFiles&) = delete;
  fs::path source() const { return dir_ / "source.img"; }
  fs::path target() const { return dir_ / "target.img"; }

 private:
  fs::path dir_;
};

}  // namespace

DeltaService::DeltaService(DeltaStore& store, blobs::ObjectStore& blobs, ReleaseSource& releases,
                           audit::AuditLog& audit, const Clock& clock, DeltaServiceOptions options)
    : store_(store),
      blobs_(blobs),
      releases_(releases),
      audit_(audit),
      clock_(clock),
      options_(std::move(options)) {}

std::optional<core::uptane::DeltaRef> DeltaService::Offer(const DeltaTarget& to,
                                                           std::string_view from_sha256) {
  if (!options_.enabled || from_sha256.size() != 64 || from_sha256 == to.image_sha256) {
    return std::nullopt;
  }
  auto row = store_.Get(to.release, from_sha256);
  if (!row) return std::nullopt;
  const Timestamp now = clock_.Now();
  if (!*row) {
    (void)store_.Request(to.release, from_sha256, now);
    return std::nullopt;
  }
  ServerDelta& d = **row;
  const bool stale = d.state == BuildState::kReady && d.to_sha256 != to.image_sha256;
  const bool retry = d.state == BuildState::kFailed &&
                     now - d.updated_at >= options_.retry_failed_after;
  if (stale || retry) {
    // The release was re-signed with another image, or an old failure may have been passing.
    d.state = BuildState::kQueued;
    d.error.clear();
    d.requested_at = now;
    d.updated_at = now;
    (void)store_.Update(d);
    return std::nullopt;
  }
  if (d.state != BuildState::kReady) return std::nullopt;
  core::uptane::DeltaRef ref;
  ref.target = core::uptane::DeltaTargetName(d.to_target, d.from_sha256);
  ref.file.length = d.artifact_length;
  ref.file.hashes = {{"sha256", d.artifact_sha256}};
  ref.server_built = core::uptane::DeltaInfo{d.from_sha256, d.from_length, d.to_target,
                                             d.to_sha256, d.to_length};
  return ref;
}

void DeltaService::Prepare(const DeltaTarget& to, const std::vector<std::string>& from_images) {
  if (!options_.enabled) return;
  const Timestamp now = clock_.Now();
  for (const std::string& image : from_images) {
    auto digest = HexDecode(image);  // and HexEncode: lowercase, as devices' digests are stored
    if (!digest || digest->size() != 32) continue;
    const std::string from = HexEncode(*digest);
    if (from == to.image_sha256) continue;
    (void)store_.Request(to.release, from, now);
  }
}

Result<bool> DeltaService::BuildNext() {
  std::lock_guard lock(build_mutex_);
  if (cancel_.load()) return false;
  auto next = store_.NextQueued();
  if (!next) return Fail(next.error());
  if (!*next) return false;
  ServerDelta d = std::move(**next);
  Status built = Build(d);
  if (!built && built.error().code() == Errc::kCancelled) return false;
  if (built) {
    d.state = BuildState::kReady;
    d.error.clear();
  } else {
    d.state = BuildState::kFailed;
    d.error = built.error().message();
  }
  d.updated_at = clock_.Now();
  if (Status s = store_.Update(d); !s) return Fail(s.error());
  Audit(d);
  return true;
}

Status DeltaService::Build(ServerDelta& d) {
  auto all = releases_.List();
  if (!all) return Fail(all.error());
  const auto to = std::find_if(all->begin(), all->end(),
                               [&d](const releases::Release& r) { return r.name == d.to_target; });
  if (to == all->end()) {
    return Fail(Errc::kNotFound, "release " + d.to_target + " is no longer in the Image repository");
  }
  auto to_digest = SignedImageDigest(*to);
  if (!to_digest) return Fail(to_digest.error());
  const releases::Release* source = nullptr;
  ImageDigest from_digest;
  for (const releases::Release& r : *all) {
    if (&r == &*to || !SharesHardware(r, *to)) continue;
    auto digest = SignedImageDigest(r);
    if (digest && digest->sha256 == d.from_sha256) {
      source = &r;
      from_digest = std::move(*digest);
      break;
    }
  }
  if (source == nullptr) {
    return Fail(Errc::kNotFound, "no release for the same hardware has image " +
                                     d.from_sha256.substr(0, 16) +
                                     ": aloftd builds deltas only from images it holds");
  }

  if (Status s = platform::posix::EnsurePrivateDirectory(options_.work_dir); !s) return s;
  ScratchFiles files(options_.work_dir);
  if (Status s = WriteReleaseImage(blobs_, *source, options_.max_image_bytes, files.source()); !s) {
    return s;
  }
  if (Status s = WriteReleaseImage(blobs_, *to, options_.max_image_bytes, files.target()); !s) {
    return s;
  }
  auto source_image = platform::posix::MappedFile::Open(files.source());
  if (!source_image) return Fail(source_image.error());
  auto target_image = platform::posix::MappedFile::Open(files.target());
  if (!target_image) return Fail(target_image.error());

  // A patch as large as the full artifact saves nothing: the upload refuses it.
  const auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(to->target.length - 1, 0));
  auto upload = blobs_.BeginUpload(cap);
  if (!upload) return Fail(upload.error());
  core::delta::CreateOptions create;
  create.level = options_.level;
  create.cancel = &cancel_;
  if (Status s = core::delta::CreatePatch(source_image->bytes(), target_image->bytes(), **upload,
                                          create);
      !s) {
    if (s.error().code() == Errc::kTooLarge) {
      return Fail(Errc::kTooLarge, "the patch is no smaller than the full artifact (" +
                                       std::to_string(to->target.length) + " bytes)");
    }
    return s;
  }
  auto stored = (*upload)->Commit(std::nullopt);
  if (!stored) return Fail(stored.error());
  d.source_target = source->name;
  d.artifact_sha256 = stored->sha256;
  d.artifact_length = static_cast<std::int64_t>(stored->size);
  d.from_length = from_digest.length;
  d.to_sha256 = to_digest->sha256;
  d.to_length = to_digest->length;
  return Ok();
}

void DeltaService::Audit(const ServerDelta& d) {
  audit::AuditEvent event;
  event.actor = "system";
  event.action = "delta.build";
  event.target = d.to_target + " from " + d.from_sha256.substr(0, 16);
  if (d.state == BuildState::kReady) {
    event.outcome = audit::Outcome::kSuccess;
    event.details = core::codec::Json::Object{{"source_release", d.source_target},
                                              {"artifact_sha256", d.artifact_sha256},
                                              {"artifact_length", d.artifact_length}};
  } else {
    event.outcome = audit::Outcome::kFailure;
    event.details = core::codec::Json::Object{{"error", d.error.substr(0, 512)}};
  }
  (void)audit_.Append(event);
}

}  // namespace aloft::server::deltas
