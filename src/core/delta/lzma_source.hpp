#pragma once

// A block as one raw LZMA2 stream whose preset dictionary is the whole source (patch method 3):
// what zstd's --patch-from does with a zstd frame (method 2), done with LZMA's optimal parser.
// On the large esbuild jump it is 2 % smaller than zstd -19 over the same source and costs a
// third of its CPU (4.4 s against ~11 s for 10 MB; docs/delta.md). Only for small sources:
// the decoder copies the source into its dictionary, so its memory grows with the source
// (DictBytes), and the format refuses the method past format::kLzmaSourceLimit.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::delta {

// The dictionary both sides use for a block of `span` bytes over a source of `source_size`:
// every source byte stays reachable from the block's last byte.
std::uint32_t LzmaSourceDictBytes(std::uint64_t source_size, std::uint64_t span);

// kInternal if liblzma cannot start (out of memory) or fails.
Result<Bytes> LzmaSourceCompress(ByteView block, ByteView source);

// Decodes `stream`, which must be exactly one LZMA2 stream producing exactly out.size() bytes
// with `source` as its dictionary; kVerificationFailed for anything else.
Status LzmaSourceDecompress(ByteView stream, std::span<std::uint8_t> out, ByteView source);

// The decoder's memory for such a block (its dictionary and state).
std::size_t LzmaSourceMemory(std::uint64_t source_size, std::uint64_t span);

}  // namespace aloft::core::delta
