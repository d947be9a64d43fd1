#include "testing/fake_clock.hpp"

#include <cassert>

namespace aloft::testing {
namespace {

// 2024-01-01T00:00:00Z.
constexpr Timestamp kDefaultStart{std::chrono::seconds(1704067200)};

}  // namespace

FakeClock::FakeClock() : FakeClock(kDefaultStart) {}

// Monotonic time starts at an arbitrary non-zero point, as a real steady clock does.
FakeClock::FakeClock(Timestamp now)
    : wall_(now), monotonic_(std::chrono::steady_clock::time_point(std::chrono::hours(1))) {}

Timestamp FakeClock::Now() const {
  std::lock_guard lock(mutex_);
  return std::chrono::floor<std::chrono::seconds>(wall_);
}

std::chrono::steady_clock::time_point FakeClock::Monotonic() const {
  std::lock_guard lock(mutex_);
  return monotonic_;
}

void FakeClock::Set(Timestamp now) {
  std::lock_guard lock(mutex_);
  wall_ = now;
}

void FakeClock::Advance(std::chrono::nanoseconds by) {
  assert(by.count() >= 0 && "a FakeClock only moves forward; use Set() to step back");
  std::lock_guard lock(mutex_);
  wall_ += by;
  monotonic_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(by);
}

}  // namespace aloft::testing
