#include "server/http/rate_limiter.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace aloft::server::http {

RateLimiter::RateLimiter(const Clock& clock, RateLimit limit) : clock_(clock), limit_(limit) {
  assert(limit_.capacity >= 1 && "a bucket must hold at least one request");
  assert(limit_.refill_per_second > 0 && "a bucket that never refills blocks a key forever");
  assert(limit_.max_keys >= 1);
}

RateDecision RateLimiter::Take(std::string_view key) {
  const auto now = clock_.Monotonic();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    while (buckets_.size() >= limit_.max_keys) {
      // Drop the least recently used key: it has had the longest to refill, so it is the one
      // most likely to be full anyway.
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(key);
    it = buckets_.emplace(lru_.front(), Bucket{limit_.capacity, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    std::chrono::duration<double> elapsed = now - it->second.updated;
    if (elapsed.count() > 0) {
      it->second.tokens =
          std::min(limit_.capacity, it->second.tokens + elapsed.count() * limit_.refill_per_second);
      it->second.updated = now;
    }
  }
  Bucket& bucket = it->second;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  double wait = (1 - bucket.tokens) / limit_.refill_per_second;
  auto seconds = static_cast<std::int64_t>(std::ceil(wait));
  return RateDecision{false, std::chrono::seconds(std::max<std::int64_t>(1, seconds))};
}

std::size_t RateLimiter::KeyCountForTest() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace aloft::server::http
