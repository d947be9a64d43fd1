#pragma once

// The two ways the agent restarts the device (UpdateMachine's Rebooter).
//
//   CommandRebooter   runs the configured command (e.g. ["/sbin/reboot"]); the machine goes
//                     down shortly after, and the agent is stopped by the init system.
//   DeferredRebooter  only records the request. The caller ends the process with
//                     kExitRebootRequested; for the simulated bootloader, whose power cycles a
//                     test or the demo plays (`aloft-agent simulate-reboot`), this *is* the
//                     reboot: the next agent start sees what the bootloader booted.
// Neither may be used from more than one thread.

#include <chrono>
#include <string>
#include <vector>

#include "agent/update/update_machine.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::update {

// The exit status of an agent that stops so that the device can (be) reboot(ed): EX_TEMPFAIL.
inline constexpr int kExitRebootRequested = 75;

class CommandRebooter final : public Rebooter {
 public:
  CommandRebooter(std::vector<std::string> argv, std::chrono::milliseconds timeout)
      : argv_(std::move(argv)), timeout_(timeout) {}

  // Runs the command without a shell. kUnavailable when it exits non-zero or is killed (the
  // message carries the end of its output); the command's own error when it cannot start or
  // times out. Ok means the system accepted the request: the reboot is on its way.
  Status Reboot() override;
  bool requested() const noexcept { return requested_; }

 private:
  std::vector<std::string> argv_;
  std::chrono::milliseconds timeout_;
  bool requested_ = false;
};

class DeferredRebooter final : public Rebooter {
 public:
  Status Reboot() override {
    requested_ = true;
    return Ok();
  }
  bool requested() const noexcept { return requested_; }
  void Clear() noexcept { requested_ = false; }

 private:
  bool requested_ = false;
};

}  // namespace aloft::agent::update
