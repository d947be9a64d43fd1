#pragma once

// Reading from the controlling terminal (/dev/tty), not stdin: a passphrase prompt works even
// when stdin is a pipe, and a script without a terminal gets an error instead of a hang.

#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::cli::aloftctl::commands {

// Prints `prompt` on the terminal and reads one line; with `secret`, echo is off while
// typing (restored afterwards, also on error). kUnavailable when there is no terminal.
Result<std::string> PromptTerminal(std::string_view prompt, bool secret);

// Whether file descriptor `fd` is a terminal.
bool IsTerminal(int fd) noexcept;

}  // namespace aloft::cli::aloftctl::commands
