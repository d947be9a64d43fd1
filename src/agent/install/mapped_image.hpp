#pragma once

// The running slot, mapped read-only: the source a delta is applied to. The mapping costs no
// heap; its pages are the kernel's page cache, read on demand and reclaimable, so a 512 MiB
// source does not need 512 MiB of memory (platform::posix::MappedFile).

#include <cstdint>

#include "agent/slots/slot.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "platform/posix/mapped_file.hpp"

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

  ByteView bytes() const noexcept { return file_.bytes(); }

 private:
  explicit MappedImage(platform::posix::MappedFile file) noexcept : file_(std::move(file)) {}

  platform::posix::MappedFile file_;
};

}  // namespace aloft::agent::install
