#pragma once

// Thin RAII wrappers over libzstd for whole frames whose decompressed size is known: a block
// is at most format::kMaxBlockSize, so both sides work on complete buffers and the decoder
// never needs zstd's streaming window buffer (which would be as large as the frame's window,
// i.e. the whole referenced source range).

#include <cstddef>
#include <memory>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::delta {

class FrameCompressor {
 public:
  explicit FrameCompressor(int level);
  ~FrameCompressor();
  FrameCompressor(const FrameCompressor&) = delete;
  FrameCompressor& operator=(const FrameCompressor&) = delete;

  // One frame holding `data`, with `prefix` (may be empty) as a referenced, never copied,
  // dictionary; the window covers prefix and data so every prefix byte can be matched.
  Result<Bytes> Compress(ByteView data, ByteView prefix = {});

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class FrameDecompressor {
 public:
  FrameDecompressor();
  ~FrameDecompressor();
  FrameDecompressor(const FrameDecompressor&) = delete;
  FrameDecompressor& operator=(const FrameDecompressor&) = delete;

  // Decodes exactly one frame `frame` that must declare and produce exactly out.size() bytes.
  // kVerificationFailed for anything else.
  Status Decompress(ByteView frame, std::span<std::uint8_t> out, ByteView prefix = {});

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The largest frame a compressor may produce for `raw_size` input bytes.
std::size_t FrameBound(std::size_t raw_size);

}  // namespace aloft::core::delta

namespace aloft::core::delta {

// bzip2 of a whole buffer (level 9's output, with the smallest block that holds the input),
// and its strict inverse: exactly one stream, nothing after it, exactly out.size() bytes
// (kVerificationFailed otherwise). Decoding needs at most about 3.6 MiB.
Result<Bytes> Bzip2Compress(ByteView data);
Status Bzip2Decompress(ByteView stream, std::span<std::uint8_t> out);

}  // namespace aloft::core::delta
