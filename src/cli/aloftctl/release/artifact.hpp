#pragma once

// Turns an image into a release artifact: zstd-compressed as a stream (fixed memory, any image
// size), with the hashes and lengths the signed target entry carries: of the compressed
// artifact (what devices download and the server stores) and of the image itself (what the
// device's slot must hold after decompression; see agent/install/plan.hpp).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::cli::aloftctl::release {

struct Artifact {
  std::filesystem::path path;             // artifacts_dir/<sha256>
  std::int64_t length = 0;                // compressed bytes
  std::string sha256;                     // hex, of the compressed bytes
  std::int64_t image_length = 0;          // uncompressed bytes
  std::string image_sha256;               // hex, of the uncompressed image
  std::int64_t chunk_size = 0;            // of the signed chunk digests (see ChunkSizeFor)
  std::vector<std::string> chunk_sha256;  // hex, of every chunk_size bytes of the artifact
};

// How the image is compressed. The window is what a device must hold in memory to decode the
// artifact (2^window_log bytes, on top of the agent's fixed buffers), so it is a property of
// the release that device makers choose: 2^20 = 1 MiB keeps aloft-agent's peak RSS within
// 16 MiB; larger windows find more matches (level 19 on /usr binaries: 78.0 MB for 256 MiB
// with 1 MiB, 74.2 MB with 2 MiB, bench/README.md). Level 19 is slow to compress (about
// 3 MB/s per core; every core is used) and decodes as fast as lower levels, and an artifact
// is compressed once and downloaded by every device.
struct ZstdSettings {
  int level = 19;
  int window_log = 20;
};

// Called as the image is read: bytes read so far and the image size.
using CompressProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// zstd levels accepted: 1..19. Levels above 19 ("ultra") need windows larger than the agent's
// decoder allows on small devices, so they are refused.
inline constexpr int kMinZstdLevel = 1;
inline constexpr int kMaxZstdLevel = 19;
// 2^27 = 128 MiB is the largest window aloft-agent's decoder accepts
// (agent/install/stream_writers.hpp); zstd's own minimum is 2^10.
inline constexpr int kMinZstdWindowLog = 10;
inline constexpr int kMaxZstdWindowLog = 27;

// The chunk size for an artifact of `length` bytes: the smallest power of two, at least 1 MiB,
// that needs at most 64 digests. Every device downloads the Image repository's targets
// metadata, which lists every release, and refuses it above its [limits] max_metadata_bytes
// (1 MiB by default): 64 digests are 4.3 KB a release. A tampered download then stops within
// 1 MiB, or within 1/64 of a larger one.
std::int64_t ChunkSizeFor(std::int64_t length);

// Compresses `image` into `artifacts_dir`/<sha256 of the result> (written to a temporary file,
// fsynced, then renamed: a crash never leaves a half artifact under a hash name). The frame
// records the content size and a checksum. zstd compresses on every core with its
// multi-threaded mode, whose output is the same whatever the number of cores, so an artifact
// is reproducible. Errors: kNotFound (no image), kInvalidArgument (an empty image, which no
// slot can boot, or a bad level or window), kIo/kNoSpace, kInternal (zstd).
Result<Artifact> CompressImage(const std::filesystem::path& image,
                               const std::filesystem::path& artifacts_dir, const ZstdSettings& zstd,
                               const CompressProgress& progress = {});

}  // namespace aloft::cli::aloftctl::release
