#include "platform/posix/system_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace aloft::platform::posix {
namespace {

TEST(SystemClockTest, NowIsCloseToSystemClock) {
  SystemClock clock;
  const auto reference = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const Timestamp now = clock.Now();
  EXPECT_LE(std::chrono::abs(now - reference), std::chrono::seconds(2));
  EXPECT_GT(now, ParseTimestamp("2020-01-01T00:00:00Z").value());
}

TEST(SystemClockTest, MonotonicDoesNotGoBack) {
  SystemClock clock;
  const auto a = clock.Monotonic();
  const auto b = clock.Monotonic();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace aloft::platform::posix
