#pragma once

// Counts failed logins per key (a username, a client IP) and refuses further attempts once a
// key has failed too often, until enough time passed: a leaky bucket of failures. Each key
// may fail `burst` times in a row; one more failure is forgiven every `forgive_every`. A
// success clears the username's count (not the IP's: one good login must not reset an
// attacker's budget for other accounts from the same address).
//
// Memory is bounded: at most `max_keys` keys; the least recently failed key is forgotten
// first. State is per process (aloftd instances behind a load balancer each count their own).
// Thread-safe (one mutex). Time comes from Clock::Monotonic(), so a wall-clock step neither
// locks anyone out nor lets anyone in.

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/time.hpp"

namespace aloft::server::operators {

struct ThrottlePolicy {
  double burst = 5;                        // failures allowed back to back
  std::chrono::seconds forgive_every{60};  // one failure forgotten per interval
  std::size_t max_keys = 100000;
};

class LoginThrottle {
 public:
  // `clock` must outlive the throttle. burst >= 1 and forgive_every > 0 are asserted.
  LoginThrottle(const Clock& clock, ThrottlePolicy policy);

  // 0 when `key` may try now; otherwise how long until it may (at least one second).
  std::chrono::seconds RetryAfter(std::string_view key) const;
  // Counts one failure against `key`.
  void RecordFailure(std::string_view key);
  // Forgets `key`'s failures.
  void Clear(std::string_view key);

  std::size_t KeyCountForTest() const;

 private:
  struct Entry {
    double failures = 0;  // after leaking up to `updated`
    std::chrono::steady_clock::time_point updated;
    std::list<std::string>::iterator lru;
  };
  double Leaked(const Entry& e, std::chrono::steady_clock::time_point now) const;

  const Clock& clock_;
  const ThrottlePolicy policy_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;  // front = most recent failure
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace aloft::server::operators
