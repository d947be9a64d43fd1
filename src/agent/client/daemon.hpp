#pragma once

// `aloft-agent daemon`: the polling loop.
//
//   Start() once (finish what a reboot or a power cut left) → then, until asked to stop:
//   CheckOnce() → wait poll_interval ± jitter (after an error: back-off with jitter from
//   retry_initial up to poll_interval, so a server that is down is not hammered and a server
//   that comes back is reached soon) → again.
//
// A reboot requested by the update machine ends the loop with kExitRebootRequested when the
// reboot is "exit" (simulated bootloader: the harness plays the power cycle); with a reboot
// command the loop waits `reboot_wait` for the machine to go down, then carries on (the next
// CheckOnce drives the update on, asking again). A corrupt update record (kCorrupt) is
// fail-stop: the loop ends with status 1 and the error is logged for the operator.

#include <chrono>
#include <functional>

#include "agent/client/update_client.hpp"
#include "agent/download/backoff.hpp"

namespace aloft::agent::client {

struct DaemonOptions {
  std::chrono::milliseconds poll_interval{std::chrono::minutes(5)};
  int poll_jitter_percent = 20;
  std::chrono::milliseconds retry_initial{std::chrono::seconds(5)};
  std::chrono::milliseconds reboot_wait{std::chrono::minutes(5)};
  bool reboot_is_exit = false;
  std::function<bool()> stop_requested;  // polled between steps
  download::SleepFn sleep;               // returns false when asked to stop
  LogFn log;
};

// Returns the process exit status: 0 after a stop request, update::kExitRebootRequested (75)
// when the reboot is an exit, 1 when the update record is corrupt.
int RunDaemon(UpdateClient& client, const DaemonOptions& options);

}  // namespace aloft::agent::client
