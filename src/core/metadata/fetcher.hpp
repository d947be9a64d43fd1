#pragma once

// How the TUF client reaches a repository. The core owns the interface; libcurl implements it
// in platform/http and an in-memory fake implements it in testing/. Every call carries a byte
// cap, so a hostile server cannot feed endless data (TUF's endless-data attack).

#include <cstddef>
#include <string>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"

namespace aloft::core::metadata {

class Fetcher {
 public:
  virtual ~Fetcher() = default;

  // Streams the body at `url` into `sink`. Errors:
  //   kNotFound     the server answered 403 or 404 (the root chain stops here, and only here)
  //   kTooLarge     more than `max_bytes` arrived or were announced; the transfer is cut
  //   kTimeout      the transfer stalled or ran slower than the implementation's minimum rate
  //                 (TUF's slow-retrieval attack)
  //   kUnavailable  anything else: refused connection, TLS failure, other HTTP status
  // A sink error ends the transfer and is returned unchanged.
  virtual Status Fetch(const std::string& url, std::size_t max_bytes, io::Writer& sink) = 0;
};

// Fetches into memory.
Result<Bytes> FetchBytes(Fetcher& fetcher, const std::string& url, std::size_t max_bytes);

}  // namespace aloft::core::metadata
