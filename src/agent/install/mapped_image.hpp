#pragma once

// The running slot, mapped read-only: the source a delta is applied to. The mapping costs no
// heap; its pages are the kernel's page cache, read on demand and reclaimable, so a 512 MiB
// source does not need 512 MiB of memory.

#include <cstddef>
#include <cstdint>

#include "agent/slots/slot.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::install {

class MappedImage {
 public:
  // Maps the first `length` bytes of `slot` (a block device or a file) read-only. kNotFound
  // for a missing slot, kVerificationFailed when the slot is shorter than `length` (it cannot
  // hold the image), kIo otherwise.
  static Result<MappedImage> Map(const slots::Slot& slot, std::uint64_t length);

  // Maps and checks that the bytes hash to `sha256` (32 bytes): kVerificationFailed when not.
  static Result<MappedImage> MapVerified(const slots::Slot& slot, std::uint64_t length,
                                         ByteView sha256);

  MappedImage(MappedImage&& other) noexcept;
  MappedImage& operator=(MappedImage&& other) noexcept;
  MappedImage(const MappedImage&) = delete;
  MappedImage& operator=(const MappedImage&) = delete;
  ~MappedImage();

  ByteView bytes() const noexcept { return {static_cast<const std::uint8_t*>(data_), size_}; }

 private:
  MappedImage(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  void Unmap() noexcept;

  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace aloft::agent::install
