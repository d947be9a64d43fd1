#pragma once

// The A/B slot model: two copies of the root file system, one running ("booted"), the other
// free to be overwritten by an update. Everything that writes a slot takes the booted slot's
// id as well, and refuses to touch it: that invariant is what keeps a device bootable.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::agent::slots {

enum class SlotId : std::uint8_t { kA, kB };

// The other slot of the pair: Other(kA) == kB.
constexpr SlotId Other(SlotId id) noexcept { return id == SlotId::kA ? SlotId::kB : SlotId::kA; }

// "a" / "b", as written in logs and state files.
std::string_view SlotIdName(SlotId id) noexcept;
// Inverse of SlotIdName; anything else is kInvalidArgument.
Result<SlotId> ParseSlotId(std::string_view name);

enum class SlotKind : std::uint8_t {
  kBlockDevice,  // a partition (/dev/mmcblk0p2): never truncated, size fixed by the device
  kFile,         // a regular file (tests, demos, loop-mounted images): created if missing
};

struct Slot {
  SlotId id = SlotId::kA;
  SlotKind kind = SlotKind::kBlockDevice;
  std::filesystem::path device;
};

// The device's two slots, indexed by id.
struct SlotPair {
  Slot a;
  Slot b;
  const Slot& Get(SlotId id) const noexcept { return id == SlotId::kA ? a : b; }
};

}  // namespace aloft::agent::slots
