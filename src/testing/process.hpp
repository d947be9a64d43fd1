#pragma once

// Runs our own binaries from integration tests, the way a user or a test suite would.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (a path) with its arguments, without a shell, and waits for it. Output is
// captured; `timeout` kills a hung child (SIGKILL) and reports it as signal 9.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 std::chrono::seconds timeout = std::chrono::seconds(60));

// Where the build put our executables: $ALOFT_BIN_DIR (set by CTest), else "build/bin".
std::filesystem::path BinDir();

}  // namespace aloft::testing
