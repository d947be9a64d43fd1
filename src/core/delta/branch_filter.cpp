#include "core/delta/branch_filter.hpp"

namespace aloft::core::delta {
namespace {

// The most significant byte of a plausible near-branch displacement: 0x00 or 0xFF (targets
// within ±16 MiB of the instruction).
bool IsNearMsb(std::uint8_t b) { return ((b + 1) & 0xFE) == 0; }

constexpr std::uint16_t kElfMachineX86 = 3;
constexpr std::uint16_t kElfMachineX86_64 = 62;

}  // namespace

BranchFilter BranchFilterFor(ByteView image) {
  // e_ident: "\x7fELF", class, data (1 = little-endian), ...; e_machine at offset 18.
  if (image.size() < 20 || image[0] != 0x7F || image[1] != 'E' || image[2] != 'L' || image[3] != 'F' ||
      image[5] != 1) {
    return BranchFilter::kNone;
  }
  const auto machine = static_cast<std::uint16_t>(image[18] | (image[19] << 8));
  return machine == kElfMachineX86 || machine == kElfMachineX86_64 ? BranchFilter::kX86
                                                                   : BranchFilter::kNone;
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

Bytes FilteredCopy(ByteView image, BranchFilter filter) {
  Bytes copy(image.begin(), image.end());
  if (filter == BranchFilter::kX86) EncodeX86Branches(copy);
  return copy;
}

}  // namespace aloft::core::delta
