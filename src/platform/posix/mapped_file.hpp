#pragma once

// A whole file mapped read-only: large inputs (images a delta is computed between) read
// through the page cache, without a heap copy. The pages are the kernel's and reclaimable.

#include <cstddef>
#include <filesystem>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::platform::posix {

class MappedFile {
 public:
  // Maps all of `path`. kNotFound when missing, kTooLarge beyond the address space, kIo
  // otherwise. An empty file maps to an empty view.
  static Result<MappedFile> Open(const std::filesystem::path& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  ByteView bytes() const noexcept { return {static_cast<const std::uint8_t*>(data_), size_}; }

 private:
  MappedFile(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  void Unmap() noexcept;

  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace aloft::platform::posix
