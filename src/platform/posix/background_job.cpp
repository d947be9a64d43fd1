#include "platform/posix/background_job.hpp"

#include <system_error>
#include <utility>

namespace aloft::platform::posix {

BackgroundJob::BackgroundJob() {
  try {
    worker_ = std::thread([this] { Run(); });
  } catch (const std::system_error&) {
    // No thread (resource limits): Start() runs jobs inline.
  }
}

BackgroundJob::~BackgroundJob() {
  if (!worker_.joinable()) return;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !job_; });
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

Status BackgroundJob::Start(std::function<Status()> job) {
  if (auto previous = Wait(); !previous) return previous;
  if (!worker_.joinable()) return job();
  {
    std::lock_guard lock(mutex_);
    job_ = std::move(job);
  }
  changed_.notify_all();
  return Ok();
}

Status BackgroundJob::Wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !job_; });
  return std::exchange(last_, Ok());
}

void BackgroundJob::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stop_ || job_; });
    if (!job_) return;  // stop_, and nothing left to do
    std::function<Status()> job = job_;
    lock.unlock();
    Status status = job();
    lock.lock();
    last_ = std::move(status);
    job_ = nullptr;
    changed_.notify_all();
  }
}

}  // namespace aloft::platform::posix
