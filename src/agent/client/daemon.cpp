#include "agent/client/daemon.hpp"

#include <algorithm>
#include <random>
#include <string>

#include "agent/update/rebooters.hpp"

namespace aloft::agent::client {
namespace {

void Say(const DaemonOptions& options, const std::string& message) {
  if (options.log) options.log(message);
}

}  // namespace

int RunDaemon(UpdateClient& client, const DaemonOptions& options) {
  const auto stopped = [&options] { return options.stop_requested && options.stop_requested(); };
  auto started = client.Start();
  if (!started) {
    Say(options, "resume: " + started.error().message());
    if (started.error().code() == Errc::kCorrupt) return 1;
  } else if (*started) {
    Say(options, std::string(OutcomeName((*started)->outcome)) + ": " + (*started)->message);
    if ((*started)->outcome == Outcome::kRebootRequested && options.reboot_is_exit) {
      return update::kExitRebootRequested;
    }
  }

  std::random_device seed;
  std::mt19937_64 random(seed());
  download::Backoff backoff(options.retry_initial,
                            std::max(options.retry_initial, options.poll_interval));
  std::string last;
  while (!stopped()) {
    std::chrono::milliseconds delay =
        download::Jittered(options.poll_interval, options.poll_jitter_percent, random);
    auto result = client.CheckOnce();
    if (result) {
      backoff.Reset();
      const std::string line = std::string(OutcomeName(result->outcome)) + ": " + result->message;
      if (line != last) Say(options, line);  // a quiet loop logs what changed, not every poll
      last = line;
      if (result->outcome == Outcome::kRebootRequested) {
        if (options.reboot_is_exit) return update::kExitRebootRequested;
        delay = options.reboot_wait;
      }
    } else {
      const std::string line = "check failed: " + result.error().message();
      Say(options, line);
      last = line;
      if (result.error().code() == Errc::kCorrupt) return 1;
      if (result.error().code() == Errc::kCancelled) break;
      delay = backoff.Next();
    }
    if (!options.sleep(delay)) break;
  }
  return 0;
}

}  // namespace aloft::agent::client
