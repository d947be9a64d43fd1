#pragma once

// A Clock that moves only when a test says so.

#include <chrono>
#include <mutex>

#include "core/base/time.hpp"

namespace aloft::testing {

// Thread-safe. Wall time is kept at nanosecond precision and Now() floors it to seconds, so
// two Advance(500ms) calls move Now() by one second.
class FakeClock final : public Clock {
 public:
  // Starts at 2024-01-01T00:00:00Z unless told otherwise.
  FakeClock();
  explicit FakeClock(Timestamp now);

  Timestamp Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;

  // Steps the wall clock to `now` (forwards or backwards), like an NTP step: Monotonic() does
  // not move.
  void Set(Timestamp now);
  // Moves both clocks forward by `by` (which must not be negative).
  void Advance(std::chrono::nanoseconds by);

 private:
  mutable std::mutex mutex_;
  std::chrono::sys_time<std::chrono::nanoseconds> wall_;
  std::chrono::steady_clock::time_point monotonic_;
};

}  // namespace aloft::testing
