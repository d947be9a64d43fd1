#pragma once

// Releasing software, as operators do it with aloftctl: upload the artifacts, then the Image
// repository's offline-signed root (when it changed) and targets. aloftd cannot sign a release
// itself; it checks, stores and serves what the offline keys signed.
//
//   PUT /api/v1/artifacts/{sha256}      releases.manage  raw bytes, streamed to disk, capped
//   PUT /api/v1/image-repo/root         releases.manage  signed root.json
//   PUT /api/v1/image-repo/targets      releases.manage  signed targets.json (artifacts first)
//   GET /api/v1/online-keys             releases.read    the keys the offline root must name
//                                                        (and the staged next pair, if any)
//   POST /api/v1/online-keys/rotate     releases.manage  stages a next pair for the next root
//                                                        to name (idempotent); publishing
//                                                        that root switches to it
//   GET /api/v1/director-repo/root      releases.read    the Director's root, the trust anchor
//                                                        to provision into device images
//   GET /api/v1/releases                releases.read
//   GET /api/v1/releases/{name}         releases.read
//   GET /api/v1/deltas                  releases.read    deltas aloftd built itself (newest
//                                                        500): queued, ready or failed, why

#include <cstdint>
#include <functional>

#include "core/codec/json.hpp"
#include "server/api/management_common.hpp"
#include "server/blobs/object_store.hpp"
#include "server/deltas/delta_service.hpp"
#include "server/http/router.hpp"
#include "server/releases/release_catalog.hpp"
#include "server/repo/image_repository.hpp"

namespace aloft::server::api {

struct ReleaseApiDeps {
  OperatorGate gate;
  audit::AuditLog& audit;
  blobs::ObjectStore& blobs;
  repo::ImageRepository& image;
  releases::ReleaseCatalog& catalog;
  std::function<Result<Bytes>()> director_root;
  std::uint64_t max_artifact_bytes = 0;
  deltas::DeltaService* deltas = nullptr;  // null: server-built deltas are not wired
};

Status RegisterReleaseRoutes(http::Router& router, ReleaseApiDeps& deps);

}  // namespace aloft::server::api
