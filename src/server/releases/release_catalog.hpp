#pragma once

// The releases that exist: the targets of the Image repository's current offline-signed
// targets metadata, read fresh on every call (the repository caches nothing either, so a
// release revoked by a new targets version is gone at once, on every aloftd of a cluster).
//
// Publishing goes through here too: an operator's signed targets are accepted only when every
// artifact they name is already in the blob store with exactly the signed length and hash, so
// no device is ever told to fetch something the server cannot serve.

#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "server/blobs/object_store.hpp"
#include "server/releases/release.hpp"
#include "server/repo/image_repository.hpp"

namespace aloft::server::releases {

class ReleaseCatalog {
 public:
  // `image` and `blobs` must outlive the catalog.
  ReleaseCatalog(repo::ImageRepository& image, blobs::ObjectStore& blobs)
      : image_(image), blobs_(blobs) {}

  // Every release, ordered by name; empty before the first targets upload.
  Result<std::vector<Release>> List();
  // kNotFound when the current targets do not list `name`.
  Result<Release> Find(std::string_view name);

  // Checks the artifacts of `targets_bytes` (see above), then ImageRepository::UploadTargets.
  // Target names must be one path segment ([A-Za-z0-9._+-], not starting with '.'), so every
  // artifact has one stable URL. Errors: kInvalidArgument (names, unparseable), kNotFound
  // naming the first missing artifact ("upload it first"), kVerificationFailed for a blob
  // whose size differs from the signed length; then the repository's own errors.
  // Returns the new targets version.
  Result<std::int64_t> PublishTargets(ByteView targets_bytes);

 private:
  repo::ImageRepository& image_;
  blobs::ObjectStore& blobs_;
};

// Whether `name` is acceptable as a release (target) name; see PublishTargets.
bool IsValidReleaseName(std::string_view name) noexcept;

}  // namespace aloft::server::releases
