#include "platform/posix/run_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>

#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

extern char** environ;

namespace aloft::platform::posix {
namespace {

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

// environ without the variables `extra` sets, then `extra`.
std::vector<char*> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<char*> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const std::string& e : extra) {
      replaced = replaced || std::string_view(e).substr(0, e.find('=')) == name;
    }
    if (!replaced) env.push_back(*entry);
  }
  // posix_spawn's signature predates const; it does not modify the strings.
  for (const std::string& e : extra) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  return env;
}

}  // namespace

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const OutputSink& on_output) {
  return RunCommand(argv, timeout, on_output, {});
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const OutputSink& on_output,
                                 const std::vector<std::string>& extra_env) {
  if (argv.empty()) return Fail(Errc::kInvalidArgument, "empty command");
  const std::filesystem::path program = argv[0];
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Fail(ErrnoError(errno, "pipe", program));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  FileActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDERR_FILENO);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  // posix_spawn's signature predates const; it does not modify the strings.
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  // glibc's posix_spawn reports exec failures (ENOENT, EACCES) as its own result.
  std::vector<char*> env = MergedEnvironment(extra_env);
  const int rc =
      ::posix_spawn(&pid, program.c_str(), actions.get(), nullptr, args.data(), env.data());
  if (rc != 0) {
    Error error = ErrnoError(rc, "exec", program);
    if (rc == ENOENT) return Fail(Errc::kNotFound, error.message());
    return Fail(std::move(error));
  }
  write_end.Reset();  // only the child writes now, so EOF means every writer has gone

  const auto deadline = SteadyClock::now() + timeout;
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
    on_output(std::string_view(buffer, static_cast<std::size_t>(n)));
  }

  int status = 0;
  if (!timed_out) {
    // The output closed; give the child until the deadline to exit.
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
    return Fail(Errc::kTimeout, program.string() + " did not finish within " +
                                    std::to_string(timeout.count()) + " ms");
  }
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, std::size_t max_output) {
  std::string output;
  auto result = RunCommand(argv, timeout, [&output, max_output](std::string_view chunk) {
    const std::size_t room = max_output - std::min(max_output, output.size());
    output.append(chunk.substr(0, room));
  });
  if (result) result->output = std::move(output);
  return result;
}

}  // namespace aloft::platform::posix
