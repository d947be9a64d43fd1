#pragma once

// One job at a time on a worker thread, so that blocking I/O (an O_DIRECT write or read, which
// blocks until the medium has the bytes; an fdatasync) overlaps the caller's CPU work on the
// next chunk (decompressing, hashing). The agent's slot writer and reader and its download
// spool use it. Double buffering on top of it is the caller's: it may touch a
// buffer again only after Wait() or the next Start() returned.
//
// If the worker thread cannot be started, jobs run inline in Start(): slower, same results.
// Not thread-safe: one caller drives it.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/base/result.hpp"

namespace aloft::platform::posix {

class BackgroundJob {
 public:
  BackgroundJob();
  ~BackgroundJob();  // waits for the running job
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  // Waits for the running job; if it failed, returns its error and does not start `job`.
  // Otherwise starts `job` and returns Ok.
  Status Start(std::function<Status()> job);
  // Waits for the running job (if any) and returns its status; Ok when there was none.
  Status Wait();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<Status()> job_;  // set while a job is pending or running
  Status last_ = Ok();           // the finished job's status, until Wait/Start collects it
  bool stop_ = false;
  std::thread worker_;           // not joinable: jobs run inline
};

}  // namespace aloft::platform::posix
