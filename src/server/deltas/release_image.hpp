#pragma once

// The uncompressed image of a release, written to a file from its artifact blob, so a delta
// can be computed over it (mapped, not in the heap). Nothing is taken on trust from storage:
// the artifact must have the release's signed length and sha256, and what it decompresses to
// must have the signed image length and digest.

#include <cstdint>
#include <filesystem>

#include "core/base/result.hpp"
#include "server/blobs/object_store.hpp"
#include "server/releases/release.hpp"

namespace aloft::server::deltas {

// The image's signed digest (lowercase hex) and length: core::uptane::ImageSha256Hex and
// ImageLength of the release's custom, and how its artifact packs it. kInvalidArgument for a
// release that is a delta or has an unreadable custom.
struct ImageDigest {
  std::string sha256;
  std::int64_t length = 0;
  std::string compression = "none";  // the payload's, when the custom names one
};
Result<ImageDigest> SignedImageDigest(const releases::Release& release);

// Streams the release's artifact out of `blobs` into `path` (created 0600, replaced if
// present), decompressing a zstd payload. Errors: kTooLarge when the image is above
// `max_image_bytes`; kVerificationFailed when the blob or its content is not what the release
// signed; kUnsupported for a compression other than none/zstd; kNotFound for a missing blob;
// kIo. On error the file is removed.
Status WriteReleaseImage(blobs::ObjectStore& blobs, const releases::Release& release,
                         std::uint64_t max_image_bytes, const std::filesystem::path& path);

}  // namespace aloft::server::deltas
