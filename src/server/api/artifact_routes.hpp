#pragma once

// Artifact downloads: GET /api/v1/targets/<sha256>.<name> (and one directory level,
// <dir>/<sha256>.<name>, the TUF consistent-snapshot name of a nested target path).
//
// Public and cacheable on purpose: devices verify every byte against the signed targets, so
// the bytes need no secrecy (plain images; encrypted payloads are a later feature) and no
// trusted transport — a CDN or an nginx cache in front of aloftd may serve them. The URL
// names the content hash, so the response never changes: Cache-Control immutable, the hash
// as a strong ETag, Range for resumed downloads.

#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

#include "server/blobs/object_store.hpp"
#include "server/http/router.hpp"

namespace aloft::server::api {

// Where a blob's bytes lie on the local disk, when they do (FsObjectStore); nullopt when the
// store keeps them elsewhere.
using LocalBlobPath = std::function<std::optional<std::filesystem::path>(std::string_view sha256)>;

struct ArtifactDownloadDeps {
  blobs::ObjectStore& store;
  LocalBlobPath local_path;
};

// The content hash named by a consistent-snapshot file name "<64 hex>.<name>", or nullopt.
std::optional<std::string> HashFromTargetFileName(std::string_view file_name);

// Registers the download routes. `deps` must outlive the router.
Status RegisterArtifactDownloadRoutes(http::Router& router, ArtifactDownloadDeps& deps);

}  // namespace aloft::server::api
