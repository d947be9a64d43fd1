#include "testing/process.hpp"

#include <cstdlib>
#include <string>

#include "platform/posix/run_command.hpp"

namespace aloft::testing {

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 std::chrono::seconds timeout) {
  // Tests read whole outputs (error messages, demo narration); 16 MiB is far more than any.
  auto r = platform::posix::RunCommand(argv, timeout, std::size_t{16} << 20);
  if (!r) {
    // A hung child was killed: report it as the signal, so a test sees a failed run.
    if (r.error().code() == Errc::kTimeout) return ProcessResult{-1, 9, r.error().message()};
    return Fail(r.error());
  }
  return ProcessResult{r->exit_code, r->signal, std::move(r->output)};
}

std::filesystem::path BinDir() {
  if (const char* dir = std::getenv("ALOFT_BIN_DIR")) return dir;
  return "build/bin";
}

}  // namespace aloft::testing
