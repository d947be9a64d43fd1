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
#include <vector>

#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"

namespace aloft::agent::slots {
namespace {

namespace posix = platform::posix;

Error SlotError(int err, std::string_view what, const Slot& slot) {
  Error error = posix::ErrnoError(err, what, slot.device);
  if (err == ENOENT) return Error(Errc::kNotFound, error.message());
  if (err == EFBIG) return Error(Errc::kNoSpace, error.message());
  return error;
}

Status PwriteAll(int fd, ByteView data, std::uint64_t offset, const Slot& slot) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(SlotError(errno, "write", slot));
    }
    if (n == 0) return Fail(Errc::kIo, "write " + slot.device.string() + ": wrote 0 bytes");
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Ok();
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
  const int flags = O_WRONLY | O_CLOEXEC | (is_file ? O_CREAT : 0);
  writer.fd_.Reset(posix::OpenRetrying(target.device.c_str(), flags, 0600));
  if (!writer.fd_.valid()) return Fail(SlotError(errno, "open slot", target));

  struct stat st {};
  if (::fstat(writer.fd_.get(), &st) != 0) return Fail(SlotError(errno, "stat", target));
  if (is_file) {
    if (!S_ISREG(st.st_mode)) {
      return Fail(Errc::kInvalidArgument, target.device.string() + " is not a regular file");
    }
    if (image_size > 0) {
      const int rc = ::posix_fallocate(writer.fd_.get(), 0, static_cast<off_t>(image_size));
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
    if (::ioctl(writer.fd_.get(), BLKGETSIZE64, &device_size) != 0) {
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

  void* buffer = std::aligned_alloc(kAlignment, kChunkSize);
  if (buffer == nullptr) return Fail(Errc::kInternal, "out of memory for the slot buffer");
  writer.buffer_.reset(static_cast<std::uint8_t*>(buffer));
  return writer;
}

Status SlotWriter::Write(ByteView data) {
  // Invariant: Write after Finish (or after a move) is a caller bug.
  if (!fd_.valid()) return Fail(Errc::kInternal, "slot writer is closed");
  if (limit_ > 0 && data.size() > limit_ - written()) {
    return Fail(limit_code_, "slot " + slot_.device.string() + ": more than " +
                                 std::to_string(limit_) + " bytes");
  }
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), kChunkSize - fill_);
    std::memcpy(buffer_.get() + fill_, data.data(), n);
    fill_ += n;
    data = data.subspan(n);
    if (fill_ == kChunkSize) {
      if (auto flushed = Flush(); !flushed) return flushed;
    }
  }
  return Ok();
}

Status SlotWriter::Flush() {
  if (fill_ == 0) return Ok();
  if (auto written_ok = PwriteAll(fd_.get(), ByteView(buffer_.get(), fill_), offset_, slot_);
      !written_ok) {
    return written_ok;
  }
  offset_ += fill_;
  fill_ = 0;
  return Ok();
}

Status SlotWriter::Finish() {
  if (!fd_.valid()) return Fail(Errc::kInternal, "slot writer is closed");
  if (auto flushed = Flush(); !flushed) return flushed;
  if (slot_.kind == SlotKind::kFile &&
      ::ftruncate(fd_.get(), static_cast<off_t>(offset_)) != 0) {
    return Fail(SlotError(errno, "truncate", slot_));
  }
  if (posix::FsyncRetrying(fd_.get()) != 0) return Fail(SlotError(errno, "fsync", slot_));
  // Best effort: drop the written range from the page cache so VerifySlot reads the medium.
  (void)::posix_fadvise(fd_.get(), 0, static_cast<off_t>(offset_), POSIX_FADV_DONTNEED);
  if (fd_.Close() != 0) return Fail(SlotError(errno, "close", slot_));
  buffer_.reset();
  return Ok();
}

Status VerifySlot(const Slot& slot, std::uint64_t length, ByteView sha256) {
  posix::UniqueFd fd(posix::OpenRetrying(slot.device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Fail(SlotError(errno, "open slot", slot));
  (void)::posix_fadvise(fd.get(), 0, static_cast<off_t>(length), POSIX_FADV_DONTNEED);

  std::vector<std::uint8_t> buffer(SlotWriter::kChunkSize);
  core::crypto::Hasher hasher(core::crypto::HashAlgorithm::kSha256);
  std::uint64_t done = 0;
  while (done < length) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - done));
    const ssize_t n = ::pread(fd.get(), buffer.data(), want, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(SlotError(errno, "read slot", slot));
    }
    if (n == 0) {
      return Fail(Errc::kVerificationFailed, "slot " + slot.device.string() + " holds " +
                                                 std::to_string(done) + " bytes, expected " +
                                                 std::to_string(length));
    }
    hasher.Update(ByteView(buffer.data(), static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  const Bytes digest = hasher.Finish();
  if (!core::crypto::ConstantTimeEqual(digest, sha256)) {
    return Fail(Errc::kVerificationFailed,
                "slot " + slot.device.string() + ": sha256 of the written image does not match");
  }
  return Ok();
}

}  // namespace aloft::agent::slots
