#pragma once

// The install plan: everything the installer will do, decided and validated before a single
// byte is written. Pure: no I/O, so every refusal is testable without a device.

#include <cstdint>
#include <optional>
#include <vector>

#include "agent/slots/slot.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/metadata/model.hpp"
#include "core/uptane/target_custom.hpp"

namespace aloft::agent::install {

// How the download becomes the image: as is, zstd-decompressed, or as a patch (core/delta)
// applied to the image the booted slot holds.
enum class Compression : std::uint8_t { kNone, kZstd, kDelta };

// The image a delta starts from: the first `length` bytes of the booted slot, which must hash
// to `sha256` (checked before the target slot is opened).
struct DeltaBase {
  slots::Slot slot;
  std::uint64_t length = 0;
  Bytes sha256;  // 32 bytes
};

// The artifact's signed digests piece by piece: every `size` bytes as downloaded, the last piece
// shorter (the Image repository's "chunks", see core/uptane/target_custom.hpp).
struct ArtifactChunks {
  std::uint64_t size = 0;
  std::vector<Bytes> sha256;  // 32 bytes each, in order
  // The Director agreed on these digests too (ApprovedImage::chunks_agreed): they then bind
  // every byte to both repositories, and the whole-artifact hashes need no second pass.
  bool agreed_by_director = false;
};

struct InstallPlan {
  slots::Slot target;                             // the inactive slot, never the booted one
  std::int64_t artifact_length = 0;               // signed length of the download
  core::metadata::Hashes artifact_hashes;         // signed hashes of the download
  std::optional<ArtifactChunks> artifact_chunks;  // its signed piecewise digests, if any
  Compression compression = Compression::kNone;
  std::uint64_t image_length = 0;       // signed length of what the slot must hold
  Bytes image_sha256;                   // signed digest of that (32 bytes)
  std::optional<DeltaBase> delta_base;  // the patch's source; with kDelta only
};

// Builds the plan for installing the verified target `artifact` (its length and hashes come
// from signed targets metadata; `payload` from its signed custom "payload" member, absent when
// the artifact is the raw image; `chunks` from its signed custom "chunks" member, which must
// come from the Image repository, `chunks_agreed` whether the Director signed their digest)
// into the slot that is not `booted`. Refusals:
//   kUnsupported      payload format other than "raw", compression other than "none"/"zstd"
//   kInvalidArgument  non-positive lengths, no hashes, a payload sha256 that is not 64 hex
//                     digits, an uncompressed payload whose length differs from the
//                     artifact's, no artifact sha256 when there is no payload, a slot pair
//                     whose ids or device paths are wrong or shared, chunk digests whose
//                     count does not cover the artifact's length
Result<InstallPlan> MakeInstallPlan(const core::metadata::TargetFile& artifact,
                                    const std::optional<core::uptane::PayloadInfo>& payload,
                                    const std::optional<core::uptane::ChunkInfo>& chunks,
                                    const slots::SlotPair& slots, slots::SlotId booted,
                                    bool chunks_agreed = false);

// The plan for getting `full`'s image by applying the delta target `delta` (length and hashes
// signed by the Image repository, `info` its signed custom "delta") to the booted slot. The
// image length and digest stay `full`'s, so the slot is checked against the full image's
// signed digest whatever the patch says; `full`'s chunk digests, which describe the other
// artifact, are dropped. Refusals:
//   kVerificationFailed  the delta does not produce `full`'s image (length or digest)
//   kInvalidArgument     non-positive lengths, no artifact sha256, a from-digest that is not
//                        64 hex digits, `full` itself a delta plan
Result<InstallPlan> MakeDeltaInstallPlan(const InstallPlan& full,
                                         const core::metadata::TargetFile& delta,
                                         const core::uptane::DeltaInfo& info,
                                         const slots::SlotPair& slots, slots::SlotId booted);

}  // namespace aloft::agent::install
