#pragma once

// A long-running program of ours (aloftd serve) started for a test and stopped with it.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::security {

class ChildProcess {
 public:
  // Starts argv[0] (a path) without a shell; stdout and stderr go to `log_file`.
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const std::filesystem::path& log_file);
  // SIGTERM, then SIGKILL after 10 s; always reaps the child.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  // Whether it still runs (reaps it when it has exited).
  bool Running();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

}  // namespace aloft::security
