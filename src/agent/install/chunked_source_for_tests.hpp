#pragma once

// For the install tests: an ArtifactSource that pushes `data` in odd-sized chunks, as a network
// would, sets `*pulled` when the installer asks it for bytes, and counts in `*pushed` the bytes
// the installer accepted. `data` must outlive it.

#include <algorithm>
#include <cstddef>

#include "agent/install/installer.hpp"

namespace aloft::agent::install {

inline ArtifactSource ChunkedSource(const Bytes& data, std::size_t chunk = 65521,
                                    bool* pulled = nullptr, std::size_t* pushed = nullptr) {
  return [&data, chunk, pulled, pushed](core::io::Writer& sink) -> Status {
    if (pulled != nullptr) *pulled = true;
    if (pushed != nullptr) *pushed = 0;
    ByteView rest = data;
    while (!rest.empty()) {
      const std::size_t n = std::min(chunk, rest.size());
      if (auto ok = sink.Write(rest.first(n)); !ok) return ok;
      if (pushed != nullptr) *pushed += n;
      rest = rest.subspan(n);
    }
    return Ok();
  };
}

}  // namespace aloft::agent::install
