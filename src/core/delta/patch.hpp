#pragma once

// Binary deltas between two images: a patch turns a source (the image a device runs) into a
// target (the image it should run). Creation is offline, with both images in memory or mapped;
// application is a stream: patch bytes arrive in any chunking (from the network) and target
// bytes leave through a Writer (into the inactive slot), with the source mapped read-only.
//
// A patch names the exact source it applies to and the exact target it produces (length and
// SHA-256 of each, in its header), so a wrong base is refused before a single target byte is
// written, and a corrupt or forged patch can never yield anything but a refusal: Finish()
// checks the produced bytes against the target digest. Security does not rest on this check
// alone — the agent also compares the slot with the image digest signed by the Image
// repository — but it lets a tool fail early and clearly.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/delta/matcher.hpp"
#include "core/io/writer.hpp"

namespace aloft::core::delta {

// What a patch says about itself; readable from its first kHeaderBytes bytes.
struct PatchHeader {
  std::uint8_t version = 0;  // format version (format.hpp)
  std::uint64_t source_length = 0;
  Bytes source_sha256;  // 32 bytes
  std::uint64_t target_length = 0;
  Bytes target_sha256;  // 32 bytes
};

// The fixed size of the header at the start of every patch.
std::size_t HeaderBytes();

// Parses the header from the first HeaderBytes() bytes of a patch (more may follow).
// kInvalidArgument: too short, not a patch (magic), or an unknown format version.
Result<PatchHeader> ReadPatchHeader(ByteView patch_prefix);

struct CreateOptions {
  int level = 19;  // zstd level of the control streams and whole-block frames; lower is faster
  // Target bytes per block (at most 16 MiB). The applier's memory grows with it.
  std::uint32_t block_size = 16u << 20;
  // Blocks are also tried as one zstd frame over the whole source (zstd's --patch-from) when
  // the source is at most this large. That wins large jumps between executables and costs a
  // match-finder pass over the source per block; big images do without it (their matches are
  // found globally, and their literals share one stream).
  std::uint64_t prefix_window = 32u << 20;
  // Within that window, sources up to this size get an LZMA2 stream over the source (smaller
  // and faster to make than zstd's frame; the applier's memory then holds the source, see
  // MemoryBound), larger ones a zstd frame. At most format::kLzmaSourceLimit.
  std::uint64_t lzma_source_limit = 16u << 20;
  // Those LZMA2 streams go through a branch filter when the new image is an x86 or AArch64
  // ELF file (branch_filter.hpp; patch format version 4).
  bool branch_filters = true;
  MatchIndex match_index = MatchIndex::kAuto;  // how exact matches are found (matcher.hpp)
  // When set and true, creation stops before the next block (a server shutting down must not
  // wait for a whole image). Read from another thread's store: hence atomic.
  const std::atomic<bool>* cancel = nullptr;
};

// Writes a patch from `source` to `target` into `out`. Both inputs may be empty or identical.
// Errors: the writer's; kTooLarge for a source of 2 GiB or more (the suffix array is 32-bit);
// kInvalidArgument for options out of range; kCancelled when options.cancel was set (what
// was written to `out` by then is not a patch).
Status CreatePatch(ByteView source, ByteView target, io::Writer& out,
                   const CreateOptions& options = {});

// Applies a streamed patch. Feed it the patch through Write() in any chunking, then call
// Finish(). Memory is bounded independently of the target's size (see MemoryBound()), beyond the
// caller's mapping of `source`.
class PatchApplier final : public io::Writer {
 public:
  // `source` must stay valid and unchanged until Finish() returns. When `source_verified` is
  // true the caller has already checked `source` against the digest the patch names (the agent
  // does, against signed metadata, before it downloads), and the applier compares only the
  // length; otherwise it hashes `source` once, when the header arrives.
  PatchApplier(ByteView source, io::Writer& out, bool source_verified = false);
  ~PatchApplier() override;
  PatchApplier(const PatchApplier&) = delete;
  PatchApplier& operator=(const PatchApplier&) = delete;

  // kInvalidArgument: not a patch; kVerificationFailed: the source is not the patch's base
  // (reported before anything is written to `out`) or the patch is corrupt; kTooLarge: the
  // patch would produce more than the header's target length; the writer's own errors.
  Status Write(ByteView patch_bytes) override;

  // kVerificationFailed: the patch ended early or has trailing bytes, or the produced bytes do
  // not have the header's target length and SHA-256.
  Status Finish();

  // The header, once Write() has seen it.
  const PatchHeader* header() const noexcept;

  // The most heap memory the applier holds at any time for a source of `source_length` bytes,
  // whatever the target's size. Sources above format::kLzmaSourceLimit (all file-system
  // images) get the fixed part alone (52 MiB); smaller ones also the decoder of LZMA blocks
  // over the source, whose dictionary holds it and a block, and the branch-filtered copy of
  // the source it starts from (up to 48 MiB more).
  static std::size_t MemoryBound(std::uint64_t source_length);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Convenience over PatchApplier for a whole patch in memory.
Status ApplyPatch(ByteView source, ByteView patch, io::Writer& out);

}  // namespace aloft::core::delta
