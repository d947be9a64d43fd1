#include "cli/aloftctl/commands/terminal.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "platform/posix/unique_fd.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

// Restores the terminal's settings when it goes out of scope.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter key still moves to the next line
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace

bool IsTerminal(int fd) noexcept { return ::isatty(fd) == 1; }

Result<std::string> PromptTerminal(std::string_view prompt, bool secret) {
  platform::posix::UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!tty.valid()) {
    return Fail(Errc::kUnavailable, std::string("no terminal: ") + std::strerror(errno));
  }
  std::string_view rest = prompt;
  while (!rest.empty()) {
    const ssize_t n = ::write(tty.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(Errc::kUnavailable, "cannot write to the terminal");
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  std::optional<EchoOff> echo_off;
  if (secret) echo_off.emplace(tty.get());
  std::string line;
  for (;;) {
    char c = 0;
    const ssize_t n = ::read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    if (line.size() >= 4096) return Fail(Errc::kInvalidArgument, "input line too long");
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace aloft::cli::aloftctl::commands
