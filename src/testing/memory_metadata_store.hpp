#pragma once

// An in-memory MetadataStore for unit tests, with a switch to make Store fail.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/metadata/metadata_store.hpp"

namespace aloft::testing {

// Thread-safe.
class MemoryMetadataStore final : public core::metadata::MetadataStore {
 public:
  using Map = std::map<std::string, Bytes, std::less<>>;

  Result<std::optional<Bytes>> Load(std::string_view role) override;
  Status Store(std::string_view role, ByteView bytes) override;
  Status Remove(std::string_view role) override;

  // A copy of everything stored, by role.
  Map Contents() const;
  // While set, every Store fails with `error` and changes nothing (a full or broken disk).
  void SetStoreError(std::optional<Error> error);

 private:
  mutable std::mutex mutex_;
  Map roles_;
  std::optional<Error> store_error_;
};

}  // namespace aloft::testing
