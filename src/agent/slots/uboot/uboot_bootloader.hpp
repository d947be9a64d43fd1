#pragma once

// U-Boot's environment through libubootenv (the library behind fw_printenv/fw_setenv), with
// the A/B logic of EnvBootloader on top. fw_env.config says where the environment lives: an
// MTD/eMMC offset on a device, or a plain file ("/path/uboot.env 0x0 0x4000"), with an
// optional redundant copy, which libubootenv then updates alternately (power-safe).

#include <filesystem>
#include <memory>

#include "agent/slots/bootloader.hpp"
#include "agent/slots/env_bootloader.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::slots::uboot {

struct UbootOptions {
  std::filesystem::path config = "/etc/fw_env.config";
  EnvScheme scheme;
  // Which slot runs; unset: the kernel command line's "aloft.slot=<slot value>".
  BootedSlotProbe booted;
};

// The environment described by a fw_env.config file. Each call opens, reads (and for Store,
// writes) the environment afresh: no state is cached between calls. An environment whose CRC
// does not check out is kCorrupt (U-Boot itself would boot its built-in default environment;
// the agent must not guess what that holds). libubootenv's negative errno results become kIo.
class UbootEnv final : public BootEnv {
 public:
  explicit UbootEnv(std::filesystem::path config) : config_(std::move(config)) {}
  Result<EnvVars> Load() override;
  Status Store(const EnvVars& changes) override;

 private:
  std::filesystem::path config_;
};

Result<std::unique_ptr<Bootloader>> CreateUbootBootloader(UbootOptions options);

// Writes a fresh environment holding exactly `vars`, whatever the medium held (also one with a
// bad CRC, or all zeroes). For provisioning and tests; the device (or file) must exist.
Status InitializeUbootEnv(const std::filesystem::path& config, const EnvVars& vars);

}  // namespace aloft::agent::slots::uboot
