#include "agent/update/health_check.hpp"

#include <filesystem>
#include <string_view>

#include "agent/update/update_record.hpp"
#include "platform/posix/run_command.hpp"

namespace aloft::agent::update {
namespace {

// Appends to `tail`, keeping only its last kMaxLogTailBytes.
void AppendTail(std::string& tail, std::string_view data) {
  tail.append(data);
  if (tail.size() > kMaxLogTailBytes) tail.erase(0, tail.size() - kMaxLogTailBytes);
}

// Runs one command to completion or its deadline; output goes to `tail`.
Status RunOne(const HealthCommand& command, const std::vector<std::string>& env,
              std::string& tail) {
  if (command.argv.empty()) return Fail(Errc::kInvalidArgument, "empty health-check command");
  const std::filesystem::path program = command.argv[0];
  std::string shown = "$";
  for (const std::string& arg : command.argv) shown += " " + arg;
  AppendTail(tail, shown + "\n");

  auto run = platform::posix::RunCommand(
      command.argv, command.timeout, [&tail](std::string_view chunk) { AppendTail(tail, chunk); },
      env);
  if (!run) {
    const bool timed_out = run.error().code() == Errc::kTimeout;
    AppendTail(tail, (timed_out ? "timeout: " : "") + run.error().message() + "\n");
    return Fail(std::move(run).error());
  }
  if (run->signal != 0) {
    const std::string message =
        program.string() + " killed by signal " + std::to_string(run->signal);
    AppendTail(tail, message + "\n");
    return Fail(Errc::kVerificationFailed, message);
  }
  const int code = run->exit_code;
  AppendTail(tail, "exit " + std::to_string(code) + "\n");
  if (code != 0) {
    return Fail(Errc::kVerificationFailed,
                program.string() + " exited with status " + std::to_string(code));
  }
  return Ok();
}

}  // namespace

HealthOutcome CommandHealthChecker::Run() {
  HealthOutcome outcome;
  const std::vector<std::string> env = environment_ ? environment_() : std::vector<std::string>{};
  for (const HealthCommand& command : commands_) {
    outcome.status = RunOne(command, env, outcome.log_tail);
    if (!outcome.status) {
      outcome.status = Fail(std::move(outcome.status).error().WithContext("health check"));
      break;
    }
  }
  return outcome;
}

}  // namespace aloft::agent::update
