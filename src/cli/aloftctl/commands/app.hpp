#pragma once

// The aloftctl command line: parses `args` (args[0] is the program name) with CLI11, runs the
// chosen command and returns its exit code (see ExitCode in context.hpp). Never throws: parse
// errors are usage errors (2), anything unexpected is an error (1).

#include <string>
#include <vector>

#include "cli/aloftctl/commands/context.hpp"

namespace aloft::cli::aloftctl::commands {

int Run(const std::vector<std::string>& args, Environment& env);

}  // namespace aloft::cli::aloftctl::commands
