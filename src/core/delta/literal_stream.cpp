#include "core/delta/literal_stream.hpp"

#include <lzma.h>

#include <algorithm>
#include <bit>
#include <string>

#include "core/delta/format.hpp"

namespace aloft::core::delta {
namespace {

// xz's default preset: -9 and "extreme" were measured no smaller on image literals and slower.
constexpr std::uint32_t kPreset = 6;
constexpr std::uint32_t kFastPreset = 1;

// The filter chain both sides use. Only the dictionary size matters to the decoder (LZMA2
// carries lc/lp/pb in its chunks). No BCJ x86 filter: liblzma refuses LZMA_SYNC_FLUSH with it.
struct Filters {
  lzma_options_lzma lzma{};
  lzma_filter chain[2];
  explicit Filters(std::uint32_t preset = kPreset, std::uint32_t dict_size = format::kLiteralDictBytes) {
    lzma_lzma_preset(&lzma, preset);
    lzma.dict_size = dict_size;
    chain[0] = {LZMA_FILTER_LZMA2, &lzma};
    chain[1] = {LZMA_VLI_UNKNOWN, nullptr};
  }
};

}  // namespace

struct LiteralEncoder::State {
  lzma_stream stream = LZMA_STREAM_INIT;
  std::uint32_t preset = kPreset;
  std::uint32_t dict_size = format::kLiteralDictBytes;
  bool started = false;
  bool failed = false;
  ~State() { lzma_end(&stream); }
};

LiteralEncoder::LiteralEncoder(bool fast, std::size_t total_bytes) : state_(std::make_unique<State>()) {
  state_->preset = fast ? kFastPreset : kPreset;
  // A dictionary larger than everything the stream will hold gains nothing; any size up to
  // the format's decodes with the format's.
  if (total_bytes != 0 && total_bytes < format::kLiteralDictBytes) {
    state_->dict_size = std::max<std::uint32_t>(LZMA_DICT_SIZE_MIN, std::bit_ceil(static_cast<std::uint32_t>(total_bytes)));
  }
}
LiteralEncoder::~LiteralEncoder() = default;

Result<Bytes> LiteralEncoder::Append(ByteView raw) {
  State& s = *state_;
  if (raw.empty()) return Bytes{};
  if (s.failed) return Fail(Errc::kInternal, "lzma: the literal stream failed earlier");
  if (!s.started) {
    Filters filters(s.preset, s.dict_size);
    if (lzma_raw_encoder(&s.stream, filters.chain) != LZMA_OK) {
      s.failed = true;
      return Fail(Errc::kInternal, "lzma: cannot start the literal stream (out of memory?)");
    }
    s.started = true;
  }
  Bytes out(LiteralChunkBound(raw.size()));
  s.stream.next_in = raw.data();
  s.stream.avail_in = raw.size();
  s.stream.next_out = out.data();
  s.stream.avail_out = out.size();
  // LZMA_SYNC_FLUSH: everything appended so far becomes decodable from the chunks so far.
  lzma_ret rc = LZMA_OK;
  while (rc == LZMA_OK) rc = lzma_code(&s.stream, LZMA_SYNC_FLUSH);
  if (rc != LZMA_STREAM_END || s.stream.avail_in != 0) {
    s.failed = true;
    return Fail(Errc::kInternal, "lzma: compressing literals failed (" + std::to_string(rc) + ")");
  }
  out.resize(out.size() - s.stream.avail_out);
  return out;
}

struct LiteralDecoder::State {
  lzma_stream stream = LZMA_STREAM_INIT;
  bool started = false;
  bool failed = false;
  ~State() { lzma_end(&stream); }
};

LiteralDecoder::LiteralDecoder() : state_(std::make_unique<State>()) {}
LiteralDecoder::~LiteralDecoder() = default;

Status LiteralDecoder::Decode(ByteView chunk, std::span<std::uint8_t> out) {
  State& s = *state_;
  if (s.failed) return Fail(Errc::kVerificationFailed, "corrupt patch: the literal stream failed earlier");
  if (!s.started) {
    Filters filters;
    if (lzma_raw_decoder(&s.stream, filters.chain) != LZMA_OK) {
      return Fail(Errc::kInternal, "lzma: cannot start the literal decoder (out of memory?)");
    }
    s.started = true;
  }
  s.stream.next_in = chunk.data();
  s.stream.avail_in = chunk.size();
  s.stream.next_out = out.data();
  s.stream.avail_out = out.size();
  // Until the chunk is used up, an error, or a call without progress (the output is full
  // while the chunk goes on).
  lzma_ret rc = LZMA_OK;
  for (;;) {
    const std::size_t in_before = s.stream.avail_in;
    const std::size_t out_before = s.stream.avail_out;
    rc = lzma_code(&s.stream, LZMA_RUN);
    if (rc != LZMA_OK || s.stream.avail_in == 0 ||
        (s.stream.avail_in == in_before && s.stream.avail_out == out_before)) {
      break;
    }
  }
  // The encoder never ends the stream, so an end marker is corruption too.
  if (rc != LZMA_OK || s.stream.avail_in != 0 || s.stream.avail_out != 0) {
    s.failed = true;
    return Fail(Errc::kVerificationFailed, "corrupt patch: a literal chunk does not decode to its block");
  }
  return Ok();
}

std::size_t LiteralDecoder::MemoryBound() {
  Filters filters;
  return static_cast<std::size_t>(lzma_raw_decoder_memusage(filters.chain));
}

std::size_t LiteralChunkBound(std::size_t raw_size) {
  // LZMA2 stores incompressible data in uncompressed chunks of up to 64 KiB with a 3-byte
  // head; a flush may add a few bytes more.
  return raw_size + raw_size / 16384 * 3 + 64;
}

}  // namespace aloft::core::delta
