#pragma once

// What the agent needs from an A/B bootloader, and nothing more. Every backend (U-Boot, GRUB,
// the simulated one) implements the same boot-counting contract, the one U-Boot's bootcount
// feature defines:
//
//   PrepareTrialBoot(B)   next boot tries B; each boot of B on trial consumes one attempt
//   reboot ...            B boots; if B never gets to MarkGood() (it hangs, the watchdog
//                         resets, the agent crashes), the bootloader counts the boots and,
//                         once more than boot_limit have been spent, boots the other slot and
//                         ends the trial by itself ("fell back")
//   MarkGood()            the running slot is committed: no trial, counter reset
//   MarkBad(B)            B is not booted next; the other slot is, and any trial ends
//
// So the agent learns the outcome of a trial after the reboot by comparing State().booted with
// the slot it prepared: the same slot and IsTrialBoot() means "decide now"; the old slot and no
// trial means "the bootloader fell back".
//
// Thread-safety: none; one agent thread owns the bootloader. Failure semantics: a failed call
// leaves the persisted boot configuration as it was, or (for environments written in place)
// as the backend's own store makes it; errors are kIo for the medium, kCorrupt for an
// environment that cannot be understood (fail-stop: never guess which slot boots).

#include <cstdint>

#include "agent/slots/slot.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::slots {

struct BootState {
  SlotId booted = SlotId::kA;   // the slot running now
  SlotId primary = SlotId::kA;  // the slot the bootloader boots next
  bool trial = false;           // primary is on probation (U-Boot's upgrade_available)
  int boot_count = 0;           // boots of primary spent in this trial
  int boot_limit = 0;           // boots allowed before the bootloader falls back

  // This boot is a trial of the running slot: the agent must MarkGood() or MarkBad().
  bool IsTrialBoot() const noexcept { return trial && booted == primary; }
  // A trial of the other slot is prepared and waits for a reboot.
  bool TrialPending() const noexcept { return trial && booted != primary; }

  friend bool operator==(const BootState&, const BootState&) = default;
};

class Bootloader {
 public:
  virtual ~Bootloader() = default;

  // Reads the current configuration. kCorrupt when the environment holds values the backend
  // cannot map onto slots (an unknown slot value, a non-numeric counter).
  virtual Result<BootState> State() = 0;

  // Next boot tries `target` with the counter at zero, falling back to the other slot once
  // more than boot_limit boots were spent. `target` must not be the booted slot
  // (kInvalidArgument). Call only after `target` holds a verified image.
  virtual Status PrepareTrialBoot(SlotId target) = 0;

  // Commits the running slot: primary = booted, trial off, counter reset. Idempotent, and
  // writes nothing when the state is already committed (no needless flash wear).
  virtual Status MarkGood() = 0;

  // `slot` is not booted next: primary = the other slot, trial off, counter reset. Used for a
  // rollback after a failed trial, and before overwriting a slot the bootloader points at.
  // Idempotent.
  virtual Status MarkBad(SlotId slot) = 0;
};

}  // namespace aloft::agent::slots
