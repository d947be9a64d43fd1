#pragma once

// Exponential back-off with jitter, for everything the agent retries against the network (a
// download after an interruption, the daemon's next check-in after the server was down).
// Jitter spreads a fleet's retries out, so a server coming back is not hit by every device in
// the same second ("equal jitter": half the delay fixed, half random).

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

namespace aloft::agent::download {

// Waits `delay`; returns false when the agent was asked to stop meanwhile (the caller then
// gives up with kCancelled). Injected so tests do not sleep.
using SleepFn = std::function<bool(std::chrono::milliseconds delay)>;

class Backoff {
 public:
  // `initial` > 0 and `max` >= `initial`. `seed` 0 draws one from the OS.
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::uint64_t seed = 0);

  // The next delay: d/2 + uniform[0, d/2] with d = min(max, initial * 2^failures); then
  // failures += 1.
  std::chrono::milliseconds Next();
  // After a success: the next delay starts from `initial` again.
  void Reset() noexcept { failures_ = 0; }
  int failures() const noexcept { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::mt19937_64 random_;
};

// `base` ± `percent`% (0..90), uniformly: the daemon's poll interval, so a fleet that booted
// together does not check in together forever.
std::chrono::milliseconds Jittered(std::chrono::milliseconds base, int percent,
                                   std::mt19937_64& random);

}  // namespace aloft::agent::download
