#pragma once

// An in-memory Fetcher for unit tests: URLs map to bodies, and every request is recorded so a
// test can assert the exact order in which the client asked for files.

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"
#include "core/metadata/fetcher.hpp"

namespace aloft::testing {

// Thread-safe. Fetch order of checks: forced error, then missing (kNotFound), then size
// (kTooLarge, nothing written), then the body goes to the sink in chunks of kChunkBytes.
class MemoryFetcher final : public core::metadata::Fetcher {
 public:
  // Bodies are delivered in pieces this large, so sinks see more than one Write.
  static constexpr std::size_t kChunkBytes = 16 * 1024;

  void Set(std::string url, Bytes body);
  void Remove(const std::string& url);
  // Every later Fetch of `url` fails with `error` (even if a body is set), until ClearError.
  void SetError(std::string url, Error error);
  void ClearError(const std::string& url);

  Status Fetch(const std::string& url, std::size_t max_bytes, core::io::Writer& sink) override;

  // URLs passed to Fetch so far, in order (including failed ones).
  std::vector<std::string> requests() const;
  void ClearRequests();

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Bytes, std::less<>> bodies_;
  std::map<std::string, Error, std::less<>> errors_;
  std::vector<std::string> requests_;
};

}  // namespace aloft::testing
