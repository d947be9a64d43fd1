#include "agent/update/rebooters.hpp"

#include "platform/posix/run_command.hpp"

namespace aloft::agent::update {

Status CommandRebooter::Reboot() {
  if (argv_.empty()) return Fail(Errc::kInvalidArgument, "reboot: no reboot command configured");
  auto run = platform::posix::RunCommand(argv_, timeout_, 4096);
  if (!run) return Fail(std::move(run).error().WithContext("reboot"));
  if (run->exit_code != 0) {
    std::string output = run->output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return Fail(Errc::kUnavailable,
                "reboot: " + argv_[0] +
                    (run->signal != 0 ? " killed by signal " + std::to_string(run->signal)
                                      : " exited with status " + std::to_string(run->exit_code)) +
                    (output.empty() ? "" : ": " + output));
  }
  requested_ = true;
  return Ok();
}

}  // namespace aloft::agent::update
