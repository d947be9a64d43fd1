#pragma once

// The literal ("extra") bytes of all of a patch's blocks form one LZMA2 stream, cut into one
// flushed chunk per block. A block's literals can thus refer to the literals of earlier blocks:
// in a file-system image the new files of a release resemble each other (shared libraries,
// licences, man pages) more than anything in the old image, and per-block frames lost ~10 % of
// the patch to that. The decoder holds only LZMA2's dictionary (format::kLiteralDictBytes),
// whatever the image size. LZMA2 rather than zstd: on those literals (mostly x86 code) it is
// ~5 % smaller than zstd -19 with a long window, at about the same creation time.

#include <cstddef>
#include <memory>
#include <span>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::delta {

class LiteralEncoder {
 public:
  // `fast` trades ~10 % of size for ~10x speed: for estimates that are never decoded.
  // `total_bytes` (at most all the literals the stream will see; 0: unknown) shrinks the
  // dictionary, and so the encoder's memory, for small images; the decoder's is fixed.
  explicit LiteralEncoder(bool fast = false, std::size_t total_bytes = 0);
  ~LiteralEncoder();
  LiteralEncoder(const LiteralEncoder&) = delete;
  LiteralEncoder& operator=(const LiteralEncoder&) = delete;

  // Appends `raw` to the stream and returns the chunk that decodes to exactly `raw` (given
  // the chunks before it). Empty `raw` gives an empty chunk.
  Result<Bytes> Append(ByteView raw);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class LiteralDecoder {
 public:
  LiteralDecoder();
  ~LiteralDecoder();
  LiteralDecoder(const LiteralDecoder&) = delete;
  LiteralDecoder& operator=(const LiteralDecoder&) = delete;

  // Decodes the next chunk, which must produce exactly out.size() bytes and be used up by
  // them; kVerificationFailed otherwise (and for every later call).
  Status Decode(ByteView chunk, std::span<std::uint8_t> out);

  // The most heap memory a decoder holds.
  static std::size_t MemoryBound();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// An upper bound of the chunk size for `raw_size` literal bytes (for record checks).
std::size_t LiteralChunkBound(std::size_t raw_size);

}  // namespace aloft::core::delta
