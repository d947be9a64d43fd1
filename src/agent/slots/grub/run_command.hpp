#pragma once

// Runs a helper binary without a shell, with a deadline and a bounded capture of its output.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::agent::slots::grub {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr, interleaved, cut at max_output bytes
};

// argv[0] is an absolute path. Errors: kNotFound when it does not exist, kTimeout when the
// child outlived `timeout` (it is then killed with SIGKILL and reaped), kIo for the rest. A
// non-zero exit is not an error here: the caller reads exit_code.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout,
                                 std::size_t max_output = 64 * 1024);

}  // namespace aloft::agent::slots::grub
