#pragma once

// A slot's open file, for positional I/O that bypasses the page cache where it can.
//
// Opened O_DIRECT where the file system allows it: aligned chunks go between our buffer and the
// medium with no page-cache copy. On a 256 MiB install, filling fresh page-cache pages cost
// ~0.5 s of system CPU (more than decompressing the image) and reading them back as much
// again; direct I/O costs under 0.1 s each way, and leaves a small device's cache alone.
// What O_DIRECT refuses goes on buffered: an unaligned length (the image's tail), a file system
// that accepts O_DIRECT at open and refuses it on read or write (EINVAL), or none at all.
//
// Positional I/O only, so a BackgroundJob may run one call at a time on another thread.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "agent/slots/slot.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::agent::slots {

// errno of an operation on `slot` as an Error (kNotFound, kNoSpace, else kIo).
Error SlotError(int err, std::string_view what, const Slot& slot);

// An aligned_alloc'ed buffer of `size` bytes (a multiple of SlotFile::kAlignment); null when
// out of memory.
struct FreeDeleter {
  void operator()(std::uint8_t* p) const noexcept { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::uint8_t, FreeDeleter>;
AlignedBuffer AllocateAligned(std::size_t size);

class SlotFile {
 public:
  static constexpr std::size_t kAlignment = 4096;
  // kNever: plain buffered I/O (what a file system without O_DIRECT gets; tests use it).
  enum class DirectIo { kWhereSupported, kNever };

  // open(2) of slot.device with `flags` (+ O_DIRECT where allowed) and `mode`.
  static Result<SlotFile> Open(const Slot& slot, int flags, mode_t mode = 0600,
                               DirectIo direct = DirectIo::kWhereSupported);

  // Writes all of `data` at `offset`. Direct when `data` is a whole number of blocks from an
  // aligned buffer and offset; otherwise (the tail) O_DIRECT is dropped for good.
  Status WriteAt(ByteView data, std::uint64_t offset);
  // Reads up to `size` bytes at `offset` into `buffer` (aligned, `size` a whole number of
  // blocks); 0 at the end of the file.
  Result<std::size_t> ReadAt(std::uint8_t* buffer, std::size_t size, std::uint64_t offset);

  int fd() const noexcept { return fd_.get(); }
  bool direct() const noexcept { return direct_; }
  const Slot& slot() const noexcept { return slot_; }
  int Close() { return fd_.Close(); }

 private:
  SlotFile() = default;
  Status StopDirect();

  Slot slot_;
  platform::posix::UniqueFd fd_;
  bool direct_ = false;
};

}  // namespace aloft::agent::slots
