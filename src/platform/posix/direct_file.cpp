#include "platform/posix/direct_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "platform/posix/files.hpp"

namespace aloft::platform::posix {

Error FileError(int err, std::string_view what, const std::filesystem::path& path) {
  Error error = ErrnoError(err, what, path);
  if (err == ENOENT) return Error(Errc::kNotFound, error.message());
  if (err == EFBIG) return Error(Errc::kNoSpace, error.message());
  return error;
}

AlignedBuffer AllocateAligned(std::size_t size) {
  return AlignedBuffer(static_cast<std::uint8_t*>(std::aligned_alloc(DirectFile::kAlignment, size)));
}

Result<DirectFile> DirectFile::Open(const std::filesystem::path& path, int flags, mode_t mode,
                                    DirectIo direct) {
  DirectFile file;
  file.path_ = path;
  if (direct == DirectIo::kWhereSupported) {
    file.fd_.Reset(OpenRetrying(path.c_str(), flags | O_DIRECT, mode));
    file.direct_ = file.fd_.valid();
    if (file.direct_) return file;
    // EINVAL: no O_DIRECT on this file system (older tmpfs, some FUSE); go on buffered.
    if (errno != EINVAL) return Fail(FileError(errno, "open", path));
  }
  file.fd_.Reset(OpenRetrying(path.c_str(), flags, mode));
  if (!file.fd_.valid()) return Fail(FileError(errno, "open", path));
  return file;
}

Status DirectFile::StopDirect() {
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0) {
    return Fail(FileError(errno, "fcntl", path_));
  }
  direct_ = false;
  return Ok();
}

Status DirectFile::WriteAt(ByteView data, std::uint64_t offset) {
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
      return Fail(FileError(errno, "write", path_));
    }
    if (n == 0) return Fail(Errc::kIo, "write " + path_.string() + ": wrote 0 bytes");
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
    // A short direct write leaves an unaligned rest: finish it buffered.
    if (!data.empty() && direct_) {
      if (auto ok = StopDirect(); !ok) return ok;
    }
  }
  return Ok();
}

Result<std::size_t> DirectFile::ReadAt(std::uint8_t* buffer, std::size_t size,
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
    return Fail(FileError(errno, "read", path_));
  }
}

}  // namespace aloft::platform::posix
