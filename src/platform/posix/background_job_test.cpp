#include "platform/posix/background_job.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aloft::platform::posix {
namespace {


TEST(BackgroundJobTest, RunsJobsInOrderAndReportsTheFirstFailure) {
  BackgroundJob io;
  EXPECT_TRUE(io.Wait());  // nothing ran yet
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(io.Start([&ran, i] {
      ran.push_back(i);
      return Ok();
    }));
  }
  ASSERT_TRUE(io.Wait());
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));

  ASSERT_TRUE(io.Start([] { return Status(Fail(Errc::kIo, "disk on fire")); }));
  bool started_after_failure = false;
  const Status next = io.Start([&] {
    started_after_failure = true;
    return Ok();
  });
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), Errc::kIo);
  EXPECT_FALSE(started_after_failure);
  EXPECT_TRUE(io.Wait());  // the failure was handed over once
}

}  // namespace
}  // namespace aloft::platform::posix
