#pragma once

// The A/B boot-counting logic over a bootloader's key=value environment, written once and
// shared by every backend: U-Boot (libubootenv), GRUB (grub-editenv) and the simulated
// bootloader differ only in how they read and store variables (BootEnv), so the agent sees
// the same semantics on all of them.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "agent/slots/bootloader.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::slots {

using EnvVars = std::map<std::string, std::string, std::less<>>;

// Storage of a bootloader environment. Load returns every variable; Store sets the given ones
// (others untouched) in one write of the environment, so a group of changes lands together as
// far as the medium allows.
class BootEnv {
 public:
  virtual ~BootEnv() = default;
  virtual Result<EnvVars> Load() = 0;
  virtual Status Store(const EnvVars& changes) = 0;
};

// Which variables mean what, and how slots are spelled. The defaults follow U-Boot's bootcount
// feature; Mender-style setups use {"mender_boot_part", "2", "3"}.
struct EnvScheme {
  std::string slot_var = "boot_part";
  std::string trial_var = "upgrade_available";  // "1" during a trial, "0" (or unset) otherwise
  std::string count_var = "bootcount";
  std::string limit_var = "bootlimit";
  std::string slot_a_value = "a";
  std::string slot_b_value = "b";
  // Written by PrepareTrialBoot; 0 leaves the environment's own bootlimit alone.
  int boot_limit = 3;

  const std::string& ValueOf(SlotId id) const noexcept {
    return id == SlotId::kA ? slot_a_value : slot_b_value;
  }
  // kInvalidArgument for empty or clashing names/values.
  Status Validate() const;
};

// Finds out which slot runs now (for real devices: from the kernel command line). The
// environment alone cannot say: between PrepareTrialBoot and the reboot it names the next slot.
using BootedSlotProbe = std::function<Result<SlotId>()>;

// Reads the running slot from a kernel command line such as "... aloft.slot=b ...", where the
// value is one of the scheme's slot values. kNotFound when the key is absent.
Result<SlotId> BootedSlotFromCmdline(std::string_view cmdline, std::string_view key,
                                     const EnvScheme& scheme);
// A probe that reads /proc/cmdline each time it is called.
BootedSlotProbe ProcCmdlineProbe(std::string key, EnvScheme scheme);

class EnvBootloader final : public Bootloader {
 public:
  // kInvalidArgument when the scheme does not validate.
  static Result<std::unique_ptr<EnvBootloader>> Create(std::unique_ptr<BootEnv> env,
                                                       EnvScheme scheme, BootedSlotProbe booted);

  Result<BootState> State() override;
  Status PrepareTrialBoot(SlotId target) override;
  Status MarkGood() override;
  Status MarkBad(SlotId slot) override;

 private:
  EnvBootloader(std::unique_ptr<BootEnv> env, EnvScheme scheme, BootedSlotProbe booted)
      : env_(std::move(env)), scheme_(std::move(scheme)), booted_(std::move(booted)) {}
  // Stores only the variables whose value differs from `current`; nothing when none does.
  Status StoreChanges(const EnvVars& current, const EnvVars& wanted);

  std::unique_ptr<BootEnv> env_;
  EnvScheme scheme_;
  BootedSlotProbe booted_;
};

// The state an environment describes, given the running slot (exposed for the simulated
// bootloader, which plays the bootloader's part on reboot). kCorrupt on unknown values.
Result<BootState> DecodeBootState(const EnvVars& vars, const EnvScheme& scheme, SlotId booted);

}  // namespace aloft::agent::slots
