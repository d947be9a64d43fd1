#include "core/delta/matcher.hpp"

#include <divsufsort.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>

namespace aloft::core::delta {
namespace {

// The length of the common prefix of a and b, at most `cap`; eight bytes per step.
std::int64_t CommonPrefix(const std::uint8_t* a, const std::uint8_t* b, std::int64_t cap) {
  std::int64_t i = 0;
  for (; i + 8 <= cap; i += 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return i + std::countr_zero(x ^ y) / 8;  // little-endian: first differing byte
  }
  while (i < cap && a[i] == b[i]) ++i;
  return i;
}

// The match along the current alignment (`hint`, the source position the previous match
// continues to), at most `cap` bytes; 0 at position 0 when the hint lies outside the source.
std::int64_t AlignmentMatch(ByteView source, const std::uint8_t* needle, std::int64_t needle_len,
                            std::int64_t hint, std::int64_t cap, std::int64_t* pos) {
  const auto n = static_cast<std::int64_t>(source.size());
  *pos = 0;
  if (hint < 0 || hint >= n) return 0;
  *pos = hint;
  return CommonPrefix(source.data() + hint, needle, std::min({n - hint, needle_len, cap}));
}

// Exact matches from a suffix array of the whole source: the longest match at every target
// position, which is what gives bsdiff its quality on executables (code that moved is found
// even between changed addresses a few bytes apart).
class SuffixIndex {
 public:
  // Match lengths are capped: a long run (zero-filled blocks) would otherwise cost its full
  // length at every binary-search step of every scan position. A capped match still wins the
  // comparison against the current alignment, so the scan advances by this much per search.
  static constexpr std::int64_t kMaxMatch = 4096;

  Status Build(ByteView source) {
    src_ = source;
    sa_.resize(source.size());
    if (divsufsort(source.data(), sa_.data(), static_cast<saidx_t>(source.size())) != 0) {
      return Fail(Errc::kInternal, "delta: suffix sorting failed");
    }
    // Where each two-byte prefix starts in the suffix array, so that a search starts inside
    // its bucket: that skips the first ~16 binary-search steps, the ones that miss the cache.
    // The one-byte suffix (the source's last byte c) sorts before every "c?" suffix.
    const std::size_t n = source.size();
    bucket_.assign(65537, 0);
    for (std::size_t p = 0; p + 1 < n; ++p) ++bucket_[(std::size_t{source[p]} << 8 | source[p + 1]) + 1];
    for (std::size_t k = 1; k < bucket_.size(); ++k) bucket_[k] += bucket_[k - 1];
    const std::size_t last = source[n - 1];
    for (std::size_t k = (last + 1) << 8; k < bucket_.size(); ++k) ++bucket_[k];
    return Ok();
  }

  std::int64_t max_match() const { return kMaxMatch; }

  // The longest (capped) match of `needle` among the source's suffixes; its position in *pos.
  std::int64_t Longest(const std::uint8_t* needle, std::int64_t needle_len, std::int64_t /*hint*/,
                       std::int64_t* pos) const {
    const auto n = static_cast<std::int64_t>(src_.size());
    std::int64_t lo = 0;
    std::int64_t hi = n - 1;
    if (needle_len >= 2) {
      const std::size_t key = std::size_t{needle[0]} << 8 | needle[1];
      lo = std::max<std::int64_t>(static_cast<std::int64_t>(bucket_[key]) - 1, 0);
      hi = std::min<std::int64_t>(static_cast<std::int64_t>(bucket_[key + 1]), n - 1);
    }
    while (hi - lo >= 2) {
      std::int64_t mid = lo + (hi - lo) / 2;
      std::int64_t at = sa_[static_cast<std::size_t>(mid)];
      std::size_t len = static_cast<std::size_t>(std::min({n - at, needle_len, kMaxMatch}));
      if (std::memcmp(src_.data() + at, needle, len) < 0) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    std::int64_t at_lo = sa_[static_cast<std::size_t>(lo)];
    std::int64_t at_hi = sa_[static_cast<std::size_t>(hi)];
    std::int64_t len_lo = CommonPrefix(src_.data() + at_lo, needle, std::min({n - at_lo, needle_len, kMaxMatch}));
    std::int64_t len_hi = CommonPrefix(src_.data() + at_hi, needle, std::min({n - at_hi, needle_len, kMaxMatch}));
    if (len_lo >= len_hi) {
      *pos = at_lo;
      return len_lo;
    }
    *pos = at_hi;
    return len_hi;
  }

 private:
  ByteView src_;
  std::vector<saidx_t> sa_;
  std::vector<std::uint32_t> bucket_;
};

// Exact matches from a hash table of the source sampled every kStep bytes (anchors of kWindow
// bytes), extended forward; plus the current alignment (`hint`). Any common run of at least
// kWindow + kStep - 1 bytes is found, in time linear in the images, where suffix sorting a
// file-system image costs minutes. Shorter matches are left to the block compressor.
class HashIndex {
 public:
  static constexpr std::int64_t kWindow = 32;
  static constexpr std::int64_t kStep = 16;
  // Extending along one alignment is cheap here, so runs may be long (fewer scan rounds).
  static constexpr std::int64_t kMaxMatch = 1 << 20;

  Status Build(ByteView source) {
    src_ = source;
    const std::size_t anchors = source.size() / kStep + 1;
    const int bits = std::max(10, static_cast<int>(std::bit_width(anchors)));
    shift_ = 64 - bits;
    table_.assign(std::size_t{1} << bits, 0);
    // Later anchors overwrite earlier ones with the same hash: one candidate per slot.
    for (std::size_t p = 0; p + kWindow <= source.size(); p += kStep) {
      table_[Hash(source.data() + p)] = static_cast<std::uint32_t>(p + 1);
    }
    return Ok();
  }

  std::int64_t max_match() const { return kMaxMatch; }

  std::int64_t Longest(const std::uint8_t* needle, std::int64_t needle_len, std::int64_t hint,
                       std::int64_t* pos) const {
    const auto n = static_cast<std::int64_t>(src_.size());
    std::int64_t best = AlignmentMatch(src_, needle, needle_len, hint, kMaxMatch, pos);
    if (needle_len >= kWindow) {
      std::uint32_t slot = table_[Hash(needle)];
      if (slot != 0 && static_cast<std::int64_t>(slot - 1) != hint) {
        const std::int64_t at = slot - 1;
        std::int64_t len = CommonPrefix(src_.data() + at, needle, std::min({n - at, needle_len, kMaxMatch}));
        if (len > best) {
          best = len;
          *pos = at;
        }
      }
    }
    return best;
  }

 private:
  std::size_t Hash(const std::uint8_t* p) const {
    std::uint64_t w[4];
    std::memcpy(w, p, sizeof w);
    std::uint64_t h = w[0] * 0x9E3779B97F4A7C15ull;
    h = (std::rotl(h, 23) ^ w[1]) * 0xC2B2AE3D27D4EB4Full;
    h = (std::rotl(h, 23) ^ w[2]) * 0x165667B19E3779F9ull;
    h = (std::rotl(h, 23) ^ w[3]) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> shift_);
  }

  ByteView src_;
  std::vector<std::uint32_t> table_;
  int shift_ = 64;
};

// Exact matches from hash chains over every source position (8-byte seeds, the most recent
// kDepth occurrences tried, as zstd and zlib do), plus the current alignment (`hint`). On
// executables it finds what the suffix array finds for bsdiff's scan, often a slightly better
// alignment, without sorting the source: building is linear (~0.1 s for 10 MB where
// divsufsort takes ~0.7 s), and a search touches a few chain links instead of ~20
// cache-missing binary-search steps. Measured in docs/delta.md.
class ChainIndex {
 public:
  static constexpr std::int64_t kMaxMatch = 4096;  // as SuffixIndex, for the same reason
  static constexpr std::int64_t kSeed = 8;
  static constexpr int kDepth = 8;

  Status Build(ByteView source) {
    src_ = source;
    // One slot per two to four positions: the table stays a quarter of prev_ or less.
    const int bits = std::max(12, static_cast<int>(std::bit_width(source.size())) - 2);
    shift_ = 64 - bits;
    head_.assign(std::size_t{1} << bits, 0);
    prev_.assign(source.size(), 0);
    for (std::size_t p = 0; p + kSeed <= source.size(); ++p) {
      const std::size_t h = Hash(source.data() + p);
      prev_[p] = head_[h];
      head_[h] = static_cast<std::uint32_t>(p + 1);
    }
    return Ok();
  }

  std::int64_t max_match() const { return kMaxMatch; }

  std::int64_t Longest(const std::uint8_t* needle, std::int64_t needle_len, std::int64_t hint,
                       std::int64_t* pos) const {
    const auto n = static_cast<std::int64_t>(src_.size());
    std::int64_t best = AlignmentMatch(src_, needle, needle_len, hint, kMaxMatch, pos);
    if (needle_len < kSeed) return best;
    std::uint32_t link = head_[Hash(needle)];
    for (int depth = 0; link != 0 && depth < kDepth && best < kMaxMatch; ++depth) {
      const std::int64_t at = link - 1;
      link = prev_[static_cast<std::size_t>(at)];
      // A candidate can only win if it also matches the byte where the best one ends.
      const std::int64_t probe = std::min(best, needle_len - 1);
      if (at + probe >= n || src_[static_cast<std::size_t>(at + probe)] != needle[probe]) continue;
      const std::int64_t len =
          CommonPrefix(src_.data() + at, needle, std::min({n - at, needle_len, kMaxMatch}));
      if (len > best) {
        best = len;
        *pos = at;
      }
    }
    return best;
  }

 private:
  std::size_t Hash(const std::uint8_t* p) const {
    std::uint64_t w = 0;
    std::memcpy(&w, p, sizeof w);
    return static_cast<std::size_t>((w * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  ByteView src_;
  std::vector<std::uint32_t> head_;  // newest position + 1 per hash; 0: none
  std::vector<std::uint32_t> prev_;  // the previous position + 1 with the same hash
  int shift_ = 64;
};

void Push(std::vector<MatchOp>& ops, MatchOp::Kind kind, std::int64_t target_pos, std::int64_t length,
          std::int64_t source_pos) {
  if (length <= 0) return;
  ops.push_back({kind, static_cast<std::uint64_t>(target_pos), static_cast<std::uint64_t>(length),
                 static_cast<std::uint64_t>(source_pos)});
}

template <typename Index>
std::vector<MatchOp> Scan(ByteView source, ByteView target, const Index& index) {
  std::vector<MatchOp> ops;
  const auto old_size = static_cast<std::int64_t>(source.size());
  const auto new_size = static_cast<std::int64_t>(target.size());
  const std::uint8_t* old_data = source.data();
  const std::uint8_t* new_data = target.data();
  const std::int64_t max_match = index.max_match();

  // The loop below follows bsdiff 4.3's: extend the current alignment (lastoffset) while it
  // keeps matching, and start a new approximate match only when some source position beats it
  // by more than 8 bytes; then split the gap between two matches into a forward extension of
  // the previous one, literal bytes, and a backward extension of the next one.
  std::int64_t scan = 0, len = 0, pos = 0, last_scan = 0, last_pos = 0, last_offset = 0;
  while (scan < new_size) {
    std::int64_t old_score = 0;
    std::int64_t scsc = scan += len;
    for (; scan < new_size; ++scan) {
      len = index.Longest(new_data + scan, new_size - scan, scan + last_offset, &pos);
      for (; scsc < scan + len; ++scsc) {
        if (scsc + last_offset < old_size && old_data[scsc + last_offset] == new_data[scsc]) ++old_score;
      }
      if ((len == old_score && len != 0) || len > old_score + 8) break;
      // A capped match that the current alignment nearly equals (at most 8 mismatches in
      // max_match bytes): keep the alignment and skip the window, as for an exact tie. bsdiff
      // would step one byte at a time here, which in zero-filled image regions is quadratic.
      if (len == max_match && old_score + 8 >= len) {
        old_score = len;
        break;
      }
      if (scan + last_offset < old_size && old_data[scan + last_offset] == new_data[scan]) --old_score;
    }
    if (len == old_score && scan != new_size) continue;

    std::int64_t s = 0, best = 0, len_f = 0;
    for (std::int64_t i = 0; last_scan + i < scan && last_pos + i < old_size;) {
      if (old_data[last_pos + i] == new_data[last_scan + i]) ++s;
      ++i;
      if (s * 2 - i > best * 2 - len_f) {
        best = s;
        len_f = i;
      }
    }
    std::int64_t len_b = 0;
    if (scan < new_size) {
      s = 0;
      best = 0;
      for (std::int64_t i = 1; scan >= last_scan + i && pos >= i; ++i) {
        if (old_data[pos - i] == new_data[scan - i]) ++s;
        if (s * 2 - i > best * 2 - len_b) {
          best = s;
          len_b = i;
        }
      }
    }
    if (last_scan + len_f > scan - len_b) {
      std::int64_t overlap = (last_scan + len_f) - (scan - len_b);
      s = 0;
      best = 0;
      std::int64_t len_s = 0;
      for (std::int64_t i = 0; i < overlap; ++i) {
        if (new_data[last_scan + len_f - overlap + i] == old_data[last_pos + len_f - overlap + i]) ++s;
        if (new_data[scan - len_b + i] == old_data[pos - len_b + i]) --s;
        if (s > best) {
          best = s;
          len_s = i + 1;
        }
      }
      len_f += len_s - overlap;
      len_b -= len_s;
    }
    Push(ops, MatchOp::kDiff, last_scan, len_f, last_pos);
    Push(ops, MatchOp::kExtra, last_scan + len_f, (scan - len_b) - (last_scan + len_f), 0);
    last_scan = scan - len_b;
    last_pos = pos - len_b;
    last_offset = pos - scan;
  }
  return ops;
}

}  // namespace

struct MatchFinder::Impl {
  ByteView source;
  std::variant<std::monostate, ChainIndex, SuffixIndex, HashIndex> index;
};

MatchFinder::MatchFinder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MatchFinder::MatchFinder(MatchFinder&&) noexcept = default;
MatchFinder& MatchFinder::operator=(MatchFinder&&) noexcept = default;
MatchFinder::~MatchFinder() = default;

Result<MatchFinder> MatchFinder::Build(ByteView source, MatchIndex index) {
  if (source.size() >= static_cast<std::uint64_t>(std::numeric_limits<saidx_t>::max())) {
    return Fail(Errc::kTooLarge, "delta: source images of 2 GiB or more are not supported");
  }
  auto impl = std::make_unique<Impl>();
  impl->source = source;
  if (source.empty()) return MatchFinder(std::move(impl));
  if (index == MatchIndex::kAuto) {
    index = source.size() <= kHashChainLimit ? MatchIndex::kHashChains : MatchIndex::kHashAnchors;
  }
  Status built = Ok();
  if (index == MatchIndex::kHashChains) {
    built = impl->index.emplace<ChainIndex>().Build(source);
  } else if (index == MatchIndex::kSuffixArray) {
    built = impl->index.emplace<SuffixIndex>().Build(source);
  } else {
    built = impl->index.emplace<HashIndex>().Build(source);
  }
  if (!built) return Fail(built.error());
  return MatchFinder(std::move(impl));
}

std::vector<MatchOp> MatchFinder::Find(ByteView target) const {
  std::vector<MatchOp> ops;
  if (target.empty()) return ops;
  return std::visit(
      [&](const auto& index) {
        if constexpr (std::is_same_v<std::decay_t<decltype(index)>, std::monostate>) {
          Push(ops, MatchOp::kExtra, 0, static_cast<std::int64_t>(target.size()), 0);
          return ops;
        } else {
          return Scan(impl_->source, target, index);
        }
      },
      impl_->index);
}

std::uint32_t MatchFinder::LiteralPermille(ByteView target, std::size_t windows, std::size_t window_bytes) const {
  if (target.empty()) return 0;
  std::uint64_t scanned = 0;
  std::uint64_t literal = 0;
  const auto count = [&](ByteView window) {
    for (const MatchOp& op : Find(window)) {
      if (op.kind == MatchOp::kExtra) literal += op.length;
    }
    scanned += window.size();
  };
  if (windows == 0 || window_bytes == 0 || target.size() <= windows * window_bytes) {
    count(target);
  } else {
    // Evenly spread, the first at the start and the last at the end.
    const std::uint64_t stride = (target.size() - window_bytes) / (windows > 1 ? windows - 1 : 1);
    for (std::size_t w = 0; w < windows; ++w) count(target.subspan(static_cast<std::size_t>(w * stride), window_bytes));
  }
  return static_cast<std::uint32_t>(literal * 1000 / scanned);
}

Result<std::vector<MatchOp>> FindMatches(ByteView source, ByteView target, MatchIndex index) {
  auto finder = MatchFinder::Build(source, index);
  if (!finder) return Fail(finder.error());
  return finder->Find(target);
}

}  // namespace aloft::core::delta
