#include "agent/slots/slot_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "platform/posix/files.hpp"

namespace aloft::agent::slots {

namespace posix = platform::posix;

Error SlotError(int err, std::string_view what, const Slot& slot) {
  Error error = posix::ErrnoError(err, what, slot.device);
  if (err == ENOENT) return Error(Errc::kNotFound, error.message());
  if (err == EFBIG) return Error(Errc::kNoSpace, error.message());
  return error;
}

AlignedBuffer AllocateAligned(std::size_t size) {
  return AlignedBuffer(static_cast<std::uint8_t*>(std::aligned_alloc(SlotFile::kAlignment, size)));
}

Result<SlotFile> SlotFile::Open(const Slot& slot, int flags, mode_t mode, DirectIo direct) {
  SlotFile file;
  file.slot_ = slot;
  if (direct == DirectIo::kWhereSupported) {
    file.fd_.Reset(posix::OpenRetrying(slot.device.c_str(), flags | O_DIRECT, mode));
    file.direct_ = file.fd_.valid();
    if (file.direct_) return file;
    // EINVAL: no O_DIRECT on this file system (older tmpfs, some FUSE); go on buffered.
    if (errno != EINVAL) return Fail(SlotError(errno, "open slot", slot));
  }
  file.fd_.Reset(posix::OpenRetrying(slot.device.c_str(), flags, mode));
  if (!file.fd_.valid()) return Fail(SlotError(errno, "open slot", slot));
  return file;
}

Status SlotFile::StopDirect() {
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0) {
    return Fail(SlotError(errno, "fcntl", slot_));
  }
  direct_ = false;
  return Ok();
}

Status SlotFile::WriteAt(ByteView data, std::uint64_t offset) {
  const auto aligned = [](std::uint64_t v) { return v % kAlignment == 0; };
  if (direct_ && !(aligned(data.size()) && aligned(offset) &&
                   aligned(reinterpret_cast<std::uintptr_t>(data.data())))) {
    if (auto ok = StopDirect(); !ok) return ok;
  }
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      // Accepted O_DIRECT at open, refuses it now: go on buffered.
      if (errno == EINVAL && direct_) {
        if (auto ok = StopDirect(); !ok) return ok;
        continue;
      }
      return Fail(SlotError(errno, "write", slot_));
    }
    if (n == 0) return Fail(Errc::kIo, "write " + slot_.device.string() + ": wrote 0 bytes");
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
    // A short direct write leaves an unaligned rest: finish it buffered.
    if (!data.empty() && direct_) {
      if (auto ok = StopDirect(); !ok) return ok;
    }
  }
  return Ok();
}

Result<std::size_t> SlotFile::ReadAt(std::uint8_t* buffer, std::size_t size,
                                     std::uint64_t offset) {
  for (;;) {
    const ssize_t n = ::pread(fd_.get(), buffer, size, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EINVAL && direct_) {
      if (auto ok = StopDirect(); !ok) return Fail(std::move(ok).error());
      // Buffered from here: drop what the cache holds so the bytes still come from the medium.
      (void)::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_DONTNEED);
      continue;
    }
    return Fail(SlotError(errno, "read slot", slot_));
  }
}

}  // namespace aloft::agent::slots
