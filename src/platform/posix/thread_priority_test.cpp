#include "platform/posix/thread_priority.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace aloft::platform::posix {
namespace {

TEST(ThreadPriorityTest, LowersOnlyTheCallingThread) {
  auto before = CurrentThreadNice();
  ASSERT_TRUE(before) << before.error().ToString();
  Result<int> in_thread = 0;
  Status lowered = Ok();
  std::thread worker([&] {
    lowered = LowerCurrentThreadPriority(5);
    in_thread = CurrentThreadNice();
  });
  worker.join();
  ASSERT_TRUE(lowered) << lowered.error().ToString();
  ASSERT_TRUE(in_thread);
  EXPECT_EQ(*in_thread, std::min(*before + 5, 19));
  EXPECT_EQ(*CurrentThreadNice(), *before) << "the calling thread only";
}

TEST(ThreadPriorityTest, CapsAtNineteenAndRefusesNonPositiveIncrements) {
  Result<int> nice = 0;
  Status zero = Ok();
  std::thread worker([&] {
    zero = LowerCurrentThreadPriority(0);
    (void)LowerCurrentThreadPriority(100);
    nice = CurrentThreadNice();
  });
  worker.join();
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(nice);
  EXPECT_EQ(*nice, 19);
}

}  // namespace
}  // namespace aloft::platform::posix
