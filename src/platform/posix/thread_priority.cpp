#include "platform/posix/thread_priority.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

namespace aloft::platform::posix {
namespace {

// PRIO_PROCESS with a thread id addresses that one thread on Linux.
id_t ThisThread() { return static_cast<id_t>(::syscall(SYS_gettid)); }

Error PriorityError(int err, const char* what) {
  return Error(Errc::kIo, std::string(what) + ": " + std::generic_category().message(err));
}

}  // namespace

Result<int> CurrentThreadNice() {
  errno = 0;  // -1 is a valid nice value; only errno tells a failure
  const int nice = ::getpriority(PRIO_PROCESS, ThisThread());
  if (nice == -1 && errno != 0) return Fail(PriorityError(errno, "read thread priority"));
  return nice;
}

Status LowerCurrentThreadPriority(int increment) {
  if (increment < 1) return Fail(Errc::kInvalidArgument, "priority increment must be positive");
  auto current = CurrentThreadNice();
  if (!current) return Fail(current.error());
  const int target = std::min(*current + increment, 19);
  if (::setpriority(PRIO_PROCESS, ThisThread(), target) != 0) {
    return Fail(PriorityError(errno, "lower thread priority"));
  }
  return Ok();
}

}  // namespace aloft::platform::posix
