#pragma once

// Health checks run after booting into a trial: the new image is committed only when they all
// pass. A check that hangs must not hang the agent (the bootloader's boot limit would then be
// the only way out), so every command has a timeout.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::agent::update {

// The result of one health-check run: the verdict, and the last bytes of the checks' output
// (at most kMaxLogTailBytes), which a rollback report carries to the operator.
struct HealthOutcome {
  Status status;  // Ok, or why the image is unhealthy
  std::string log_tail;
};

class HealthChecker {
 public:
  virtual ~HealthChecker() = default;
  // Runs every check; may block up to the sum of the configured timeouts. Must be safe to
  // run again after a crash interrupted an earlier run (checks are re-run, never resumed).
  virtual HealthOutcome Run() = 0;
};

struct HealthCommand {
  std::vector<std::string> argv;  // argv[0] is an absolute path; run without a shell
  std::chrono::milliseconds timeout{30'000};
};

// Runs commands in order with posix_spawn (stdin from /dev/null, stdout and stderr captured),
// stopping at the first failure. Failure codes in HealthOutcome::status:
//   kVerificationFailed  a command exited non-zero or was killed by a signal
//   kTimeout             a command outlived its timeout (it is killed with SIGKILL and reaped)
//   kNotFound / kIo      a command could not be started
// The log tail holds "$ <argv...>" before each command's output and "exit N" after it, cut
// to the last kMaxLogTailBytes. No commands: healthy.
//
// `environment`, when set, is asked at each Run() for "NAME=value" entries added to the
// commands' environment; the agent passes ALOFT_SLOT, ALOFT_SLOT_PATH and ALOFT_IMAGE_VERSION
// so a check can inspect the image it is judging.
class CommandHealthChecker final : public HealthChecker {
 public:
  using EnvironmentFn = std::function<std::vector<std::string>()>;

  explicit CommandHealthChecker(std::vector<HealthCommand> commands,
                                EnvironmentFn environment = {})
      : commands_(std::move(commands)), environment_(std::move(environment)) {}
  HealthOutcome Run() override;

 private:
  std::vector<HealthCommand> commands_;
  EnvironmentFn environment_;
};

}  // namespace aloft::agent::update
