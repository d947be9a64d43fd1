#pragma once

// A file or block device mapped read-only: large inputs (images a delta is computed between,
// the running slot a delta is applied to) read through the page cache, without a heap copy.
// The pages are the kernel's and reclaimable, so a 512 MiB image does not need 512 MiB of
// memory.

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::platform::posix {

class MappedFile {
 public:
  // Maps all of `path` (for a block device, up to where its end is). kNotFound when missing,
  // kTooLarge beyond the address space, kIo otherwise. An empty file maps to an empty view.
  static Result<MappedFile> Open(const std::filesystem::path& path);
  // Maps the first `length` bytes; kInvalidArgument, naming both sizes, when `path` is shorter.
  static Result<MappedFile> OpenPrefix(const std::filesystem::path& path, std::uint64_t length);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  ByteView bytes() const noexcept { return {static_cast<const std::uint8_t*>(data_), size_}; }

  // Tells the kernel the bytes will be read front to back (more read-ahead). Advisory.
  void AdviseSequential() const noexcept;

 private:
  MappedFile(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  static Result<MappedFile> Map(const std::filesystem::path& path,
                                const std::uint64_t* prefix_length);
  void Unmap() noexcept;

  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace aloft::platform::posix
