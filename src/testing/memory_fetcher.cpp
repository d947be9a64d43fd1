#include "testing/memory_fetcher.hpp"

#include <algorithm>

namespace aloft::testing {

void MemoryFetcher::Set(std::string url, Bytes body) {
  std::lock_guard lock(mutex_);
  bodies_[std::move(url)] = std::move(body);
}

void MemoryFetcher::Remove(const std::string& url) {
  std::lock_guard lock(mutex_);
  bodies_.erase(url);
}

void MemoryFetcher::SetError(std::string url, Error error) {
  std::lock_guard lock(mutex_);
  errors_.insert_or_assign(std::move(url), std::move(error));
}

void MemoryFetcher::ClearError(const std::string& url) {
  std::lock_guard lock(mutex_);
  errors_.erase(url);
}

Status MemoryFetcher::Fetch(const std::string& url, std::size_t max_bytes, core::io::Writer& sink) {
  Bytes body;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(url);
    if (const auto error = errors_.find(url); error != errors_.end()) {
      return Fail(error->second);
    }
    const auto found = bodies_.find(url);
    if (found == bodies_.end()) return Fail(Errc::kNotFound, "HTTP 404 from " + url);
    if (found->second.size() > max_bytes) {
      return Fail(Errc::kTooLarge, url + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    body = found->second;  // copied so the sink runs without the lock held
  }
  const ByteView view(body);
  for (std::size_t at = 0; at < view.size(); at += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, view.size() - at);
    if (auto written = sink.Write(view.subspan(at, n)); !written) return written;
  }
  return Ok();
}

std::vector<std::string> MemoryFetcher::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void MemoryFetcher::ClearRequests() {
  std::lock_guard lock(mutex_);
  requests_.clear();
}

}  // namespace aloft::testing
