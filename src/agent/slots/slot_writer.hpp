#pragma once

// Writing an image into the inactive slot, and reading it back to check it.
//
// Memory: one kChunkSize buffer (1 MiB, kAlignment-aligned) per SlotWriter, one kChunkSize
// buffer for VerifySlot; nothing grows with the image.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "agent/slots/slot.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::agent::slots {

// Streams bytes into a slot from offset 0 in whole kChunkSize writes (the last one may be
// short), so the device sees large aligned writes whatever sizes the producer pushes.
//   block device: opened O_WRONLY (never truncated or created); an image larger than the
//                 device is kNoSpace up front (or on the write that crosses the end)
//   regular file: created 0600 if missing, preallocated to `image_size` when given (kNoSpace
//                 if the disk cannot hold it), truncated to the bytes written by Finish()
// Bytes reach the medium only through Finish(), which flushes, fsyncs and closes; destroying an
// unfinished writer closes the slot without fsync (its contents are then unspecified, which is
// harmless: the bootloader does not point at an inactive slot). Not thread-safe.
class SlotWriter final : public core::io::Writer {
 public:
  static constexpr std::size_t kChunkSize = std::size_t{1} << 20;
  static constexpr std::size_t kAlignment = 4096;

  // Opens `target` for writing. Refuses the running slot (target.id == booted) with
  // kInvalidArgument: the invariant that keeps the device bootable. `image_size` (0: unknown)
  // also caps the stream: more bytes than that fail with kTooLarge.
  static Result<SlotWriter> Open(const Slot& target, SlotId booted, std::uint64_t image_size);

  Status Write(ByteView data) override;
  // Writes the buffered tail, truncates a file slot to the bytes written, fsyncs and closes.
  // Must be called once, after the last Write; no Write afterwards.
  Status Finish();
  std::uint64_t written() const noexcept { return offset_ + fill_; }

 private:
  struct FreeDeleter {
    void operator()(std::uint8_t* p) const noexcept { std::free(p); }
  };
  SlotWriter() = default;
  Status Flush();

  Slot slot_;
  platform::posix::UniqueFd fd_;
  std::unique_ptr<std::uint8_t, FreeDeleter> buffer_;
  std::size_t fill_ = 0;         // bytes waiting in buffer_
  std::uint64_t offset_ = 0;     // bytes already written to the slot
  std::uint64_t limit_ = 0;      // most bytes this stream may hold (0: none beyond the device)
  Errc limit_code_ = Errc::kTooLarge;
};

// Re-reads the first `length` bytes of `slot` (after the writer's fsync, with the page cache
// for the range dropped where the kernel allows, so the bytes come from the medium) and checks
// their SHA-256 against `sha256` (32 raw bytes). kVerificationFailed on a mismatch or a slot
// shorter than `length`; kIo on read errors. Bounded memory: one kChunkSize buffer.
Status VerifySlot(const Slot& slot, std::uint64_t length, ByteView sha256);

}  // namespace aloft::agent::slots
