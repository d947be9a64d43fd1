#include "core/delta/matcher.hpp"

#include <divsufsort.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace aloft::core::delta {
namespace {

// Match lengths are capped: a long run (zero-filled ext4 blocks) would otherwise cost its full
// length at every binary-search step of every scan position. A capped match still wins the
// comparison against the current alignment, so the scan advances by this much per search.
constexpr std::int64_t kMaxMatch = 4096;

std::int64_t MatchLength(const std::uint8_t* a, std::int64_t a_len, const std::uint8_t* b,
                         std::int64_t b_len) {
  std::int64_t n = std::min({a_len, b_len, kMaxMatch});
  std::int64_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

class Searcher {
 public:
  Searcher(ByteView source, const std::vector<saidx_t>& sa) : src_(source), sa_(sa) {}

  // The longest (capped) match of `needle` among the source's suffixes; its position in *pos.
  std::int64_t Longest(const std::uint8_t* needle, std::int64_t needle_len, std::int64_t* pos) const {
    const auto n = static_cast<std::int64_t>(src_.size());
    std::int64_t lo = 0;
    std::int64_t hi = n - 1;
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
    std::int64_t len_lo = MatchLength(src_.data() + at_lo, n - at_lo, needle, needle_len);
    std::int64_t len_hi = MatchLength(src_.data() + at_hi, n - at_hi, needle, needle_len);
    if (len_lo >= len_hi) {
      *pos = at_lo;
      return len_lo;
    }
    *pos = at_hi;
    return len_hi;
  }

 private:
  ByteView src_;
  const std::vector<saidx_t>& sa_;
};

void Push(std::vector<MatchOp>& ops, MatchOp::Kind kind, std::int64_t target_pos, std::int64_t length,
          std::int64_t source_pos) {
  if (length <= 0) return;
  ops.push_back({kind, static_cast<std::uint64_t>(target_pos), static_cast<std::uint64_t>(length),
                 static_cast<std::uint64_t>(source_pos)});
}

}  // namespace

Result<std::vector<MatchOp>> FindMatches(ByteView source, ByteView target) {
  std::vector<MatchOp> ops;
  const auto old_size = static_cast<std::int64_t>(source.size());
  const auto new_size = static_cast<std::int64_t>(target.size());
  if (old_size >= std::numeric_limits<saidx_t>::max()) {
    return Fail(Errc::kTooLarge, "delta: source images of 2 GiB or more are not supported");
  }
  if (new_size == 0) return ops;
  if (old_size == 0) {
    Push(ops, MatchOp::kExtra, 0, new_size, 0);
    return ops;
  }
  std::vector<saidx_t> sa(static_cast<std::size_t>(old_size));
  if (divsufsort(source.data(), sa.data(), static_cast<saidx_t>(old_size)) != 0) {
    return Fail(Errc::kInternal, "delta: suffix sorting failed");
  }
  Searcher searcher(source, sa);
  const std::uint8_t* old_data = source.data();
  const std::uint8_t* new_data = target.data();

  // The loop below follows bsdiff 4.3's: extend the current alignment (lastoffset) while it
  // keeps matching, and start a new approximate match only when some source position beats it
  // by more than 8 bytes; then split the gap between two matches into a forward extension of
  // the previous one, literal bytes, and a backward extension of the next one.
  std::int64_t scan = 0, len = 0, pos = 0, last_scan = 0, last_pos = 0, last_offset = 0;
  while (scan < new_size) {
    std::int64_t old_score = 0;
    std::int64_t scsc = scan += len;
    for (; scan < new_size; ++scan) {
      len = searcher.Longest(new_data + scan, new_size - scan, &pos);
      for (; scsc < scan + len; ++scsc) {
        if (scsc + last_offset < old_size && old_data[scsc + last_offset] == new_data[scsc]) ++old_score;
      }
      if ((len == old_score && len != 0) || len > old_score + 8) break;
      // A capped match that the current alignment nearly equals (at most 8 mismatches in
      // kMaxMatch bytes): keep the alignment and skip the window, as for an exact tie. bsdiff
      // would step one byte at a time here, which in zero-filled image regions is quadratic.
      if (len == kMaxMatch && old_score + 8 >= len) {
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

}  // namespace aloft::core::delta
