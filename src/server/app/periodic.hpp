#pragma once

// A background thread that calls a function every `interval` until stopped: aloftd's
// housekeeping (rollout evaluation), the last-seen flush, delta builds. Stop() wakes it at
// once, so shutdown never waits for a whole interval.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace aloft::server::app {

class Periodic {
 public:
  enum class Priority {
    kNormal,
    // Below the request threads (nice +10): work that may lag a little under load, such as
    // write-behind flushes and delta builds, but should not stall check-ins while it runs.
    kBackground,
  };

  Periodic(std::chrono::milliseconds interval, std::function<void()> task,
           Priority priority = Priority::kNormal);
  ~Periodic();  // Stop()
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aloft::server::app
