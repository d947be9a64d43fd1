#pragma once

// Deltas aloftd builds itself, for releases uploaded without a delta from the image a device
// runs (the offline `aloftctl release create --delta-from` covers the versions its operator
// names; this covers the rest of the fleet).
//
//   Prepare   when a deployment of R is created: queues builds from the images its devices
//             report most, so most devices find their delta ready.
//   Offer     at check-in, when a device on image X is admitted to a deployment of release R
//             and the Image repository signed no delta X → R: a ready server-built delta is
//             returned as a Director pointer ("builtBy": "server"); otherwise its build is
//             queued (one row, once) and the device gets the full image this time.
//   BuildNext the background worker: finds a release whose signed image is X (aloftd can only
//             start from images it holds), writes both images to scratch files from their
//             artifacts (every byte checked against the signed digests), computes the patch
//             with core::delta, stores it as a blob and marks the row ready, or failed with
//             the reason. Each outcome is audited.
//
// Why the server may do this without the offline keys: the pointer is signed by the
// Director's online key only, and a device takes it only as a transport; it checks the slot
// against the full image's Image-signed digest before switching, and falls back to the full
// image on any failure. A compromised server can waste bandwidth with a bad patch, as it can
// by serving bad artifacts, and nothing more.
//
// Thread-safety: Offer and List from any thread; BuildNext from one thread at a time (the
// worker); Cancel from any thread.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/uptane/target_custom.hpp"
#include "server/audit/audit_log.hpp"
#include "server/blobs/object_store.hpp"
#include "server/deltas/delta_store.hpp"
#include "server/releases/release.hpp"

namespace aloft::server::deltas {

struct DeltaServiceOptions {
  bool enabled = true;                                   // false: Offer never queues
  std::uint64_t max_image_bytes = std::uint64_t{1} << 30;  // either image
  int level = 19;                                        // core::delta::CreateOptions::level
  std::filesystem::path work_dir;  // scratch for the two images (created 0700)
  // A failed build is tried again when a device asks this long after it failed.
  std::chrono::seconds retry_failed_after{std::chrono::hours(1)};
};

// The releases a delta may start from and lead to: the Image repository's current targets.
class ReleaseSource {
 public:
  virtual ~ReleaseSource() = default;
  virtual Result<std::vector<releases::Release>> List() = 0;
};

// The release a device is to install, as the Director names it.
struct DeltaTarget {
  std::string release;       // target path
  std::string image_sha256;  // its signed image digest, lowercase hex
};

class DeltaService {
 public:
  // All references must outlive the service.
  DeltaService(DeltaStore& store, blobs::ObjectStore& blobs, ReleaseSource& releases,
               audit::AuditLog& audit, const Clock& clock, DeltaServiceOptions options);

  // A pointer to the ready delta from `from_sha256` (lowercase hex) to `to`, or nullopt after
  // queuing its build. Never fails: a delta only saves bandwidth, so a storage error means
  // the full image.
  std::optional<core::uptane::DeltaRef> Offer(const DeltaTarget& to, std::string_view from_sha256);

  // Queues builds from each of `from_images` (digests devices report; invalid ones and the
  // release's own image are skipped), so deltas are ready before devices ask: called when a
  // deployment of `to` is created. Never fails.
  void Prepare(const DeltaTarget& to, const std::vector<std::string>& from_images);

  // Builds the oldest queued delta; false when none was queued or Cancel() was called (the
  // row then stays queued). Errors are the store's; a build that fails is recorded.
  Result<bool> BuildNext();

  // Makes a running BuildNext stop at its next block, and later ones return at once.
  void Cancel() noexcept { cancel_.store(true); }

  Result<std::vector<ServerDelta>> List(std::size_t limit) { return store_.List(limit); }

 private:
  // Fills `delta` (source, artifact, digests) or says why not.
  Status Build(ServerDelta& delta);
  void Audit(const ServerDelta& delta);

  DeltaStore& store_;
  blobs::ObjectStore& blobs_;
  ReleaseSource& releases_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  DeltaServiceOptions options_;
  std::atomic<bool> cancel_{false};
  std::mutex build_mutex_;  // one build at a time, whoever calls
};

}  // namespace aloft::server::deltas
