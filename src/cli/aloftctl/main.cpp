// aloftctl, the operator's command line. Composition root: the real terminal, environment,
// streams and clock; everything else is in commands/ (see `aloftctl --help`).

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/aloftctl/commands/app.hpp"
#include "cli/aloftctl/commands/terminal.hpp"
#include "platform/posix/system_clock.hpp"

int main(int argc, char** argv) {
  using namespace aloft::cli::aloftctl::commands;
  try {
    aloft::platform::posix::SystemClock clock;
    Environment env;
    env.out = &std::cout;
    env.err = &std::cerr;
    env.getenv = [](std::string_view name) -> std::optional<std::string> {
      const char* value = std::getenv(std::string(name).c_str());
      if (value == nullptr) return std::nullopt;
      return std::string(value);
    };
    env.prompt = PromptTerminal;
    env.progress = IsTerminal(STDERR_FILENO);
    env.clock = &clock;
    return Run(std::vector<std::string>(argv, argv + argc), env);
  } catch (const std::exception& e) {
    std::cerr << "aloftctl: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "aloftctl: internal error\n";
  }
  return kExitError;
}
