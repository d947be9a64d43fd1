#pragma once

// bsdiff's matching (Colin Percival, "Naive differences of executable code", 2003) over a
// suffix array built by libdivsufsort: the target is covered by approximate matches against
// the source (bytes copied from the source plus a difference, mostly zero, which compresses
// to almost nothing even when code moved and every address in it changed) and by literal
// "extra" bytes in between.

#include <cstddef>
#include <cstdint>
#include <memory>
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
  kAuto,          // kHashChains up to kHashChainLimit bytes of source, else kHashAnchors
  kHashChains,    // near-longest match at every position from 8-byte hash chains: linear to
                  // build; on executables as good as the suffix array for bsdiff's scan
  kSuffixArray,   // the longest match at every position, O(n log n) to build (divsufsort)
  kHashAnchors,   // runs of 47+ bytes from sampled anchors: linear, for file-system images
};
// Past this, an index of every position costs hundreds of MiB (5 bytes per source byte for
// chains, 4 for the suffix array) and buys little over anchors: images are mostly long runs
// that moved or stayed, and the block compressor finds the rest.
inline constexpr std::uint64_t kHashChainLimit = 64u << 20;

// An index over one source, reused for several scans of targets against it.
class MatchFinder {
 public:
  // The source must outlive the finder. kTooLarge when the source is beyond the 32-bit suffix
  // array (2 GiB).
  static Result<MatchFinder> Build(ByteView source, MatchIndex index = MatchIndex::kAuto);
  MatchFinder(MatchFinder&&) noexcept;
  MatchFinder& operator=(MatchFinder&&) noexcept;
  ~MatchFinder();

  // The ops cover the target exactly once, in order, with no empty op.
  std::vector<MatchOp> Find(ByteView target) const;

  // How much of `target` bsdiff's scan leaves as literal bytes, in 1/1000, estimated from
  // `windows` windows of `window_bytes` spread evenly over it (exact when the target is no
  // larger than the windows together). A pair where it is high is not worth a full scan:
  // the patch is then better made by a compressor over the whole source (create.cpp).
  std::uint32_t LiteralPermille(ByteView target, std::size_t windows, std::size_t window_bytes) const;

 private:
  struct Impl;
  explicit MatchFinder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// MatchFinder::Build(source, index), then Find(target).
Result<std::vector<MatchOp>> FindMatches(ByteView source, ByteView target,
                                         MatchIndex index = MatchIndex::kAuto);

}  // namespace aloft::core::delta
