#pragma once

// For the install tests: an ArtifactSource that pushes `data` in odd-sized chunks, as a network
// would, and sets `*pulled` when the installer asks it for bytes. `data` must outlive it.

#include <algorithm>
#include <cstddef>

#include "agent/install/installer.hpp"

namespace aloft::agent::install {

inline ArtifactSource ChunkedSource(const Bytes& data, std::size_t chunk = 65521,
                                    bool* pulled = nullptr) {
  return [&data, chunk, pulled](core::io::Writer& sink) -> Status {
    if (pulled != nullptr) *pulled = true;
    ByteView rest = data;
    while (!rest.empty()) {
      const std::size_t n = std::min(chunk, rest.size());
      if (auto ok = sink.Write(rest.first(n)); !ok) return ok;
      rest = rest.subspan(n);
    }
    return Ok();
  };
}

}  // namespace aloft::agent::install
