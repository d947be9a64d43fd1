#pragma once

#include <chrono>

#include "core/base/time.hpp"

namespace aloft::platform::posix {

// The real clocks. Now() reads CLOCK_REALTIME through glibc's clock_gettime(), so tests can
// shift it with `faketime` (LD_PRELOAD interposition; this is why binaries must not be linked
// statically). Monotonic() is std::chrono::steady_clock. Stateless and thread-safe.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;
};

}  // namespace aloft::platform::posix
