#pragma once

// Where a client keeps the metadata it has verified. The core never writes anything itself:
// the updater hands verified bytes to this interface, and only verified bytes.

#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::metadata {

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  // The stored bytes of `role`, or nullopt when there are none.
  virtual Result<std::optional<Bytes>> Load(std::string_view role) = 0;
  // Replaces the bytes of `role` atomically: after a crash either the old or the new bytes
  // are there, never a mix.
  virtual Status Store(std::string_view role, ByteView bytes) = 0;
  // Forgets `role`; succeeds when it was not there.
  virtual Status Remove(std::string_view role) = 0;
};

}  // namespace aloft::core::metadata
