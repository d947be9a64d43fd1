#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft {

// Wall-clock instant with one-second resolution, as TUF's "expires" field carries it.
using Timestamp = std::chrono::sys_seconds;

// Parses "YYYY-MM-DDTHH:MM:SSZ" (the TUF form; UTC only, no fractions, no offsets).
Result<Timestamp> ParseTimestamp(std::string_view text);
// Formats as "YYYY-MM-DDTHH:MM:SSZ".
std::string FormatTimestamp(Timestamp t);

// Wall time and monotonic time kept apart: metadata expiry uses wall time, back-off and
// deadlines use monotonic time, so a clock step cannot stretch a timeout.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
};

}  // namespace aloft
