#include "core/delta/branch_filter.hpp"

#include <cstring>

namespace aloft::core::delta {
namespace {

// The most significant byte of a plausible near-branch displacement: 0x00 or 0xFF (targets
// within ±16 MiB of the instruction).
bool IsNearMsb(std::uint8_t b) { return ((b + 1) & 0xFE) == 0; }

constexpr std::uint16_t kElfMachineX86 = 3;
constexpr std::uint16_t kElfMachineX86_64 = 62;
constexpr std::uint16_t kElfMachineAarch64 = 183;

std::uint32_t LoadLe32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
void StoreLe32(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}

}  // namespace

BranchFilter BranchFilterFor(ByteView image) {
  // e_ident: "\x7fELF", class, data (1 = little-endian), ...; e_machine at offset 18.
  if (image.size() < 20 || image[0] != 0x7F || image[1] != 'E' || image[2] != 'L' || image[3] != 'F' ||
      image[5] != 1) {
    return BranchFilter::kNone;
  }
  const auto machine = static_cast<std::uint16_t>(image[18] | (image[19] << 8));
  if (machine == kElfMachineX86 || machine == kElfMachineX86_64) return BranchFilter::kX86;
  if (machine == kElfMachineAarch64) return BranchFilter::kArm64;
  return BranchFilter::kNone;
}

// The state machine is xz's (src/liblzma/simple/x86.c, public domain): `prev_mask` remembers
// which of the previous bytes were E8/E9 opcodes so that a displacement that itself contains
// such bytes is converted the way the decoder will see it.
void EncodeX86Branches(std::span<std::uint8_t> data, std::uint32_t start_offset) {
  static constexpr bool kAllowedStatus[8] = {true, true, true, false, true, false, false, false};
  static constexpr std::uint32_t kBitNumber[8] = {0, 1, 2, 2, 3, 3, 3, 3};
  if (data.size() < 5) return;
  std::uint32_t prev_mask = 0;
  std::uint32_t prev_pos = start_offset - 5;  // wraps as in liblzma's unsigned arithmetic
  const std::size_t limit = data.size() - 5;
  std::size_t i = 0;
  while (i <= limit) {
    std::uint8_t b = data[i];
    if (b != 0xE8 && b != 0xE9) {
      ++i;
      continue;
    }
    const std::uint32_t here = start_offset + static_cast<std::uint32_t>(i);
    const std::uint32_t offset = here - prev_pos;
    prev_pos = here;
    if (offset > 5) {
      prev_mask = 0;
    } else {
      for (std::uint32_t k = 0; k < offset; ++k) {
        prev_mask &= 0x77;
        prev_mask <<= 1;
      }
    }
    b = data[i + 4];
    if (IsNearMsb(b) && kAllowedStatus[(prev_mask >> 1) & 0x7] && (prev_mask >> 1) < 0x10) {
      std::uint32_t src = (std::uint32_t{b} << 24) | (std::uint32_t{data[i + 3]} << 16) |
                          (std::uint32_t{data[i + 2]} << 8) | data[i + 1];
      std::uint32_t dest = 0;
      for (;;) {
        dest = src + (here + 5);
        if (prev_mask == 0) break;
        const std::uint32_t bit = kBitNumber[prev_mask >> 1];
        b = static_cast<std::uint8_t>(dest >> (24 - bit * 8));
        if (!IsNearMsb(b)) break;
        src = dest ^ ((1u << (32 - bit * 8)) - 1);
      }
      data[i + 4] = static_cast<std::uint8_t>(~(((dest >> 24) & 1) - 1));
      data[i + 3] = static_cast<std::uint8_t>(dest >> 16);
      data[i + 2] = static_cast<std::uint8_t>(dest >> 8);
      data[i + 1] = static_cast<std::uint8_t>(dest);
      i += 5;
      prev_mask = 0;
    } else {
      ++i;
      prev_mask |= 1;
      if (IsNearMsb(b)) prev_mask |= 0x10;
    }
  }
}

// xz's src/liblzma/simple/arm64.c (public domain): BL's 26-bit word offset in full (±128 MiB),
// ADRP's 21-bit page offset only within ±512 MiB, which keeps false hits in data rare.
void EncodeArm64Branches(std::span<std::uint8_t> data, std::uint32_t start_offset) {
  for (std::size_t i = 0; i + 4 <= data.size(); i += 4) {
    const std::uint32_t pc = start_offset + static_cast<std::uint32_t>(i);
    std::uint32_t instr = LoadLe32(&data[i]);
    if ((instr >> 26) == 0x25) {  // BL
      instr = 0x94000000u | ((instr + (pc >> 2)) & 0x03FFFFFFu);
      StoreLe32(&data[i], instr);
    } else if ((instr & 0x9F000000u) == 0x90000000u) {  // ADRP
      const std::uint32_t src = ((instr >> 29) & 3) | ((instr >> 3) & 0x001FFFFCu);
      if (((src + 0x00020000u) & 0x001C0000u) != 0) continue;  // beyond ±512 MiB
      const std::uint32_t dest = src + (pc >> 12);
      instr &= 0x9000001Fu;
      instr |= (dest & 3) << 29;
      instr |= (dest & 0x0003FFFCu) << 3;
      instr |= (0u - (dest & 0x00020000u)) & 0x00E00000u;
      StoreLe32(&data[i], instr);
    }
  }
}

Bytes FilteredCopy(ByteView image, BranchFilter filter) {
  Bytes copy(image.begin(), image.end());
  if (filter == BranchFilter::kX86) EncodeX86Branches(copy);
  if (filter == BranchFilter::kArm64) EncodeArm64Branches(copy);
  return copy;
}

}  // namespace aloft::core::delta
