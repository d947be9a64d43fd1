#include "server/http/rate_limiter.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>
#include <vector>

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
    if (buckets_.size() >= limit_.max_keys) MakeRoom(now);
    it = buckets_.emplace(key, Bucket{limit_.capacity, now}).first;
  } else {
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

void RateLimiter::MakeRoom(std::chrono::steady_clock::time_point now) {
  // A bucket that has refilled to capacity carries no state: dropping it changes no decision.
  const auto seconds_to_fill = [this](const Bucket& b) {
    return (limit_.capacity - b.tokens) / limit_.refill_per_second;
  };
  std::erase_if(buckets_, [&](const auto& entry) {
    const std::chrono::duration<double> elapsed = now - entry.second.updated;
    return elapsed.count() >= seconds_to_fill(entry.second);
  });
  if (buckets_.size() < limit_.max_keys) return;
  // More than max_keys keys busy at once: drop the least recently used quarter (at least one),
  // so that the next sweep is max_keys / 4 new keys away.
  using Entry = decltype(buckets_)::iterator;
  std::vector<std::pair<std::chrono::steady_clock::time_point, Entry>> by_age;
  by_age.reserve(buckets_.size());
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
    by_age.emplace_back(it->second.updated, it);
  }
  const std::size_t drop = std::max<std::size_t>(1, limit_.max_keys / 4);
  const auto oldest_end = by_age.begin() + static_cast<std::ptrdiff_t>(drop);
  std::nth_element(by_age.begin(), oldest_end - 1, by_age.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Erasing one element leaves the iterators to the others valid.
  for (auto it = by_age.begin(); it != oldest_end; ++it) buckets_.erase(it->second);
}

std::size_t RateLimiter::KeyCountForTest() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace aloft::server::http
