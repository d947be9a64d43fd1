#pragma once

// Executes an InstallPlan: streams the artifact into the inactive slot and, only when every
// check passed, asks the bootloader to try that slot on the next boot.
//
//   1. the bootloader's state: the target must not be the booted slot; if the bootloader
//      points at the target (a trial prepared earlier, never rebooted into), MarkBad(target)
//      first: a slot about to be overwritten must not be booted
//   2. stream: source → artifact check → [chunk check] → [zstd | patch] → image length cap →
//      SlotWriter (no temporary copy). The chunk check, when the release signs chunk digests,
//      stops a tampered download within one chunk; when the Director agreed on those digests,
//      it replaces the second SHA-256 pass of the whole-artifact check. A delta plan first maps the
//      running slot read-only and checks it against the digest the signed delta starts from, before
//      the target slot is opened: a wrong base leaves the target slot untouched
//   3. finish the checks in pipeline order: artifact length+hashes, zstd frame complete, image
//      length; then flush and fsync the slot
//   4. re-read the slot and check its sha256 against the signed image digest: the one SHA-256
//      pass over the image, on the bytes the bootloader will load
//   5. PrepareTrialBoot(target)
// Any failure returns before step 5, so the bootloader still boots the running slot; the
// inactive slot then holds unspecified bytes, which nothing boots. There is a single exit
// path: every resource is owned by a scope (file descriptors, zstd context, buffers).
//
// Memory, independent of the image size (see BufferBytes): SlotWriter::kBufferBytes (1 MiB)
// for aligned, double-buffered slot writes, into which zstd decodes in place + the zstd window
// the frame declares (at most 2^ZstdDecompressWriter::kMaxWindowLog = 128 MiB; an ordinary
// `zstd -19` frame uses 8 MiB) + VerifySlot's 1 MiB of read buffers, allocated after the writer
// is gone. The source's own buffers come on top. A delta replaces zstd's share with
// core::delta::PatchApplier::MemoryBound(base length); the running slot it reads is mapped
// (page cache, no heap).

#include <cstdint>
#include <functional>

#include "agent/install/plan.hpp"
#include "agent/slots/bootloader.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"

namespace aloft::agent::install {

// Pushes the artifact's bytes, in any chunking, into the writer it is given, and returns the
// first failure (of its own, or the writer's). Later: the HTTP fetcher.
using ArtifactSource = std::function<Status(core::io::Writer&)>;

// Called after each chunk the source pushed: artifact bytes received so far, image bytes
// handed to the slot so far (buffered or written).
using ProgressFn = std::function<void(std::uint64_t artifact_bytes, std::uint64_t image_bytes)>;

class Installer {
 public:
  // The pipeline's fixed buffers, excluding zstd's window (see above); for a delta, over a
  // base image of `delta_base_length` bytes.
  static std::size_t BufferBytes(Compression compression, std::uint64_t delta_base_length = 0);

  explicit Installer(slots::Bootloader& bootloader) : bootloader_(bootloader) {}

  // Errors carry the failing step as context ("write slot: ...", "verify slot: ..."); the code
  // is the step's own (kVerificationFailed for tampered or wrong bytes, kTooLarge for more
  // bytes than signed, kIo/kNoSpace for the slot, the source's code for download failures).
  Status Run(const InstallPlan& plan, const ArtifactSource& source,
             const ProgressFn& progress = {});

 private:
  slots::Bootloader& bootloader_;
};

}  // namespace aloft::agent::install
