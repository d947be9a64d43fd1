#include "testing/memory_metadata_store.hpp"

namespace aloft::testing {

Result<std::optional<Bytes>> MemoryMetadataStore::Load(std::string_view role) {
  std::lock_guard lock(mutex_);
  const auto found = roles_.find(role);
  if (found == roles_.end()) return std::optional<Bytes>();
  return std::optional<Bytes>(found->second);
}

Status MemoryMetadataStore::Store(std::string_view role, ByteView bytes) {
  std::lock_guard lock(mutex_);
  if (store_error_) return Fail(*store_error_);
  roles_.insert_or_assign(std::string(role), Bytes(bytes.begin(), bytes.end()));
  return Ok();
}

Status MemoryMetadataStore::Remove(std::string_view role) {
  std::lock_guard lock(mutex_);
  if (const auto found = roles_.find(role); found != roles_.end()) roles_.erase(found);
  return Ok();
}

MemoryMetadataStore::Map MemoryMetadataStore::Contents() const {
  std::lock_guard lock(mutex_);
  return roles_;
}

void MemoryMetadataStore::SetStoreError(std::optional<Error> error) {
  std::lock_guard lock(mutex_);
  store_error_ = std::move(error);
}

}  // namespace aloft::testing
