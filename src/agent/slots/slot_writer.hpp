#pragma once

// Writing an image into the inactive slot, and reading it back to check it.
//
// Memory: kBufferCount kChunkSize buffers (2 × 512 KiB, aligned) per SlotWriter and as many for
// VerifySlot, never both at once; nothing grows with the image.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/slots/slot.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"
#include "platform/posix/background_job.hpp"
#include "platform/posix/direct_file.hpp"

namespace aloft::agent::slots {

// Streams bytes into a slot from offset 0 in whole kChunkSize writes (the last one may be
// short), so the device sees large aligned writes whatever sizes the producer pushes. Writes go
// straight to the medium where the file system allows (platform::posix::DirectFile: O_DIRECT) and are double
// buffered: while one chunk is being written on a worker thread, the producer fills the other,
// so decompression overlaps the device's write time. A failed write surfaces on a later
// Write() or on Finish().
//   block device: opened O_WRONLY (never truncated or created); an image larger than the
//                 device is kNoSpace up front (or on the write that crosses the end)
//   regular file: created 0600 if missing, preallocated to `image_size` when given (kNoSpace
//                 if the disk cannot hold it), truncated to the bytes written by Finish()
// Bytes reach the medium only through Finish(), which flushes, fsyncs and closes; destroying an
// unfinished writer closes the slot without fsync (its contents are then unspecified, which is
// harmless: the bootloader does not point at an inactive slot). Not thread-safe.
class SlotWriter final : public core::io::InPlaceWriter {
 public:
  static constexpr std::size_t kChunkSize = std::size_t{512} << 10;
  static constexpr std::size_t kBufferCount = 2;
  static constexpr std::size_t kBufferBytes = kChunkSize * kBufferCount;
  static constexpr std::size_t kAlignment = platform::posix::DirectFile::kAlignment;

  // Opens `target` for writing. Refuses the running slot (target.id == booted) with
  // kInvalidArgument: the invariant that keeps the device bootable. `image_size` (0: unknown)
  // also caps the stream: more bytes than that fail with kTooLarge.
  static Result<SlotWriter> Open(const Slot& target, SlotId booted, std::uint64_t image_size);

  Status Write(ByteView data) override;
  // The free rest of the chunk being filled (a decompressor writes there directly).
  Result<std::span<std::uint8_t>> Space() override;
  Status Commit(std::size_t n) override;
  // Writes the buffered tail, waits for every write, truncates a file slot to the bytes
  // written, fsyncs and closes. Must be called once, after the last Write; no Write afterwards.
  Status Finish();
  std::uint64_t written() const noexcept { return offset_ + fill_; }

 private:
  SlotWriter() = default;
  Status CheckRoom(std::size_t n) const;  // open, and n more bytes within the limit
  Status Flush();  // hands the current buffer to the worker and switches to the other one

  Slot slot_;
  // Heap-held so their addresses survive moving the writer (the worker uses them).
  std::unique_ptr<platform::posix::DirectFile> file_;
  std::array<platform::posix::AlignedBuffer, kBufferCount> buffers_;
  std::size_t current_ = 0;      // the buffer being filled
  std::size_t fill_ = 0;         // bytes waiting in buffers_[current_]
  std::uint64_t offset_ = 0;     // bytes handed to the worker (written, or being written)
  std::uint64_t limit_ = 0;      // most bytes this stream may hold (0: none beyond the device)
  Errc limit_code_ = Errc::kTooLarge;
  // Last member: destroyed first, so a running write finishes before its buffer is freed.
  std::unique_ptr<platform::posix::BackgroundJob> io_;
};

// Re-reads the first `length` bytes of `slot` (after the writer's fsync, from the medium:
// O_DIRECT where the file system allows, else with the range dropped from the page cache where
// the kernel allows) and checks their SHA-256 against `sha256` (32 raw bytes). The next chunk
// is read on a worker thread while the current one is hashed. kVerificationFailed on a
// mismatch or a slot shorter than `length`; kIo on read errors. Bounded memory: kBufferBytes.
Status VerifySlot(const Slot& slot, std::uint64_t length, ByteView sha256);

}  // namespace aloft::agent::slots
