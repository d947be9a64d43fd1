#include "core/delta/branch_filter.hpp"

#include <gtest/gtest.h>
#include <lzma.h>

#include <fstream>
#include <iterator>
#include <random>

namespace aloft::core::delta {
namespace {

// liblzma's own filter output for `data`: encoded through [filter, LZMA2], then decoded
// through [LZMA2] alone, which undoes the compression but not the conversion.
Bytes Liblzma(lzma_vli filter, ByteView data, std::uint32_t start_offset) {
  lzma_options_bcj bcj{};
  bcj.start_offset = start_offset;
  lzma_options_lzma lzma{};
  lzma_lzma_preset(&lzma, 0);
  lzma_filter encode_chain[] = {{filter, &bcj}, {LZMA_FILTER_LZMA2, &lzma}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_filter decode_chain[] = {{LZMA_FILTER_LZMA2, &lzma}, {LZMA_VLI_UNKNOWN, nullptr}};
  Bytes packed(lzma_stream_buffer_bound(data.size()));
  std::size_t packed_size = 0;
  EXPECT_EQ(lzma_raw_buffer_encode(encode_chain, nullptr, data.data(), data.size(), packed.data(),
                                   &packed_size, packed.size()),
            LZMA_OK);
  Bytes out(data.size());
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  EXPECT_EQ(lzma_raw_buffer_decode(decode_chain, nullptr, packed.data(), &in_pos, packed_size, out.data(),
                                   &out_pos, out.size()),
            LZMA_OK);
  EXPECT_EQ(out_pos, data.size());
  return out;
}

// Bytes where the filter has work to do: E8/E9 opcodes followed by displacements with 0x00 or
// 0xFF high bytes, some of them overlapping (an opcode inside a displacement), and noise.
Bytes BranchHeavy(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out;
  while (out.size() < n) {
    switch (rng() % 4) {
      case 0:
        out.push_back(static_cast<std::uint8_t>(0xE8 + rng() % 2));
        for (int k = 0; k < 3; ++k) out.push_back(static_cast<std::uint8_t>(rng() % 3 == 0 ? 0xE8 : rng()));
        out.push_back(rng() % 2 == 0 ? 0x00 : 0xFF);
        break;
      case 1:
        out.push_back(0xE8);
        break;
      default:
        out.push_back(static_cast<std::uint8_t>(rng()));
    }
  }
  out.resize(n);
  return out;
}

// ARM64 words: BL with any offset, ADRP within and beyond the converted range, and noise.
Bytes Arm64Heavy(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (std::size_t i = 0; i + 4 <= n; i += 4) {
    std::uint32_t word = static_cast<std::uint32_t>(rng());
    switch (rng() % 3) {
      case 0:
        word = 0x94000000u | (word & 0x03FFFFFFu);  // BL
        break;
      case 1:
        word = (word & 0x6FFFFFFFu) | 0x90000000u;  // ADRP
        break;
      default:
        break;
    }
    for (int k = 0; k < 4; ++k) out[i + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(word >> (8 * k));
  }
  for (std::size_t i = n / 4 * 4; i < n; ++i) out[i] = static_cast<std::uint8_t>(rng());
  return out;
}

void ExpectSameAsLiblzma(const Bytes& data, std::uint32_t start_offset,
                         BranchFilter filter = BranchFilter::kX86) {
  Bytes ours = data;
  if (filter == BranchFilter::kX86) {
    EncodeX86Branches(ours, start_offset);
  } else {
    EncodeArm64Branches(ours, start_offset);
  }
  const Bytes theirs =
      Liblzma(filter == BranchFilter::kX86 ? LZMA_FILTER_X86 : LZMA_FILTER_ARM64, data, start_offset);
  ASSERT_EQ(ours.size(), theirs.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) differing += ours[i] != theirs[i];
  EXPECT_EQ(differing, 0u) << "start offset " << start_offset;
}

TEST(BranchFilter, ConvertsExactlyAsLiblzmaDoes) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    const Bytes data = BranchHeavy(200'000 + seed, seed);
    ExpectSameAsLiblzma(data, 0);
    ExpectSameAsLiblzma(data, 16u << 20);     // a later block of the target
    ExpectSameAsLiblzma(data, 0xFFFFFFF0u);   // positions that wrap
    Bytes converted = data;
    EncodeX86Branches(converted);
    EXPECT_NE(converted, data) << "the sample must contain branches the filter converts";
  }
  // Short inputs, and this test's own executable (real machine code on x86 hosts).
  for (std::size_t n : {std::size_t{1}, std::size_t{4}, std::size_t{5}, std::size_t{6}, std::size_t{9}}) {
    ExpectSameAsLiblzma(BranchHeavy(n, 9), 0);
  }
  Bytes empty;
  EncodeX86Branches(empty);
  EXPECT_TRUE(empty.empty());
  std::ifstream self("/proc/self/exe", std::ios::binary);
  const Bytes exe((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(exe.empty());
  ExpectSameAsLiblzma(Bytes(exe.begin(), exe.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(exe.size(), 4u << 20))), 0);
}

TEST(BranchFilter, Arm64ConvertsExactlyAsLiblzmaDoes) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    const Bytes data = Arm64Heavy(200'000 + seed, seed);  // and a partial last word
    ExpectSameAsLiblzma(data, 0, BranchFilter::kArm64);
    ExpectSameAsLiblzma(data, 16u << 20, BranchFilter::kArm64);
    ExpectSameAsLiblzma(data, 0xFFFFF000u, BranchFilter::kArm64);
    Bytes converted = data;
    EncodeArm64Branches(converted);
    EXPECT_NE(converted, data);
  }
  for (std::size_t n : {std::size_t{1}, std::size_t{4}, std::size_t{7}}) {
    ExpectSameAsLiblzma(Arm64Heavy(n, 9), 0, BranchFilter::kArm64);
  }
}

TEST(BranchFilter, ChosenFromTheElfHeader) {
  Bytes elf(64, 0);
  const std::uint8_t ident[] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  std::copy(std::begin(ident), std::end(ident), elf.begin());
  elf[18] = 62;  // EM_X86_64
  EXPECT_EQ(BranchFilterFor(elf), BranchFilter::kX86);
  elf[18] = 3;  // EM_386
  EXPECT_EQ(BranchFilterFor(elf), BranchFilter::kX86);
  elf[18] = 183;  // EM_AARCH64
  EXPECT_EQ(BranchFilterFor(elf), BranchFilter::kArm64);
  elf[18] = 243;  // EM_RISCV: no filter for it
  EXPECT_EQ(BranchFilterFor(elf), BranchFilter::kNone);
  elf[18] = 62;
  elf[5] = 2;  // big-endian
  EXPECT_EQ(BranchFilterFor(elf), BranchFilter::kNone);
  elf[5] = 1;
  elf[1] = 'X';
  EXPECT_EQ(BranchFilterFor(elf), BranchFilter::kNone);
  EXPECT_EQ(BranchFilterFor(ByteView(elf).first(19)), BranchFilter::kNone);
  EXPECT_EQ(BranchFilterFor({}), BranchFilter::kNone);

  const Bytes data = BranchHeavy(1000, 5);
  EXPECT_EQ(FilteredCopy(data, BranchFilter::kNone), data);
  Bytes converted = data;
  EncodeX86Branches(converted);
  EXPECT_EQ(FilteredCopy(data, BranchFilter::kX86), converted);
  converted = data;
  EncodeArm64Branches(converted);
  EXPECT_EQ(FilteredCopy(data, BranchFilter::kArm64), converted);
}

}  // namespace
}  // namespace aloft::core::delta
