#pragma once

// The "custom" members Aloft puts into target entries, and what each repository may say.
//
// Image repository (offline-signed; what a release *is*):
//   {"version": "2.1.0", "hardwareIds": ["rpi4", "rpi4-lite"], "securityCounter": 3,
//    "releaseName": "...", "payload": {"format": "raw", "compression": "zstd" | "none",
//    "length": <uncompressed bytes>, "sha256": "<hex of the uncompressed image>"},
//    "chunks": {"size": <bytes, a power of two>, "sha256": ["<hex>", ...]}}
//   "chunks" (optional, any artifact) lists the sha256 of every `size` bytes of the artifact as
//   downloaded, the last piece shorter: a device checks each piece as it streams past and stops
//   a tampered download within one chunk instead of at its end. It is only ever taken from the
//   Image repository, whose offline keys sign it with the artifact's own hashes.
//   A delta is a target of its own whose artifact is a patch (core/delta) from one image to
//   another, bound to both by the same offline signature (no "payload"):
//   {"version", "hardwareIds", "securityCounter" (those of the image it produces),
//    "delta": {"fromSha256": "<hex>", "fromLength": n, "toTarget": "<full image target>",
//              "toSha256": "<hex>", "toLength": n}}
// Director repository (online-signed; what one device should do now):
//   {"hardwareId": "rpi4", "deviceId": "...", "deploymentId": "...",
//    "delta": {"target": "<delta target>", "length": n, "hashes": {"sha256": "<hex>", ...}},
//    "chunksSha256": "<hex>"}
//   "chunksSha256" (optional) is ChunkListSha256 of the Image repository's "chunks" for the
//   assigned image: the Director's agreement on the chunk digests, as "hashes" is its agreement
//   on the whole artifact. When both repositories agree on the chunks, every byte is bound to
//   both by the chunk digests, and a device need not hash the whole artifact as well.
//   The Director always names the full image; "delta" is an optional, cheaper way to get it,
//   which the device uses only when the Image repository signed that delta for that image.
//   A delta aloftd computed itself (for a release uploaded without one) has no Image-repository
//   signature; its pointer carries the Director's own binding instead:
//    "delta": {"target", "length", "hashes", "builtBy": "server",
//              "fromSha256", "fromLength", "toSha256", "toLength"}
//   and is only a transport: the device still checks its slot against the full image's
//   Image-signed digest, so such a patch can waste bandwidth but never install anything else.
// Anything else is kept (it is signed) and ignored.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "core/metadata/model.hpp"

namespace aloft::core::uptane {

// How the artifact is packed; the signed target hashes cover the artifact as downloaded.
struct PayloadInfo {
  std::string format = "raw";        // "raw": a full image for a slot
  std::string compression = "none";  // "none" or "zstd"
  std::int64_t length = 0;           // bytes after decompression
  std::string sha256;                // hex digest after decompression (what the slot must hold)
};

// What a delta target turns into what. Digests are lowercase hex of the uncompressed images
// (what a slot holds), lengths their byte counts.
struct DeltaInfo {
  std::string from_sha256;
  std::int64_t from_length = 0;
  std::string to_target;  // the target path of the full image the patch produces
  std::string to_sha256;
  std::int64_t to_length = 0;
};

// The artifact's digests piece by piece (see "chunks" above). Digests are lowercase hex.
struct ChunkInfo {
  std::int64_t size = 0;            // a power of two, kMinChunkSize..kMaxChunkSize
  std::vector<std::string> sha256;  // one per piece, in order; 1..kMaxChunks of them
};
inline constexpr std::int64_t kMinChunkSize = 4096;
inline constexpr std::int64_t kMaxChunkSize = std::int64_t{1} << 30;
// Bounds what one target adds to targets metadata, which every device downloads: 4096 digests
// are 270 KB of JSON. aloftctl signs at most 64 (ChunkSizeFor in cli/aloftctl/release).
inline constexpr std::size_t kMaxChunks = 4096;

// The number of pieces of `size` bytes that cover `length` bytes (the last one may be shorter).
std::int64_t ChunkCount(std::int64_t length, std::int64_t size);

// What the Director signs to agree on a chunk list: the sha256 of its canonical JSON
// ({"sha256": [...], "size": n}, as in the Image repository's target), in lowercase hex.
std::string ChunkListSha256(const ChunkInfo& chunks);

struct ImageCustom {
  std::string version;
  std::vector<std::string> hardware_ids;
  std::int64_t security_counter = 0;
  std::optional<PayloadInfo> payload;  // absent: the artifact is the raw image itself
  std::optional<DeltaInfo> delta;      // present: the artifact is a patch, never an image
  std::optional<ChunkInfo> chunks;     // absent: the artifact is checked as a whole only
};

// The Director's pointer from the full image it assigns to a delta target that produces it.
struct DeltaRef {
  std::string target;         // the delta's target path (its download name)
  metadata::TargetFile file;  // its length and hashes (custom unused)
  // Set for a delta the server built ("builtBy": "server"): what the Director says the patch
  // turns into what (to_target is empty: the pointer's own image). Unset: the Image repository
  // must have signed `target` as a delta.
  std::optional<DeltaInfo> server_built = std::nullopt;
};

struct DirectorCustom {
  std::string hardware_id;
  std::string device_id;
  std::string deployment_id;
  std::optional<DeltaRef> delta = std::nullopt;
  std::string chunks_sha256 = {};  // lowercase hex; empty: the Director names no chunk list
};

// What a device reports as its running image and a delta starts from: the payload digest of a
// compressed release, the artifact's own sha256 otherwise (lowercase hex; "" when the target
// has no sha256). ImageLength likewise.
std::string ImageSha256Hex(const metadata::TargetFile& target, const ImageCustom& custom);
std::int64_t ImageLength(const metadata::TargetFile& target, const ImageCustom& custom);

// The Image-repository name of the delta from the image with digest `from_sha256` to the
// release `to_target`: "<to_target>.from-<first 16 hex digits of from_sha256>". Releases and
// deltas are looked up by this name (the server has no index of its own); the name is only an
// address: the signed "delta" member is what binds the patch to both images.
std::string DeltaTargetName(std::string_view to_target, std::string_view from_sha256);

// Prefix of the report message an agent sends when it abandoned a delta for the full image;
// the server keeps that fact on the device's rollout row.
inline constexpr std::string_view kDeltaFallbackPrefix = "delta fallback: ";

// Parse the custom object of a target entry. Errors are kInvalidArgument naming the field.
Result<ImageCustom> ParseImageCustom(const codec::Json& custom);
Result<DirectorCustom> ParseDirectorCustom(const codec::Json& custom);

codec::Json ToJson(const ImageCustom& custom);
codec::Json ToJson(const DirectorCustom& custom);

}  // namespace aloft::core::uptane
