#include "platform/posix/system_clock.hpp"

#include <ctime>

namespace aloft::platform::posix {

Timestamp SystemClock::Now() const {
  // Called directly rather than through std::chrono::system_clock so that the call always goes
  // through the dynamic symbol libfaketime interposes, whatever libstdc++ was built with.
  struct timespec ts {};
  if (::clock_gettime(CLOCK_REALTIME, &ts) != 0) {
    // CLOCK_REALTIME cannot fail on Linux; keep a sane answer if it somehow does.
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
  return Timestamp(std::chrono::seconds(ts.tv_sec));
}

std::chrono::steady_clock::time_point SystemClock::Monotonic() const {
  return std::chrono::steady_clock::now();
}

}  // namespace aloft::platform::posix
