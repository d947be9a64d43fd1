#pragma once

// A bootloader that lives in one JSON file, for tests and the demo. Its Bootloader methods are
// the shared EnvBootloader logic over a U-Boot-style environment kept in the file, and
// SimulateReboot() plays U-Boot's part on power-up (bootcount/altbootcmd), so the agent logic
// that works here works on U-Boot and GRUB unchanged.
//
// The file (written atomically, so a crash leaves the old or the new state):
//   {"booted": "a",                   the slot running since the last SimulateReboot
//    "env": {"boot_part": "a", "upgrade_available": "0", "bootcount": "0", "bootlimit": "3"},
//    "last_boot": "none" | "normal" | "trial" | "fell_back",
//    "broken": ["b"]}                 slots that hang when booted (fault injection)
//
// Every call re-reads the file, so several objects (or processes, one at a time) over the same
// path see one state. An unreadable or inconsistent file is kCorrupt.

#include <filesystem>
#include <memory>
#include <string>

#include "agent/slots/bootloader.hpp"
#include "agent/slots/env_bootloader.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::slots {

struct SimulatedOptions {
  EnvScheme scheme;                      // variable names; boot_limit is the trial limit
  SlotId initial_slot = SlotId::kA;      // booted and primary in a freshly created file
};

enum class LastBoot : std::uint8_t { kNone, kNormal, kTrial, kFellBack };
std::string_view LastBootName(LastBoot value) noexcept;

struct RebootOutcome {
  SlotId booted = SlotId::kA;  // what the bootloader started
  bool came_up = true;         // false: the slot hung (broken); reboot again, as a watchdog would
  bool fell_back = false;      // the boot limit ran out and the bootloader chose the other slot
};

class SimulatedBootloader final : public Bootloader {
 public:
  // Opens the state at `path`, creating it from `options` when the file does not exist.
  // kCorrupt when it exists but cannot be read as a state file.
  static Result<std::unique_ptr<SimulatedBootloader>> Open(const std::filesystem::path& path,
                                                           SimulatedOptions options = {});

  Result<BootState> State() override;
  Status PrepareTrialBoot(SlotId target) override;
  Status MarkGood() override;
  Status MarkBad(SlotId slot) override;

  // One power cycle, as U-Boot with CONFIG_BOOTCOUNT_ENV runs it:
  //   if upgrade_available == 1: bootcount += 1 (saved)
  //     if bootcount > bootlimit: altbootcmd: boot_part = other slot, upgrade_available = 0
  //   boot boot_part
  // A slot marked broken does not come up (came_up == false): the agent never runs, so only
  // another SimulateReboot() (the watchdog) moves things on.
  Result<RebootOutcome> SimulateReboot();

  // Fault injection: booting `slot` hangs from now on (or no longer, with false).
  Status SetBrokenForTest(SlotId slot, bool broken);
  Result<LastBoot> LastBootForTest();

 private:
  SimulatedBootloader(std::filesystem::path path, EnvScheme scheme,
                      std::unique_ptr<EnvBootloader> logic)
      : path_(std::move(path)), scheme_(std::move(scheme)), logic_(std::move(logic)) {}

  std::filesystem::path path_;
  EnvScheme scheme_;
  std::unique_ptr<EnvBootloader> logic_;
};

}  // namespace aloft::agent::slots
