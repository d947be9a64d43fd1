#pragma once

// The patch format's layout, shared by the writer (create.cpp) and the reader (apply.cpp).
// docs/delta.md describes it for people; this file is the authority.
//
//   header (kHeaderSize bytes, little-endian integers)
//     0  magic "ALOFTDLT"          8  version (4; 2 and 3 are read too)  9..11  zero
//     12 block_size u32            16 source_length u64   24 source SHA-256 (32)
//     56 target_length u64         64 target SHA-256 (32)
//   then ceil(target_length / block_size) blocks, block i producing target bytes
//   [i * block_size, min((i + 1) * block_size, target_length)), each a record head then payload:
//     kMethodBsdiff:      ctrl_raw u32, ctrl_comp u32, diff_raw u32, diff_comp u32,
//                         extra_comp u32, then one codec byte each for ctrl and diff
//                         (kCodecZstd or kCodecBzip2)
//                         payload: ctrl frame, diff frame (absent when diff_raw is 0), then the
//                         block's chunk of the patch's literal stream (absent when the block
//                         has no literal bytes): one LZMA2 stream (literal_stream.hpp) over
//                         the literal bytes of every kMethodBsdiff block, in block order.
//     kMethodZstdPrefix:  prefix_offset u64, prefix_length u64, comp u32
//                         payload: one zstd frame with the source range as its prefix.
//     kMethodLzmaSource:  comp u32 (version 3 and later; sources of at most kLzmaSourceLimit)
//                         payload: one raw LZMA2 stream whose preset dictionary is the whole
//                         source (lzma_source.hpp).
//     kMethodLzmaSourceFiltered: filter u8 (BranchFilter: 1 x86, 2 ARM64), comp u32 (version 4;
//                         sources of at most kLzmaSourceLimit)
//                         payload: one raw stream through the branch filter (its positions
//                         starting at the block's offset in the target) and LZMA2, whose
//                         preset dictionary is the whole source converted by the same filter
//                         from offset 0 (branch_filter.hpp).
// Version 3 is version 4 without kMethodLzmaSourceFiltered; version 2 is version 3 without
// kMethodLzmaSource. Both are still applied. Version 1
// (per-block literal frames) is refused: no such patch was ever shipped.
// The block size is capped (kMaxBlockSize) so that the applier's buffers are bounded whatever
// the image size; the source is only ever read in place.

#include <cstddef>
#include <cstdint>

#include "core/base/bytes.hpp"

namespace aloft::core::delta::format {

inline constexpr char kMagic[8] = {'A', 'L', 'O', 'F', 'T', 'D', 'L', 'T'};
inline constexpr std::uint8_t kVersion = 4;
inline constexpr std::uint8_t kOldestVersion = 2;
inline constexpr std::size_t kHeaderSize = 96;

inline constexpr std::uint32_t kMaxBlockSize = 16u << 20;
inline constexpr std::uint32_t kDefaultBlockSize = 16u << 20;
// Control bytes per block. Real blocks need a few KiB; a block whose controls would exceed
// this (pathological input) is written with kMethodZstdPrefix instead.
inline constexpr std::uint32_t kMaxControlBytes = 1u << 20;

enum Method : std::uint8_t {
  kMethodBsdiff = 1,
  kMethodZstdPrefix = 2,
  kMethodLzmaSource = 3,
  kMethodLzmaSourceFiltered = 4,
};
// bzip2's block sorting codes bsdiff's difference stream (long zero runs with sparse small
// values) about 7 % smaller than zstd -19 and ten times faster; zstd wins on the rest.
enum Codec : std::uint8_t { kCodecZstd = 1, kCodecBzip2 = 2 };
inline constexpr std::size_t kBsdiffHeadSize = 1 + 5 * 4 + 2;
// The literal stream's LZMA2 dictionary: how far back (in literal bytes, across blocks) a
// block's literals may refer. The decoder's memory grows with it (about this much).
inline constexpr std::uint32_t kLiteralDictBytes = 16u << 20;
inline constexpr std::size_t kZstdPrefixHeadSize = 1 + 2 * 8 + 4;
inline constexpr std::size_t kLzmaSourceHeadSize = 1 + 4;
inline constexpr std::size_t kLzmaSourceFilteredHeadSize = 1 + 1 + 4;
// The largest source a kMethodLzmaSource(Filtered) block may use: its decoder holds the source and the
// block in its dictionary, so this bounds that memory (32 MiB with a 16 MiB block).
inline constexpr std::uint64_t kLzmaSourceLimit = 16u << 20;

inline void PutU32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void PutU64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline std::uint32_t GetU32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t GetU64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// LEB128 varints for the control stream; seeks are zigzag-encoded.
inline void PutVarint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

}  // namespace aloft::core::delta::format
