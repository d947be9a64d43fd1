#include "agent/slots/slot.hpp"

#include <string>

namespace aloft::agent::slots {

std::string_view SlotIdName(SlotId id) noexcept { return id == SlotId::kA ? "a" : "b"; }

Result<SlotId> ParseSlotId(std::string_view name) {
  if (name == "a") return SlotId::kA;
  if (name == "b") return SlotId::kB;
  return Fail(Errc::kInvalidArgument, "unknown slot '" + std::string(name) + "' (want a or b)");
}

}  // namespace aloft::agent::slots
