// Patch creation: matching over the whole images, then each target block encoded the bsdiff
// way, or, for sources small enough to index whole, also as one stream over the whole source
// (LZMA2 up to format::kLzmaSourceLimit, through a branch filter for x86 and ARM64
// executables, a zstd frame beyond), and the smaller one kept; or, when a sample of the
// matching says the images differ too much for bsdiff's way, only the latter (docs/delta.md
// explains why).

#include <algorithm>
#include <optional>

#include "core/crypto/hash.hpp"
#include "core/delta/branch_filter.hpp"
#include "core/delta/format.hpp"
#include "core/delta/literal_stream.hpp"
#include "core/delta/lzma_source.hpp"
#include "core/delta/matcher.hpp"
#include "core/delta/patch.hpp"
#include "core/delta/zstd_frames.hpp"

namespace aloft::core::delta {
namespace {

// A block whose bsdiff encoding is within this percentage of its size is not tried as a zstd
// frame over the source (see Encode).
constexpr std::uint64_t kTryZstdPercent = 6;
// Fewer literal bytes than this are counted at their raw size in that comparison: starting an
// LZMA encoder costs more than estimating them could change.
constexpr std::size_t kProbeLiteralBytes = 64u << 10;
// A stream whose zstd frame is below this share of its raw size (in 1/1000) is nearly all
// zeros (an unchanged stretch of an image): bzip2 could shave a few bytes off the frame at
// five to ten times its cost, so it is not tried.
constexpr std::uint64_t kBzip2WorthPermille = 2;
// zstd levels for difference streams: a quick look first; the better level only when zstd
// rather than bzip2 will keep the stream (it wins on mostly-zero streams, where it is cheap).
constexpr int kDiffProbeLevel = 3;
constexpr int kDiffLevel = 9;
// The sample that decides whether a full scan is worth making (CreatePatch): targets from 4 MiB
// on, 8 windows of 32 KiB (a sixteenth of the target or less; on a large jump the scan costs
// ~0.15 s per MiB). On esbuild the scan leaves 0.3 % of a patch release as literals and 31 to
// 35 % of a large jump (x86-64 and arm64 alike); bsdiff's way wins the first and loses the
// second by a quarter or more. From a tenth on, only the whole-source stream is made; below,
// both, and the smaller one is kept.
constexpr std::size_t kSampledTargetBytes = 4u << 20;
constexpr std::size_t kSampleWindows = 8;
constexpr std::size_t kSampleWindowBytes = 32u << 10;
constexpr std::uint32_t kWholeSourceLiteralPermille = 100;

// Whether blocks may be written as one stream over the whole source (way 2 below).
bool WholeSourceFrames(ByteView source, const CreateOptions& options) {
  return source.size() <= options.prefix_window;
}
bool LzmaOverSource(ByteView source, const CreateOptions& options) {
  return source.size() <= std::min(options.lzma_source_limit, format::kLzmaSourceLimit);
}

class BlockEncoder {
 public:
  // `whole_source_only`: every block is written as one stream over the whole source, without
  // `ops` (then empty).
  BlockEncoder(ByteView source, ByteView target, const std::vector<MatchOp>& ops,
               const CreateOptions& options, bool whole_source_only)
      : source_(source),
        target_(target),
        ops_(ops),
        whole_source_frames_(WholeSourceFrames(source, options)),
        lzma_over_source_(LzmaOverSource(source, options)),
        whole_source_only_(whole_source_only),
        filter_(lzma_over_source_ && options.branch_filters ? BranchFilterFor(target) : BranchFilter::kNone),
        compressor_(options.level),
        diff_probe_compressor_(std::min(options.level, kDiffProbeLevel)),
        diff_compressor_(std::min(options.level, kDiffLevel)),
        literals_(/*fast=*/false, target.size()) {}

  // Appends block [start, end)'s record and payload to `out`. `first` is the first op that
  // reaches into the block; it is advanced past the ops that end inside it.
  Status Encode(std::uint64_t start, std::uint64_t end, std::size_t& first, Bytes& out) {
    if (whole_source_only_) {
      auto record = WholeSourceRecord(start, end);
      if (!record) return Fail(record.error());
      out.insert(out.end(), record->begin(), record->end());
      return Ok();
    }
    std::size_t stop = first;
    while (stop < ops_.size() && ops_[stop].target_pos < end) ++stop;
    Bytes control;
    Bytes diff;
    Bytes extra;
    SplitStreams(start, end, first, stop, control, diff, extra);
    if (first < stop && ops_[stop - 1].target_pos + ops_[stop - 1].length <= end) first = stop;
    else first = stop == 0 ? 0 : stop - 1;
    const std::uint64_t span = end - start;

    // Way 1: bsdiff's control and difference streams, each with the smaller of two codecs;
    // the literal bytes go to the patch's literal stream.
    std::optional<Frame> control_frame;
    std::optional<Frame> diff_frame;
    if (control.size() <= format::kMaxControlBytes) {
      auto c = Encode(control, compressor_, nullptr);
      if (!c) return Fail(c.error());
      auto d = Encode(diff, diff_probe_compressor_, &diff_compressor_);
      if (!d) return Fail(d.error());
      control_frame = std::move(*c);
      diff_frame = std::move(*d);
    }

    // Way 2: the block as one stream over the whole source (zstd's patch-from, per block),
    // for sources small enough that indexing them per block is affordable: LZMA2 with the
    // source as its dictionary up to kLzmaSourceLimit (smaller than zstd -19 and a third of
    // its CPU, but its decoder holds the source; machine code through a branch filter first),
    // a zstd frame beyond. Only tried when bsdiff left more than kTryZstdPercent of the block:
    // below that bsdiff wins (measured on esbuild patch releases). The literals are then
    // estimated on their own, by a fast LZMA preset: an upper bound of their chunk in the
    // stream (which also gains from history) at a tenth of the cost.
    if (whole_source_frames_) {
      std::uint64_t bsdiff_size = 0;
      if (control_frame) {
        bsdiff_size = format::kBsdiffHeadSize + control_frame->bytes.size() + diff_frame->bytes.size() + extra.size();
      }
      if (control_frame && bsdiff_size * 100 > span * kTryZstdPercent && extra.size() >= kProbeLiteralBytes) {
        LiteralEncoder probe(/*fast=*/true, extra.size());
        auto alone = probe.Append(extra);
        if (!alone) return Fail(alone.error());
        bsdiff_size = bsdiff_size - extra.size() + alone->size();
      }
      if (!control_frame || bsdiff_size * 100 > span * kTryZstdPercent) {
        auto record = WholeSourceRecord(start, end);
        if (!record) return Fail(record.error());
        if (!control_frame || record->size() < bsdiff_size) {
          out.insert(out.end(), record->begin(), record->end());
          return Ok();
        }
      }
    } else if (!control_frame) {
      // Pathological controls in a big image: the block as a frame over nothing but itself.
      auto frame = compressor_.Compress(target_.subspan(start, span), {});
      if (!frame) return Fail(frame.error());
      out.push_back(format::kMethodZstdPrefix);
      format::PutU64(out, 0);
      format::PutU64(out, 0);
      format::PutU32(out, static_cast<std::uint32_t>(frame->size()));
      out.insert(out.end(), frame->begin(), frame->end());
      return Ok();
    }

    auto chunk = literals_.Append(extra);
    if (!chunk) return Fail(chunk.error());
    out.push_back(format::kMethodBsdiff);
    format::PutU32(out, static_cast<std::uint32_t>(control.size()));
    format::PutU32(out, static_cast<std::uint32_t>(control_frame->bytes.size()));
    format::PutU32(out, static_cast<std::uint32_t>(diff.size()));
    format::PutU32(out, static_cast<std::uint32_t>(diff_frame->bytes.size()));
    format::PutU32(out, static_cast<std::uint32_t>(chunk->size()));
    out.push_back(control_frame->codec);
    out.push_back(diff_frame->codec);
    out.insert(out.end(), control_frame->bytes.begin(), control_frame->bytes.end());
    out.insert(out.end(), diff_frame->bytes.begin(), diff_frame->bytes.end());
    out.insert(out.end(), chunk->begin(), chunk->end());
    return Ok();
  }

 private:
  // Block [start, end) as one stream over the whole source, record head included: LZMA2 for
  // sources up to the LZMA limit (through a branch filter when the new image is x86 or ARM64
  // code), a zstd frame beyond.
  Result<Bytes> WholeSourceRecord(std::uint64_t start, std::uint64_t end) {
    const ByteView block = target_.subspan(start, end - start);
    Bytes record;
    Result<Bytes> frame = Bytes{};
    if (!lzma_over_source_) {
      frame = compressor_.Compress(block, source_);
      record.push_back(format::kMethodZstdPrefix);
      format::PutU64(record, 0);
      format::PutU64(record, source_.size());
    } else if (filter_ == BranchFilter::kNone) {
      frame = LzmaSourceCompress(block, source_);
      record.push_back(format::kMethodLzmaSource);
    } else {
      if (filtered_source_.size() != source_.size()) filtered_source_ = FilteredCopy(source_, filter_);
      frame = LzmaSourceCompress(block, filtered_source_, filter_, start);
      record.push_back(format::kMethodLzmaSourceFiltered);
      record.push_back(static_cast<std::uint8_t>(filter_));
    }
    if (!frame) return Fail(frame.error());
    format::PutU32(record, static_cast<std::uint32_t>(frame->size()));
    record.insert(record.end(), frame->begin(), frame->end());
    return record;
  }

  struct Frame {
    std::uint8_t codec = format::kCodecZstd;
    Bytes bytes;
  };

  // The smaller of zstd (with `compressor`) and bzip2; nothing for an empty stream. When
  // `better` is given, `compressor` is only a probe and zstd's frame, if kept, is redone with
  // `better`. Difference streams work this way: bzip2 beats even zstd -19 on them unless they
  // are nearly all zeros (by 7 % on esbuild, in a tenth of the time), so zstd's effort is only
  // spent where it will be kept.
  Result<Frame> Encode(const Bytes& raw, FrameCompressor& compressor, FrameCompressor* better) {
    Frame frame;
    if (raw.empty()) return frame;
    auto zstd = compressor.Compress(raw, {});
    if (!zstd) return Fail(zstd.error());
    if (zstd->size() * 1000 >= raw.size() * kBzip2WorthPermille) {
      auto bzip2 = Bzip2Compress(raw);
      if (!bzip2) return Fail(bzip2.error());
      // The better zstd level gains up to ~15 % over the probe: only worth running when
      // bzip2 does not already beat the probe by more than that.
      if (better != nullptr && bzip2->size() * 100 >= zstd->size() * 80) {
        zstd = better->Compress(raw, {});
        if (!zstd) return Fail(zstd.error());
        better = nullptr;
      }
      if (bzip2->size() < zstd->size()) {
        frame.codec = format::kCodecBzip2;
        frame.bytes = std::move(*bzip2);
        return frame;
      }
    }
    if (better != nullptr) {
      zstd = better->Compress(raw, {});
      if (!zstd) return Fail(zstd.error());
    }
    frame.bytes = std::move(*zstd);
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
      const std::size_t at = diff.size();
      diff.resize(at + len);
      for (std::uint64_t k = 0; k < len; ++k) {
        diff[at + k] = static_cast<std::uint8_t>(target_[from + k] - source_[source_pos + k]);
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
  const bool whole_source_frames_;
  const bool lzma_over_source_;  // way 2 as an LZMA2 stream, not a zstd frame
  const bool whole_source_only_;
  const BranchFilter filter_;     // for way 2's LZMA2 stream
  Bytes filtered_source_;         // the source through filter_, made at first use
  FrameCompressor compressor_;
  FrameCompressor diff_probe_compressor_;
  FrameCompressor diff_compressor_;
  LiteralEncoder literals_;
};

}  // namespace

std::size_t HeaderBytes() { return format::kHeaderSize; }

Status CreatePatch(ByteView source, ByteView target, io::Writer& out, const CreateOptions& options) {
  if (options.block_size == 0 || options.block_size > format::kMaxBlockSize) {
    return Fail(Errc::kInvalidArgument, "delta: block size must be 1 byte to 16 MiB");
  }
  const auto cancelled = [&options] {
    return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
  };
  auto finder = MatchFinder::Build(source, options.match_index);
  if (!finder) return Fail(finder.error());
  // A large jump between two small images: when a sample says bsdiff's scan would leave much
  // of the target as literals, the whole-source stream wins (docs/delta.md), and the full
  // scan (half a bsdiff's worth of budget on such a pair) is not made at all.
  const bool whole_source_only =
      WholeSourceFrames(source, options) && LzmaOverSource(source, options) &&
      target.size() >= kSampledTargetBytes &&
      finder->LiteralPermille(target, kSampleWindows, kSampleWindowBytes) >= kWholeSourceLiteralPermille;
  std::vector<MatchOp> ops;
  if (!whole_source_only) ops = finder->Find(target);
  if (cancelled()) return Fail(Errc::kCancelled, "delta: creation cancelled");

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

  BlockEncoder encoder(source, target, ops, options, whole_source_only);
  std::size_t first = 0;
  Bytes block;
  for (std::uint64_t start = 0; start < target.size(); start += options.block_size) {
    if (cancelled()) return Fail(Errc::kCancelled, "delta: creation cancelled");
    std::uint64_t end = std::min<std::uint64_t>(start + options.block_size, target.size());
    block.clear();
    if (auto encoded = encoder.Encode(start, end, first, block); !encoded) return encoded;
    if (auto written = out.Write(block); !written) return written;
  }
  return Ok();
}

}  // namespace aloft::core::delta
