#include "server/operators/login_throttle.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace aloft::server::operators {

LoginThrottle::LoginThrottle(const Clock& clock, ThrottlePolicy policy)
    : clock_(clock), policy_(policy) {
  assert(policy_.burst >= 1 && policy_.forgive_every.count() > 0 && policy_.max_keys > 0);
}

double LoginThrottle::Leaked(const Entry& e, std::chrono::steady_clock::time_point now) const {
  std::chrono::duration<double> elapsed = now - e.updated;
  double forgiven = elapsed.count() / static_cast<double>(policy_.forgive_every.count());
  return std::max(0.0, e.failures - forgiven);
}

std::chrono::seconds LoginThrottle::RetryAfter(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return std::chrono::seconds(0);
  double failures = Leaked(it->second, clock_.Monotonic());
  // Another attempt is allowed while there is room for one more failure in the bucket.
  if (failures + 1 <= policy_.burst) return std::chrono::seconds(0);
  double wait = (failures + 1 - policy_.burst) * static_cast<double>(policy_.forgive_every.count());
  return std::chrono::seconds(std::max<long long>(1, std::llround(std::ceil(wait))));
}

void LoginThrottle::RecordFailure(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto now = clock_.Monotonic();
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_keys) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(key);
    it = entries_.emplace(lru_.front(), Entry{0, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Entry& e = it->second;
  e.failures = std::min(policy_.burst + 1, Leaked(e, now) + 1);
  e.updated = now;
}

void LoginThrottle::Clear(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::size_t LoginThrottle::KeyCountForTest() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace aloft::server::operators
