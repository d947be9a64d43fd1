#include "agent/update/health_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "agent/update/update_record.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

extern char** environ;

namespace aloft::agent::update {
namespace {

namespace posix = platform::posix;
using SteadyClock = std::chrono::steady_clock;

// Owns posix_spawn's file-actions object.
class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

pid_t WaitRetrying(pid_t pid, int* status, int flags) {
  pid_t rc;
  do {
    rc = ::waitpid(pid, status, flags);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

// Appends to `tail`, keeping only its last kMaxLogTailBytes.
void AppendTail(std::string& tail, std::string_view data) {
  tail.append(data);
  if (tail.size() > kMaxLogTailBytes) tail.erase(0, tail.size() - kMaxLogTailBytes);
}

// Runs one command to completion or its deadline; output goes to `tail`.
Status RunOne(const HealthCommand& command, std::string& tail) {
  if (command.argv.empty()) return Fail(Errc::kInvalidArgument, "empty health-check command");
  const std::filesystem::path program = command.argv[0];
  std::string shown = "$";
  for (const std::string& arg : command.argv) shown += " " + arg;
  AppendTail(tail, shown + "\n");

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Fail(posix::ErrnoError(errno, "pipe", program));
  posix::UniqueFd read_end(pipe_fds[0]);
  posix::UniqueFd write_end(pipe_fds[1]);

  FileActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDERR_FILENO);
  std::vector<char*> args;
  args.reserve(command.argv.size() + 1);
  // posix_spawn's signature predates const; it does not modify the strings.
  for (const std::string& arg : command.argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), actions.get(), nullptr, args.data(), environ);
  if (rc != 0) {
    Error error = posix::ErrnoError(rc, "exec", program);
    AppendTail(tail, error.message() + "\n");
    if (rc == ENOENT) return Fail(Errc::kNotFound, error.message());
    return Fail(std::move(error));
  }
  write_end.Reset();  // only the child writes now, so EOF means every writer has gone

  const auto deadline = SteadyClock::now() + command.timeout;
  bool timed_out = false;
  char buffer[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now())
            .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{read_end.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready <= 0) continue;  // EINTR or the deadline: re-checked at the top
    const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child (and any grandchild holding the pipe) is done writing
    AppendTail(tail, std::string_view(buffer, static_cast<std::size_t>(n)));
  }
  int status = 0;
  if (!timed_out) {
    // Output closed; give the child until the deadline to exit.
    while (WaitRetrying(pid, &status, WNOHANG) == 0) {
      if (SteadyClock::now() >= deadline) {
        timed_out = true;
        break;
      }
      ::usleep(1000);
    }
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    (void)WaitRetrying(pid, &status, 0);
    const std::string message = program.string() + " did not finish within " +
                                std::to_string(command.timeout.count()) + " ms";
    AppendTail(tail, "timeout: " + message + "\n");
    return Fail(Errc::kTimeout, message);
  }
  if (WIFSIGNALED(status)) {
    const std::string message =
        program.string() + " killed by signal " + std::to_string(WTERMSIG(status));
    AppendTail(tail, message + "\n");
    return Fail(Errc::kVerificationFailed, message);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
  for (const HealthCommand& command : commands_) {
    outcome.status = RunOne(command, outcome.log_tail);
    if (!outcome.status) {
      outcome.status = Fail(std::move(outcome.status).error().WithContext("health check"));
      break;
    }
  }
  return outcome;
}

}  // namespace aloft::agent::update
