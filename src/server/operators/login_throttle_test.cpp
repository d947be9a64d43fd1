#include "server/operators/login_throttle.hpp"

#include <gtest/gtest.h>

#include "testing/fake_clock.hpp"

namespace aloft::server::operators {
namespace {

using std::chrono::seconds;

TEST(LoginThrottleTest, BurstThenOneAttemptPerInterval) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, ThrottlePolicy{3, seconds(60), 100});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.RetryAfter("alice"), seconds(0)) << i;
    throttle.RecordFailure("alice");
  }
  EXPECT_EQ(throttle.RetryAfter("alice"), seconds(60));
  EXPECT_EQ(throttle.RetryAfter("bob"), seconds(0)) << "keys are independent";
  clock.Advance(seconds(45));
  EXPECT_EQ(throttle.RetryAfter("alice"), seconds(15));
  clock.Advance(seconds(15));
  EXPECT_EQ(throttle.RetryAfter("alice"), seconds(0));
  throttle.RecordFailure("alice");
  EXPECT_EQ(throttle.RetryAfter("alice"), seconds(60)) << "one more failure, one more minute";
}

TEST(LoginThrottleTest, FailuresAreForgottenOverTime) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, ThrottlePolicy{2, seconds(10), 100});
  throttle.RecordFailure("k");
  throttle.RecordFailure("k");
  EXPECT_GT(throttle.RetryAfter("k"), seconds(0));
  clock.Advance(seconds(20));
  throttle.RecordFailure("k");
  EXPECT_EQ(throttle.RetryAfter("k"), seconds(0)) << "two forgiven, one new: room for one more";
}

TEST(LoginThrottleTest, ClearForgetsAKey) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, ThrottlePolicy{1, seconds(60), 100});
  throttle.RecordFailure("alice");
  EXPECT_GT(throttle.RetryAfter("alice"), seconds(0));
  throttle.Clear("alice");
  EXPECT_EQ(throttle.RetryAfter("alice"), seconds(0));
  EXPECT_EQ(throttle.KeyCountForTest(), 0u);
}

TEST(LoginThrottleTest, WallClockStepsDoNotMatter) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, ThrottlePolicy{1, seconds(60), 100});
  throttle.RecordFailure("alice");
  clock.Set(clock.Now() + std::chrono::hours(24));
  EXPECT_GT(throttle.RetryAfter("alice"), seconds(0));
}

TEST(LoginThrottleTest, MemoryIsBoundedByDroppingTheOldestKey) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, ThrottlePolicy{1, seconds(60), 3});
  for (const char* k : {"a", "b", "c"}) throttle.RecordFailure(k);
  throttle.RecordFailure("a");  // a is now the most recent
  throttle.RecordFailure("d");  // b goes
  EXPECT_EQ(throttle.KeyCountForTest(), 3u);
  EXPECT_EQ(throttle.RetryAfter("b"), seconds(0));
  EXPECT_GT(throttle.RetryAfter("a"), seconds(0));
  EXPECT_GT(throttle.RetryAfter("d"), seconds(0));
}

}  // namespace
}  // namespace aloft::server::operators
