#pragma once

// GRUB's environment block (grubenv, a 1 KiB file GRUB's load_env/save_env read and write)
// through Debian's grub-editenv, with the A/B logic of EnvBootloader on top. The boot counting
// itself lives in grub.cfg (increment bootcount while upgrade_available=1, switch boot_part
// when it passes bootlimit); this backend only reads and sets the variables.

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "agent/slots/bootloader.hpp"
#include "agent/slots/env_bootloader.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::slots::grub {

struct GrubOptions {
  std::filesystem::path env_file = "/boot/grub/grubenv";
  std::filesystem::path editenv = "/usr/bin/grub-editenv";
  std::chrono::milliseconds timeout{10'000};  // per grub-editenv run
  EnvScheme scheme;
  // Which slot runs; unset: the kernel command line's "aloft.slot=<slot value>".
  BootedSlotProbe booted;
};

// `grub-editenv FILE list` / `grub-editenv FILE set NAME=VALUE...`, one run per call, no shell.
// Errors: kNotFound when grub-editenv is missing, kTimeout when it hangs, kIo when it fails
// (its output is in the message), kInvalidArgument for names or values grubenv cannot hold.
class GrubEnv final : public BootEnv {
 public:
  explicit GrubEnv(GrubOptions options) : options_(std::move(options)) {}
  Result<EnvVars> Load() override;
  Status Store(const EnvVars& changes) override;

 private:
  GrubOptions options_;
};

Result<std::unique_ptr<Bootloader>> CreateGrubBootloader(GrubOptions options);

// Creates a blank environment block at options.env_file (replacing any) holding `vars`.
Status InitializeGrubEnv(const GrubOptions& options, const EnvVars& vars);

}  // namespace aloft::agent::slots::grub
