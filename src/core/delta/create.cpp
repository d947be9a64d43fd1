// Patch creation: bsdiff matching over the whole images, then each target block encoded two
// ways and the smaller one kept (docs/delta.md explains why both are needed).

#include <algorithm>
#include <string>

#include "core/crypto/hash.hpp"
#include "core/delta/format.hpp"
#include "core/delta/matcher.hpp"
#include "core/delta/patch.hpp"
#include "core/delta/zstd_frames.hpp"

namespace aloft::core::delta {
namespace {

// Literal bytes below this are compressed on their own: indexing a prefix of up to
// CreateOptions::prefix_window bytes costs more than it can save on them.
constexpr std::size_t kPrefixForExtraBytes = 64u << 10;
// A block whose bsdiff encoding is within this percentage of its size is not tried as a zstd
// frame over the prefix (see Encode).
constexpr std::uint64_t kTryZstdPercent = 6;

// The source range a block's zstd frames may reference. Small sources are referenced whole
// (this is zstd's --patch-from); for large ones, a window centred on where the block's
// bsdiff matches point, which is where related content lives.
struct Range {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

Range PrefixFor(const std::vector<MatchOp>& ops, std::size_t first, std::size_t end,
                std::uint64_t block_start, std::uint64_t source_size, std::uint64_t target_size,
                std::uint64_t window) {
  if (source_size <= window) return {0, source_size};
  // The length-weighted median of the matched source positions.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> points;
  std::uint64_t total = 0;
  for (std::size_t i = first; i < end; ++i) {
    if (ops[i].kind != MatchOp::kDiff) continue;
    points.emplace_back(ops[i].source_pos, ops[i].length);
    total += ops[i].length;
  }
  std::uint64_t centre = 0;
  if (total == 0) {
    centre = target_size == 0 ? 0
                              : static_cast<std::uint64_t>(static_cast<double>(block_start) /
                                                           static_cast<double>(target_size) *
                                                           static_cast<double>(source_size));
  } else {
    std::sort(points.begin(), points.end());
    std::uint64_t seen = 0;
    for (const auto& [position, weight] : points) {
      seen += weight;
      centre = position;
      if (seen * 2 >= total) break;
    }
  }
  std::uint64_t start = centre > window / 2 ? centre - window / 2 : 0;
  start = std::min(start, source_size - window);
  return {start, window};
}

class BlockEncoder {
 public:
  BlockEncoder(ByteView source, ByteView target, const std::vector<MatchOp>& ops,
               const CreateOptions& options)
      : source_(source),
        target_(target),
        ops_(ops),
        options_(options),
        compressor_(options.level),
        fast_compressor_(std::min(options.level, 9)) {}

  // Appends block [start, end)'s record and payload to `out`. `first` is the first op that
  // reaches into the block; it is advanced past the ops that end inside it.
  Status Encode(std::uint64_t start, std::uint64_t end, std::size_t& first, Bytes& out) {
    std::size_t stop = first;
    while (stop < ops_.size() && ops_[stop].target_pos < end) ++stop;
    Range prefix = PrefixFor(ops_, first, stop, start, source_.size(), target_.size(),
                             options_.prefix_window);
    ByteView prefix_bytes = source_.subspan(prefix.offset, prefix.length);

    // Way 1: bsdiff's three streams, each with the smaller of two codecs.
    Bytes control;
    Bytes diff;
    Bytes extra;
    SplitStreams(start, end, first, stop, control, diff, extra);
    const std::uint64_t span = end - start;
    Bytes bsdiff_record;
    if (control.size() <= format::kMaxControlBytes) {
      auto plain = BsdiffRecord(control, diff, extra, {});
      if (!plain) return Fail(plain.error());
      bsdiff_record = std::move(*plain);
      // Literal bytes may also refer to the prefix, when there are enough of them to pay for
      // indexing it and the block is not about to be tried whole against the prefix anyway.
      if (extra.size() >= kPrefixForExtraBytes && bsdiff_record.size() * 100 <= span * kTryZstdPercent) {
        auto referring = BsdiffRecord(control, diff, extra, prefix);
        if (!referring) return Fail(referring.error());
        if (referring->size() < bsdiff_record.size()) bsdiff_record = std::move(*referring);
      }
    }
    if (first < stop && ops_[stop - 1].target_pos + ops_[stop - 1].length <= end) first = stop;
    else first = stop == 0 ? 0 : stop - 1;

    // Way 2: the block as one zstd frame over the prefix (zstd's patch-from, per block).
    // Only tried when bsdiff left more than kTryZstdPercent of the block: below that bsdiff
    // wins (measured on esbuild patch releases), and the prefix would cost a full match-finder
    // pass over up to options.prefix_window bytes.
    bool try_zstd = bsdiff_record.empty() || bsdiff_record.size() * 100 > span * kTryZstdPercent;
    if (try_zstd) {
      auto frame = compressor_.Compress(target_.subspan(start, span), prefix_bytes);
      if (!frame) return Fail(frame.error());
      if (bsdiff_record.empty() || frame->size() + format::kZstdPrefixHeadSize < bsdiff_record.size()) {
        out.push_back(format::kMethodZstdPrefix);
        format::PutU64(out, prefix.offset);
        format::PutU64(out, prefix.length);
        format::PutU32(out, static_cast<std::uint32_t>(frame->size()));
        out.insert(out.end(), frame->begin(), frame->end());
        return Ok();
      }
    }
    out.insert(out.end(), bsdiff_record.begin(), bsdiff_record.end());
    return Ok();
  }

 private:
  struct Frame {
    std::uint8_t codec = format::kCodecZstd;
    Bytes bytes;
  };

  // A kMethodBsdiff record head and payload; the extra stream refers to `prefix` (if not
  // empty) when zstd codes it.
  Result<Bytes> BsdiffRecord(const Bytes& control, const Bytes& diff, const Bytes& extra, Range prefix) {
    ByteView prefix_bytes = source_.subspan(prefix.offset, prefix.length);
    auto control_frame = Encode(control, {});
    if (!control_frame) return Fail(control_frame.error());
    auto diff_frame = Encode(diff, {}, /*diff=*/true);
    if (!diff_frame) return Fail(diff_frame.error());
    auto extra_frame = Encode(extra, prefix_bytes);
    if (!extra_frame) return Fail(extra_frame.error());
    const bool extra_uses_prefix = prefix.length != 0 && extra_frame->codec == format::kCodecZstd;
    Bytes record;
    record.push_back(format::kMethodBsdiff);
    format::PutU32(record, static_cast<std::uint32_t>(control.size()));
    format::PutU32(record, static_cast<std::uint32_t>(control_frame->bytes.size()));
    format::PutU32(record, static_cast<std::uint32_t>(diff.size()));
    format::PutU32(record, static_cast<std::uint32_t>(diff_frame->bytes.size()));
    format::PutU32(record, static_cast<std::uint32_t>(extra_frame->bytes.size()));
    format::PutU64(record, extra_uses_prefix ? prefix.offset : 0);
    format::PutU64(record, extra_uses_prefix ? prefix.length : 0);
    for (const Frame* frame : {&*control_frame, &*diff_frame, &*extra_frame}) record.push_back(frame->codec);
    for (const Frame* frame : {&*control_frame, &*diff_frame, &*extra_frame}) {
      record.insert(record.end(), frame->bytes.begin(), frame->bytes.end());
    }
    return record;
  }
  // The smaller of zstd (with `prefix`) and bzip2; nothing for an empty stream. On a
  // difference stream zstd runs at a cheap level: bzip2 beats even zstd -19 there (by 7 % on
  // esbuild), and zstd's optimal parser would spend 90 % of the creation time finding out.
  Result<Frame> Encode(const Bytes& raw, ByteView prefix, bool diff = false) {
    Frame frame;
    if (raw.empty()) return frame;
    auto zstd = diff ? fast_compressor_.Compress(raw, prefix) : compressor_.Compress(raw, prefix);
    if (!zstd) return Fail(zstd.error());
    auto bzip2 = Bzip2Compress(raw);
    if (!bzip2) return Fail(bzip2.error());
    if (bzip2->size() < zstd->size()) {
      frame.codec = format::kCodecBzip2;
      frame.bytes = std::move(*bzip2);
    } else {
      frame.bytes = std::move(*zstd);
    }
    return frame;
  }

  // The block's part of the ops as a control stream (start position, then triples of diff
  // length, extra length, seek), the bytewise differences, and the literal bytes.
  void SplitStreams(std::uint64_t start, std::uint64_t end, std::size_t first, std::size_t stop,
                    Bytes& control, Bytes& diff, Bytes& extra) const {
    struct Triple {
      std::uint64_t diff = 0;
      std::uint64_t extra = 0;
      std::int64_t seek = 0;
    };
    std::vector<Triple> triples;
    std::uint64_t start_pos = 0;
    std::uint64_t pos = 0;
    for (std::size_t i = first; i < stop; ++i) {
      const MatchOp& op = ops_[i];
      std::uint64_t from = std::max(op.target_pos, start);
      std::uint64_t to = std::min(op.target_pos + op.length, end);
      if (from >= to) continue;
      std::uint64_t len = to - from;
      if (op.kind == MatchOp::kExtra) {
        extra.insert(extra.end(), target_.begin() + static_cast<std::ptrdiff_t>(from),
                     target_.begin() + static_cast<std::ptrdiff_t>(to));
        if (triples.empty() || triples.back().seek != 0) triples.push_back({});
        triples.back().extra += len;
        continue;
      }
      std::uint64_t source_pos = op.source_pos + (from - op.target_pos);
      for (std::uint64_t k = 0; k < len; ++k) {
        diff.push_back(static_cast<std::uint8_t>(target_[from + k] - source_[source_pos + k]));
      }
      if (triples.empty()) {
        start_pos = source_pos;
      } else {
        triples.back().seek += static_cast<std::int64_t>(source_pos - pos);
      }
      triples.push_back({len, 0, 0});
      pos = source_pos + len;
    }
    format::PutVarint(control, start_pos);
    for (const Triple& t : triples) {
      format::PutVarint(control, t.diff);
      format::PutVarint(control, t.extra);
      format::PutVarint(control, format::ZigZag(t.seek));
    }
  }

  ByteView source_;
  ByteView target_;
  const std::vector<MatchOp>& ops_;
  const CreateOptions& options_;
  FrameCompressor compressor_;
  FrameCompressor fast_compressor_;
};

}  // namespace

std::size_t HeaderBytes() { return format::kHeaderSize; }

Status CreatePatch(ByteView source, ByteView target, io::Writer& out, const CreateOptions& options) {
  if (options.block_size == 0 || options.block_size > format::kMaxBlockSize) {
    return Fail(Errc::kInvalidArgument, "delta: block size must be 1 byte to 16 MiB");
  }
  auto ops = FindMatches(source, target);
  if (!ops) return Fail(ops.error());

  Bytes header(format::kMagic, format::kMagic + sizeof format::kMagic);
  header.push_back(format::kVersion);
  header.insert(header.end(), 3, 0);
  format::PutU32(header, options.block_size);
  format::PutU64(header, source.size());
  Bytes source_digest = crypto::Sha256(source);
  header.insert(header.end(), source_digest.begin(), source_digest.end());
  format::PutU64(header, target.size());
  Bytes target_digest = crypto::Sha256(target);
  header.insert(header.end(), target_digest.begin(), target_digest.end());
  if (auto written = out.Write(header); !written) return written;

  BlockEncoder encoder(source, target, *ops, options);
  std::size_t first = 0;
  Bytes block;
  for (std::uint64_t start = 0; start < target.size(); start += options.block_size) {
    std::uint64_t end = std::min<std::uint64_t>(start + options.block_size, target.size());
    block.clear();
    if (auto encoded = encoder.Encode(start, end, first, block); !encoded) return encoded;
    if (auto written = out.Write(block); !written) return written;
  }
  return Ok();
}

}  // namespace aloft::core::delta
