#include "server/app/periodic.hpp"

#include "platform/posix/thread_priority.hpp"

namespace aloft::server::app {

Periodic::Periodic(std::chrono::milliseconds interval, std::function<void()> task,
                   Priority priority)
    : thread_([this, interval, priority, task = std::move(task)] {
        if (priority == Priority::kBackground) {
          // Best effort: at normal priority the work is only less polite.
          (void)platform::posix::LowerCurrentThreadPriority(10);
        }
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
          lock.unlock();
          task();
          lock.lock();
        }
      }) {}

Periodic::~Periodic() { Stop(); }

void Periodic::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace aloft::server::app
