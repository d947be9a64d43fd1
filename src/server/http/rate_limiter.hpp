#pragma once

// Token buckets keyed by a string: a client IP, a device ID or an API token ID. Each key has
// `capacity` tokens, refilled continuously at `refill_per_second`; a request takes one. The
// server applies one limiter per IP itself; auth middleware reuses this class per device and
// per token.
//
// Memory is bounded: at most `max_keys` buckets. When a new key arrives at the cap, every
// bucket that has refilled to capacity is dropped, which loses nothing (a key without a
// bucket gets a full one). Only when more than max_keys keys are all busy at once are the
// quarter least recently used of them dropped too; a dropped key starts again with a full
// bucket, so an attacker cycling through more than max_keys keys can refill one (size
// max_keys above the number of clients you expect). There is no LRU list to keep in order
// on every request: a check-in touches one hash node, not four list nodes as well.
// Thread-safe (one mutex). Time comes from Clock::Monotonic(), so tests use a FakeClock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/time.hpp"

namespace aloft::server::http {

struct RateLimit {
  double capacity = 60;           // burst size
  double refill_per_second = 1;   // sustained rate
  std::size_t max_keys = 100000;  // bound on tracked keys
};

struct RateDecision {
  bool allowed = true;
  // When not allowed: whole seconds until a token is available (at least 1), for Retry-After.
  std::chrono::seconds retry_after{0};
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter. capacity >= 1 and refill_per_second > 0 are asserted.
  RateLimiter(const Clock& clock, RateLimit limit);

  // Takes one token from `key`'s bucket if it has one.
  RateDecision Take(std::string_view key);

  std::size_t KeyCountForTest() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;  // when tokens was last brought up to date
  };

  // Called with the mutex held when the table is full: see the class comment.
  void MakeRoom(std::chrono::steady_clock::time_point now);

  const Clock& clock_;
  const RateLimit limit_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace aloft::server::http
