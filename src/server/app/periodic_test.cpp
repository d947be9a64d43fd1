#include "server/app/periodic.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "platform/posix/thread_priority.hpp"

namespace aloft::server::app {
namespace {

using namespace std::chrono_literals;

// The task's nice value, read from inside the task on its first run.
int NiceOfTask(Periodic::Priority priority) {
  std::atomic<int> nice{-100};
  {
    Periodic periodic(
        1ms,
        [&] {
          if (nice.load() == -100) nice = platform::posix::CurrentThreadNice().value_or(-99);
        },
        priority);
    for (int i = 0; i < 500 && nice.load() == -100; ++i) std::this_thread::sleep_for(2ms);
  }
  return nice.load();
}

TEST(PeriodicTest, BackgroundTasksRunBelowTheRequestThreads) {
  const int own = *platform::posix::CurrentThreadNice();
  EXPECT_EQ(NiceOfTask(Periodic::Priority::kNormal), own);
  EXPECT_EQ(NiceOfTask(Periodic::Priority::kBackground), std::min(own + 10, 19));
}

TEST(PeriodicTest, StopWakesTheThreadWithoutWaitingForTheInterval) {
  const auto start = std::chrono::steady_clock::now();
  {
    Periodic periodic(1h, [] {});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

}  // namespace
}  // namespace aloft::server::app
