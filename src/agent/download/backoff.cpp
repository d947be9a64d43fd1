#include "agent/download/backoff.hpp"

#include <algorithm>
#include <array>

#include "core/crypto/hash.hpp"

namespace aloft::agent::download {
namespace {

std::uint64_t Seed(std::uint64_t seed) {
  if (seed != 0) return seed;
  std::array<std::uint8_t, 8> bytes{};
  if (!core::crypto::RandomBytes(bytes)) {
    // Jitter is not a security property: a clock-derived seed still spreads a fleet out.
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  std::uint64_t out = 0;
  for (std::uint8_t b : bytes) out = (out << 8) | b;
  return out;
}

}  // namespace

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      random_(Seed(seed)) {}

std::chrono::milliseconds Backoff::Next() {
  std::chrono::milliseconds delay = initial_;
  for (int i = 0; i < failures_ && delay < max_; ++i) delay *= 2;
  delay = std::min(delay, max_);
  if (failures_ < 64) ++failures_;
  const std::int64_t half = delay.count() / 2;
  std::uniform_int_distribution<std::int64_t> spread(0, delay.count() - half);
  return std::chrono::milliseconds(half + spread(random_));
}

std::chrono::milliseconds Jittered(std::chrono::milliseconds base, int percent,
                                   std::mt19937_64& random) {
  percent = std::clamp(percent, 0, 90);
  const std::int64_t span = base.count() * percent / 100;
  std::uniform_int_distribution<std::int64_t> spread(-span, span);
  return std::chrono::milliseconds(base.count() + spread(random));
}

}  // namespace aloft::agent::download
