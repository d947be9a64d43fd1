#include "testing/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace aloft::testing {

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 std::chrono::seconds timeout) {
  if (argv.empty()) return Fail(Errc::kInvalidArgument, "empty argv");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Fail(Errc::kIo, std::strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Fail(Errc::kIo, std::strerror(errno));
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      kill(pid, SIGKILL);
      killed = true;
    }
    pollfd pfd{pipefd[0], POLLIN, 0};
    int ready = poll(&pfd, 1, killed ? 1000 : static_cast<int>(std::min<long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<std::size_t>(n));
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::filesystem::path BinDir() {
  if (const char* dir = std::getenv("ALOFT_BIN_DIR")) return dir;
  return "build/bin";
}

}  // namespace aloft::testing
