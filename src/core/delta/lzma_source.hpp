#pragma once

// A block as one raw LZMA2 stream whose preset dictionary is the whole source: what zstd's
// --patch-from does with a zstd frame (method 2), done with LZMA. Method 3 uses LZMA's optimal
// parser on the bytes as they are: on the large esbuild jump it is 2 % smaller than zstd -19
// over the same source and costs a third of its CPU (4.4 s against ~11 s for 10 MB). Method 4
// first converts x86 or ARM64 branches in both images (branch_filter.hpp) and then needs only
// LZMA's fast mode: 0.8 % smaller than zstd -19 there, in ~2.4 s (docs/delta.md). Only for
// small sources: the decoder copies the source into its dictionary, so its memory grows with
// the source (LzmaSourceDictBytes), and the format refuses the methods past
// format::kLzmaSourceLimit.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/delta/branch_filter.hpp"

namespace aloft::core::delta {

// The dictionary both sides use for a block of `span` bytes over a source of `source_size`:
// every source byte stays reachable from the block's last byte.
std::uint32_t LzmaSourceDictBytes(std::uint64_t source_size, std::uint64_t span);

// `dictionary` is the source, converted by `filter` (FilteredCopy) when there is one;
// `block_offset` is the block's position in the target (where the filter's positions start).
// kInternal if liblzma cannot start (out of memory) or fails.
Result<Bytes> LzmaSourceCompress(ByteView block, ByteView dictionary,
                                 BranchFilter filter = BranchFilter::kNone, std::uint64_t block_offset = 0);

// Decodes `stream`, which must be exactly one such stream producing exactly out.size() bytes
// with the same dictionary, filter and offset; kVerificationFailed for anything else.
Status LzmaSourceDecompress(ByteView stream, std::span<std::uint8_t> out, ByteView dictionary,
                            BranchFilter filter = BranchFilter::kNone, std::uint64_t block_offset = 0);

// The memory to decode such a block: the decoder's dictionary and state, and with a filter the
// converted copy of the source it starts from.
std::size_t LzmaSourceMemory(std::uint64_t source_size, std::uint64_t span,
                             BranchFilter filter = BranchFilter::kNone);

}  // namespace aloft::core::delta
