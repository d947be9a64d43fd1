#include "agent/slots/slot_writer.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::slots {

namespace posix = platform::posix;

namespace {

// errno of an operation on `slot` as an Error (kNotFound, kNoSpace, else kIo).
Error SlotError(int err, std::string_view what, const Slot& slot) {
  return posix::FileError(err, what, slot.device);
}

}  // namespace

Result<SlotWriter> SlotWriter::Open(const Slot& target, SlotId booted, std::uint64_t image_size) {
  if (target.id == booted) {
    return Fail(Errc::kInvalidArgument, "refusing to write slot " +
                                            std::string(SlotIdName(target.id)) +
                                            ": it is the running slot");
  }
  if (target.device.empty()) return Fail(Errc::kInvalidArgument, "slot has no device path");

  SlotWriter writer;
  writer.slot_ = target;
  writer.limit_ = image_size;
  const bool is_file = target.kind == SlotKind::kFile;
  // Never O_TRUNC: a block device cannot be truncated, and a file slot keeps its preallocated
  // blocks; Finish() sets a file's final length instead.
  auto file = posix::DirectFile::Open(target.device, O_WRONLY | O_CLOEXEC | (is_file ? O_CREAT : 0), 0600);
  if (!file) return Fail(std::move(file).error());
  writer.file_ = std::make_unique<posix::DirectFile>(std::move(*file));
  const int fd = writer.file_->fd();

  struct stat st {};
  if (::fstat(fd, &st) != 0) return Fail(SlotError(errno, "stat", target));
  if (is_file) {
    if (!S_ISREG(st.st_mode)) {
      return Fail(Errc::kInvalidArgument, target.device.string() + " is not a regular file");
    }
    if (image_size > 0) {
      const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(image_size));
      // Some file systems cannot preallocate (EOPNOTSUPP/EINVAL); the writes then allocate.
      if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
        return Fail(SlotError(rc, "preallocate", target));
      }
    }
  } else {
    if (!S_ISBLK(st.st_mode)) {
      return Fail(Errc::kInvalidArgument, target.device.string() + " is not a block device");
    }
    std::uint64_t device_size = 0;
    if (::ioctl(fd, BLKGETSIZE64, &device_size) != 0) {
      return Fail(SlotError(errno, "BLKGETSIZE64", target));
    }
    if (image_size > device_size) {
      return Fail(Errc::kNoSpace, "image of " + std::to_string(image_size) +
                                      " bytes does not fit slot " + target.device.string() +
                                      " (" + std::to_string(device_size) + " bytes)");
    }
    if (image_size == 0) {
      writer.limit_ = device_size;
      writer.limit_code_ = Errc::kNoSpace;
    }
  }

  for (auto& buffer : writer.buffers_) {
    buffer = posix::AllocateAligned(kChunkSize);
    if (!buffer) return Fail(Errc::kInternal, "out of memory for the slot buffers");
  }
  writer.io_ = std::make_unique<posix::BackgroundJob>();
  return writer;
}

Status SlotWriter::Write(ByteView data) {
  if (auto room = CheckRoom(data.size()); !room) return room;
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), kChunkSize - fill_);
    std::memcpy(buffers_[current_].get() + fill_, data.data(), n);
    fill_ += n;
    data = data.subspan(n);
    if (fill_ == kChunkSize) {
      if (auto flushed = Flush(); !flushed) return flushed;
    }
  }
  return Ok();
}

Status SlotWriter::CheckRoom(std::size_t n) const {
  // Invariant: writing after Finish (or after a move) is a caller bug.
  if (!file_) return Fail(Errc::kInternal, "slot writer is closed");
  if (limit_ > 0 && n > limit_ - written()) {
    return Fail(limit_code_, "slot " + slot_.device.string() + ": more than " +
                                 std::to_string(limit_) + " bytes");
  }
  return Ok();
}

Result<std::span<std::uint8_t>> SlotWriter::Space() {
  if (!file_) return Fail(Errc::kInternal, "slot writer is closed");
  if (fill_ == kChunkSize) {
    if (auto flushed = Flush(); !flushed) return Fail(std::move(flushed).error());
  }
  return std::span<std::uint8_t>(buffers_[current_].get() + fill_, kChunkSize - fill_);
}

Status SlotWriter::Commit(std::size_t n) {
  if (auto room = CheckRoom(n); !room) return room;
  if (n > kChunkSize - fill_) return Fail(Errc::kInternal, "commit beyond the lent space");
  fill_ += n;
  if (fill_ == kChunkSize) return Flush();
  return Ok();
}

Status SlotWriter::Flush() {
  if (fill_ == 0) return Ok();
  posix::DirectFile* file = file_.get();
  const ByteView chunk(buffers_[current_].get(), fill_);
  const std::uint64_t offset = offset_;
  // Start() first waits for the write of the other buffer, so it is free to fill next.
  if (auto started = io_->Start([file, chunk, offset] { return file->WriteAt(chunk, offset); });
      !started) {
    return started;
  }
  current_ = (current_ + 1) % kBufferCount;
  offset_ += fill_;
  fill_ = 0;
  return Ok();
}

Status SlotWriter::Finish() {
  if (!file_) return Fail(Errc::kInternal, "slot writer is closed");
  if (auto flushed = Flush(); !flushed) return flushed;
  if (auto written_ok = io_->Wait(); !written_ok) return written_ok;
  const Slot& slot = slot_;
  if (slot.kind == SlotKind::kFile && ::ftruncate(file_->fd(), static_cast<off_t>(offset_)) != 0) {
    return Fail(SlotError(errno, "truncate", slot));
  }
  if (posix::FsyncRetrying(file_->fd()) != 0) return Fail(SlotError(errno, "fsync", slot));
  // Best effort: drop what went through the page cache (a tail, or everything where O_DIRECT
  // is refused) so VerifySlot reads the medium.
  (void)::posix_fadvise(file_->fd(), 0, static_cast<off_t>(offset_), POSIX_FADV_DONTNEED);
  if (file_->Close() != 0) return Fail(SlotError(errno, "close", slot));
  file_.reset();
  for (auto& buffer : buffers_) buffer.reset();
  return Ok();
}

Status VerifySlot(const Slot& slot, std::uint64_t length, ByteView sha256) {
  auto file = posix::DirectFile::Open(slot.device, O_RDONLY | O_CLOEXEC);
  if (!file) return Fail(std::move(file).error());
  if (!file->direct()) {
    (void)::posix_fadvise(file->fd(), 0, static_cast<off_t>(length), POSIX_FADV_DONTNEED);
  }
  std::array<posix::AlignedBuffer, SlotWriter::kBufferCount> buffers;
  for (auto& buffer : buffers) {
    buffer = posix::AllocateAligned(SlotWriter::kChunkSize);
    if (!buffer) return Fail(Errc::kInternal, "out of memory for the verify buffers");
  }
  // Every read asks for a whole chunk at a chunk offset (O_DIRECT needs both); only the first
  // `length` bytes are hashed (a block device goes on past the image). While buffer i is being
  // hashed, the worker reads the next chunk into the other one.
  posix::DirectFile* reader = &*file;
  std::array<std::size_t, SlotWriter::kBufferCount> got{};
  const auto read_into = [&](std::size_t i, std::uint64_t offset) {
    return [reader, buffer = buffers[i].get(), out = &got[i], offset]() -> Status {
      auto n = reader->ReadAt(buffer, SlotWriter::kChunkSize, offset);
      if (!n) return Fail(std::move(n).error());
      *out = *n;
      return Ok();
    };
  };
  core::crypto::Hasher hasher(core::crypto::HashAlgorithm::kSha256);
  posix::BackgroundJob io;  // declared after what its jobs use: it finishes them before they go
  if (length > 0) {
    if (auto ok = io.Start(read_into(0, 0)); !ok) return ok;
  }
  std::uint64_t done = 0;
  for (std::size_t i = 0; done < length; i = (i + 1) % SlotWriter::kBufferCount) {
    if (auto ok = io.Wait(); !ok) return ok;
    const std::size_t n = got[i];
    if (n == 0) {
      return Fail(Errc::kVerificationFailed, "slot " + slot.device.string() + " holds " +
                                                 std::to_string(done) + " bytes, expected " +
                                                 std::to_string(length));
    }
    const auto usable =
        static_cast<std::size_t>(std::min<std::uint64_t>(n, length - done));
    // A short read (the end of a file) is the last one that can bring anything.
    if (done + usable < length && n == SlotWriter::kChunkSize) {
      if (auto ok = io.Start(read_into((i + 1) % SlotWriter::kBufferCount, done + n)); !ok) {
        return ok;
      }
    } else if (done + usable < length) {
      return Fail(Errc::kVerificationFailed, "slot " + slot.device.string() + " holds " +
                                                 std::to_string(done + n) +
                                                 " bytes, expected " + std::to_string(length));
    }
    hasher.Update(ByteView(buffers[i].get(), usable));
    done += usable;
  }
  const Bytes digest = hasher.Finish();
  if (!core::crypto::ConstantTimeEqual(digest, sha256)) {
    return Fail(Errc::kVerificationFailed,
                "slot " + slot.device.string() + ": sha256 of the written image does not match");
  }
  return Ok();
}

}  // namespace aloft::agent::slots
