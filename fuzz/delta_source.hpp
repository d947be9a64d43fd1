#pragma once

// The source image the delta target applies patches to, shared with the seed generator so that
// seeded patches name it as their base: 4 KiB with both repetition and noise, the same on
// every run.

#include <cstddef>
#include <cstdint>

#include "core/base/bytes.hpp"

namespace aloft::fuzz {

inline const Bytes& DeltaSource() {
  static const Bytes kSource = [] {
    Bytes b(4096);
    std::uint32_t x = 0x12345678;
    for (std::size_t i = 0; i < b.size(); ++i) {
      x = x * 1664525u + 1013904223u;
      b[i] =
          i % 512 < 256 ? static_cast<std::uint8_t>(i % 251) : static_cast<std::uint8_t>(x >> 24);
    }
    return b;
  }();
  return kSource;
}

}  // namespace aloft::fuzz
