#include "core/delta/lzma_source.hpp"

#include <lzma.h>

#include <algorithm>
#include <string>

#include "core/delta/literal_stream.hpp"

namespace aloft::core::delta {
namespace {

// Method 3 (no filter): xz's preset 6 with a hash-chain match finder of depth 4 instead of its
// binary tree: on the large esbuild jump 2,979,376 bytes in 4.4 s, where bt4 took about three
// times as long for 7 % less (bench/delta/frontier.cpp measures both).
// Method 4 (a branch filter): the filter already makes the image 5 to 7 % smaller, so LZMA's
// fast mode (a greedy parser, 8 chain links, no nice-length cut-off) is enough to beat zstd -19
// over the source: on the x86-64 jump 3,084,775 bytes in ~2.35 s (depth 12: 3,059,008 in
// ~2.7 s), where the normal mode takes ~4.4 s for 2,825,058 (docs/delta.md, "Why this scheme").
// Only the dictionary size and lc/lp/pb reach the decoder; the search settings are the
// encoder's.
struct Filters {
  lzma_options_bcj bcj{};
  lzma_options_lzma lzma{};
  lzma_filter chain[3];
  Filters(std::uint32_t dict_size, ByteView dictionary, BranchFilter filter, std::uint64_t block_offset) {
    lzma_lzma_preset(&lzma, 6);
    lzma.dict_size = dict_size;
    lzma.mf = LZMA_MF_HC4;
    lzma.depth = 4;
    if (filter != BranchFilter::kNone) {
      lzma.mode = LZMA_MODE_FAST;
      lzma.nice_len = 273;
      lzma.depth = 8;
    }
    lzma.preset_dict = dictionary.empty() ? nullptr : dictionary.data();
    lzma.preset_dict_size = static_cast<std::uint32_t>(dictionary.size());
    std::size_t n = 0;
    if (filter != BranchFilter::kNone) {
      // Positions as in the whole target, like the dictionary's (converted from offset 0).
      bcj.start_offset = static_cast<std::uint32_t>(block_offset);
      chain[n++] = {filter == BranchFilter::kX86 ? LZMA_FILTER_X86 : LZMA_FILTER_ARM64, &bcj};
    }
    chain[n++] = {LZMA_FILTER_LZMA2, &lzma};
    chain[n] = {LZMA_VLI_UNKNOWN, nullptr};
  }
};

class Stream {
 public:
  Stream() = default;
  ~Stream() { lzma_end(&stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  lzma_stream* get() { return &stream_; }

 private:
  lzma_stream stream_ = LZMA_STREAM_INIT;
};

}  // namespace

std::uint32_t LzmaSourceDictBytes(std::uint64_t source_size, std::uint64_t span) {
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(LZMA_DICT_SIZE_MIN, source_size + span));
}

Result<Bytes> LzmaSourceCompress(ByteView block, ByteView dictionary, BranchFilter filter,
                                 std::uint64_t block_offset) {
  Filters filters(LzmaSourceDictBytes(dictionary.size(), block.size()), dictionary, filter, block_offset);
  Stream stream;
  if (lzma_raw_encoder(stream.get(), filters.chain) != LZMA_OK) {
    return Fail(Errc::kInternal, "lzma: cannot start a block over the source (out of memory?)");
  }
  Bytes out(LiteralChunkBound(block.size()));
  lzma_stream* s = stream.get();
  s->next_in = block.data();
  s->avail_in = block.size();
  s->next_out = out.data();
  s->avail_out = out.size();
  lzma_ret rc = LZMA_OK;
  while (rc == LZMA_OK) rc = lzma_code(s, LZMA_FINISH);
  if (rc != LZMA_STREAM_END || s->avail_in != 0) {
    return Fail(Errc::kInternal, "lzma: compressing a block over the source failed (" +
                                     std::to_string(rc) + ")");
  }
  out.resize(out.size() - s->avail_out);
  return out;
}

Status LzmaSourceDecompress(ByteView stream_bytes, std::span<std::uint8_t> out, ByteView dictionary,
                            BranchFilter filter, std::uint64_t block_offset) {
  Filters filters(LzmaSourceDictBytes(dictionary.size(), out.size()), dictionary, filter, block_offset);
  Stream stream;
  if (lzma_raw_decoder(stream.get(), filters.chain) != LZMA_OK) {
    return Fail(Errc::kInternal, "lzma: cannot start a block decoder (out of memory?)");
  }
  lzma_stream* s = stream.get();
  s->next_in = stream_bytes.data();
  s->avail_in = stream_bytes.size();
  s->next_out = out.data();
  s->avail_out = out.size();
  // One call with everything: it ends at the stream's end marker, an error, or a full output
  // (then the input must be used up too, with the end marker in it).
  lzma_ret rc = LZMA_OK;
  for (;;) {
    const std::size_t in_before = s->avail_in;
    const std::size_t out_before = s->avail_out;
    rc = lzma_code(s, LZMA_FINISH);
    if (rc != LZMA_OK || (s->avail_in == in_before && s->avail_out == out_before)) break;
  }
  if (rc != LZMA_STREAM_END || s->avail_in != 0 || s->avail_out != 0) {
    return Fail(Errc::kVerificationFailed, "corrupt patch: a block over the source does not decode to its size");
  }
  return Ok();
}

std::size_t LzmaSourceMemory(std::uint64_t source_size, std::uint64_t span, BranchFilter filter) {
  Filters filters(LzmaSourceDictBytes(source_size, span), {}, filter, 0);
  const auto decoder = static_cast<std::size_t>(lzma_raw_decoder_memusage(filters.chain));
  // The converted copy of the source lives until the decoder has copied it into its dictionary.
  return decoder + (filter == BranchFilter::kNone ? 0 : static_cast<std::size_t>(source_size));
}

}  // namespace aloft::core::delta
