#pragma once

// bsdiff's matching (Colin Percival, "Naive differences of executable code", 2003) over a
// suffix array built by libdivsufsort: the target is covered by approximate matches against
// the source (bytes copied from the source plus a difference, mostly zero, which compresses
// to almost nothing even when code moved and every address in it changed) and by literal
// "extra" bytes in between.

#include <cstdint>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::delta {

// One piece of the target, in target order. kDiff: target[target_pos, +length) is
// source[source_pos, +length) plus a bytewise difference. kExtra: the bytes are literal.
struct MatchOp {
  enum Kind : std::uint8_t { kDiff, kExtra };
  Kind kind;
  std::uint64_t target_pos;
  std::uint64_t length;
  std::uint64_t source_pos;  // kDiff only
};

// How exact matches are found; the approximate-match scan over them is the same.
enum class MatchIndex {
  kAuto,          // kSuffixArray up to kSuffixArrayLimit bytes of source, else kHashAnchors
  kSuffixArray,   // the longest match at every position: best on executables, O(n log n)
  kHashAnchors,   // runs of 47+ bytes from sampled anchors: linear, for file-system images
};
// Past this, suffix sorting costs minutes (a 512 MiB image) and buys little over anchors:
// images are mostly long runs that moved or stayed, and the block compressor finds the rest.
inline constexpr std::uint64_t kSuffixArrayLimit = 64u << 20;

// The ops cover the target exactly once, in order, with no empty op. kTooLarge when the
// source is beyond the 32-bit suffix array (2 GiB).
Result<std::vector<MatchOp>> FindMatches(ByteView source, ByteView target,
                                         MatchIndex index = MatchIndex::kAuto);

}  // namespace aloft::core::delta
