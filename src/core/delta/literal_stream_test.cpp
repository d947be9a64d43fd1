#include "core/delta/literal_stream.hpp"

#include <gtest/gtest.h>

#include <random>

namespace aloft::core::delta {
namespace {

Bytes Random(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

TEST(LiteralStream, ChunksDecodeInOrderAndSeeEarlierChunks) {
  const Bytes a = Random(40'000, 1);
  Bytes text(30'000);
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<std::uint8_t>("delta "[i % 6]);
  const Bytes parts[] = {a, {}, text, a, Bytes(1, 7)};

  LiteralEncoder encoder;
  std::vector<Bytes> chunks;
  for (const Bytes& part : parts) {
    auto chunk = encoder.Append(part);
    ASSERT_TRUE(chunk) << chunk.error().ToString();
    EXPECT_EQ(chunk->empty(), part.empty());
    EXPECT_LE(chunk->size(), LiteralChunkBound(part.size()));
    chunks.push_back(std::move(*chunk));
  }
  // Random bytes cost their size the first time, almost nothing the second: the stream
  // remembers earlier chunks, which per-block frames could not.
  EXPECT_GT(chunks[0].size(), a.size() * 9 / 10);
  EXPECT_LT(chunks[3].size(), 200u);

  LiteralDecoder decoder;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (parts[i].empty()) continue;
    Bytes out(parts[i].size());
    ASSERT_TRUE(decoder.Decode(chunks[i], out)) << i;
    EXPECT_EQ(out, parts[i]) << i;
  }
  EXPECT_LE(LiteralDecoder::MemoryBound(), std::size_t{18} << 20);
}

TEST(LiteralStream, WrongSizesAndCorruptChunksAreRefused) {
  const Bytes a = Random(5000, 2);
  LiteralEncoder encoder;
  auto chunk = encoder.Append(a);
  ASSERT_TRUE(chunk);
  {
    LiteralDecoder decoder;  // a chunk that decodes to more than its block
    Bytes out(a.size() - 1);
    EXPECT_EQ(decoder.Decode(*chunk, out).error().code(), Errc::kVerificationFailed);
    Bytes all(a.size());
    EXPECT_FALSE(decoder.Decode(*chunk, all)) << "a failed stream stays failed";
  }
  {
    LiteralDecoder decoder;  // one that decodes to less
    Bytes out(a.size() + 1);
    EXPECT_EQ(decoder.Decode(*chunk, out).error().code(), Errc::kVerificationFailed);
  }
  {
    LiteralDecoder decoder;  // truncated
    Bytes out(a.size());
    EXPECT_FALSE(decoder.Decode(ByteView(*chunk).first(chunk->size() / 2), out));
  }
  for (std::size_t at = 0; at < chunk->size(); at += 97) {
    Bytes bad = *chunk;
    bad[at] ^= 0x5a;
    LiteralDecoder decoder;
    Bytes out(a.size());
    // LZMA2 has no checksum of its own: a flip may decode to other bytes of the right size
    // (the patch's SHA-256 of the target catches that); it must never crash or overrun.
    if (decoder.Decode(bad, out)) {
      EXPECT_EQ(out.size(), a.size());
    }
  }
}

}  // namespace
}  // namespace aloft::core::delta
