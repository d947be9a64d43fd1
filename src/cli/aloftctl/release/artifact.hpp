#pragma once

// Turns an image into a release artifact: zstd-compressed as a stream (fixed memory, any image
// size), with the hashes and lengths the signed target entry carries: of the compressed
// artifact (what devices download and the server stores) and of the image itself (what the
// device's slot must hold after decompression; see agent/install/plan.hpp).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/base/result.hpp"

namespace aloft::cli::aloftctl::release {

struct Artifact {
  std::filesystem::path path;     // artifacts_dir/<sha256>
  std::int64_t length = 0;        // compressed bytes
  std::string sha256;             // hex, of the compressed bytes
  std::int64_t image_length = 0;  // uncompressed bytes
  std::string image_sha256;       // hex, of the uncompressed image
};

// Called as the image is read: bytes read so far and the image size.
using CompressProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// zstd levels accepted: 1..19. Levels above 19 ("ultra") need windows larger than the agent's
// decoder allows on small devices, so they are refused.
inline constexpr int kMinZstdLevel = 1;
inline constexpr int kMaxZstdLevel = 19;

// Compresses `image` into `artifacts_dir`/<sha256 of the result> (written to a temporary file,
// fsynced, then renamed: a crash never leaves a half artifact under a hash name). The frame
// records the content size and a checksum. Errors: kNotFound (no image), kInvalidArgument (an
// empty image, which no slot can boot, or a bad level), kIo/kNoSpace, kInternal (zstd).
Result<Artifact> CompressImage(const std::filesystem::path& image,
                               const std::filesystem::path& artifacts_dir, int level,
                               const CompressProgress& progress = {});

}  // namespace aloft::cli::aloftctl::release
