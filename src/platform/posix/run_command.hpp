#pragma once

// Runs a helper binary without a shell, with a deadline, passing its output on or capturing a
// bounded copy of it.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::platform::posix {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that killed the child; 0 when it exited
  std::string output;  // stdout and stderr, interleaved, cut at max_output bytes
};

// Receives the child's output (stdout and stderr, interleaved) chunk by chunk as it arrives.
using OutputSink = std::function<void(std::string_view chunk)>;

// argv[0] is an absolute path; stdin is /dev/null. Errors: kInvalidArgument for an empty argv,
// kNotFound when argv[0] does not exist, kTimeout ("<argv[0]> did not finish within N ms")
// when the child outlived `timeout` (it is then killed with SIGKILL and reaped), ErrnoError
// codes for the rest. A non-zero exit or a fatal signal is not an error here: the caller reads
// exit_code and signal. This overload hands the output to `on_output` and leaves
// CommandResult::output empty.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const OutputSink& on_output);

// As above, with `extra_env` ("NAME=value" entries) in the child's environment on top of this
// process's, each replacing a variable of the same name.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const OutputSink& on_output,
                                 const std::vector<std::string>& extra_env);

// As above, keeping the first `max_output` bytes of the output in CommandResult::output.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout,
                                 std::size_t max_output = 64 * 1024);

}  // namespace aloft::platform::posix
