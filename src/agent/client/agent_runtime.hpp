#pragma once

// The agent, assembled from its configuration: the composition root that main.cpp and the
// in-process tests share, so that what the tests run is what the device runs.
//
// It owns every adapter (libcurl clients, files, bootloader) and hands the UpdateClient its
// references; nothing here decides anything. Two HTTP clients on purpose: the metadata one
// carries the device's bearer token (aloftd serves both repositories to authenticated devices
// only), the public one never does (artifacts, offline bundles by URL, which may be anywhere).
//
// Creating a runtime touches only local state (data directory, device key, bootloader, update
// record); nothing is sent until a client method runs.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/client/update_client.hpp"
#include "agent/config/config.hpp"
#include "agent/download/backoff.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"

namespace aloft::agent::client {

struct RuntimeOptions {
  const Clock* clock = nullptr;          // the system clock when null; must outlive the runtime
  std::function<bool()> stop_requested;  // polled by transfers and waits; may be empty
  download::SleepFn sleep;               // waits between retries; default: interruptible sleep
  LogFn log;
  std::string agent_version = "0.1.0";
};

// The bootloader backend the configuration names (U-Boot, GRUB or simulated).
Result<std::unique_ptr<slots::Bootloader>> MakeBootloader(const config::AgentConfig& config);

// A SleepFn that really sleeps, in short slices, and returns false as soon as `stop` says so.
download::SleepFn InterruptibleSleep(std::function<bool()> stop);

class AgentRuntime {
 public:
  // Errors: the device key (kInvalidArgument/kIo), the bootloader (kIo/kCorrupt), the update
  // record (kCorrupt: fail-stop), the report outbox, libcurl initialisation.
  static Result<std::unique_ptr<AgentRuntime>> Create(const config::AgentConfig& config,
                                                      RuntimeOptions options = {});
  ~AgentRuntime();
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  UpdateClient& client() noexcept;
  slots::Bootloader& bootloader() noexcept;
  report::ReportQueue& reports() noexcept;
  download::ResumableDownload& download() noexcept;
  core::metadata::Fetcher& public_fetcher() noexcept;
  const identity::DeviceIdentity& identity() const noexcept;
  const config::AgentConfig& config() const noexcept;
  // Whether the update machine asked for a reboot in this process.
  bool reboot_requested() const noexcept;
  // Whether a reboot is "exit with kExitRebootRequested" (the simulated bootloader without a
  // reboot_command) rather than a command that takes the machine down.
  bool reboot_is_exit() const noexcept;

 private:
  struct Parts;
  explicit AgentRuntime(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace aloft::agent::client
