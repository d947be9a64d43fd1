#pragma once

// A file opened for positional I/O that bypasses the page cache where it can.
//
// Opened O_DIRECT where the file system allows it: aligned chunks go between the caller's buffer
// and the medium with no page-cache copy. On a 256 MiB install, filling fresh page-cache pages
// cost ~0.5 s of system CPU (more than decompressing the image) and reading them back as much
// again; direct I/O costs under 0.1 s each way, and leaves a small device's cache alone. The
// agent writes and re-reads its slots this way, and spools downloads this way.
// What O_DIRECT refuses goes on buffered: an unaligned length (an image's tail), a file system
// that accepts O_DIRECT at open and refuses it on read or write (EINVAL), or none at all.
//
// Positional I/O only, so a BackgroundJob may run one call at a time on another thread.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::platform::posix {

// errno of an operation on `path` as an Error: kNotFound (ENOENT), kNoSpace (ENOSPC, EDQUOT,
// EFBIG), else kIo.
Error FileError(int err, std::string_view what, const std::filesystem::path& path);

// An aligned_alloc'ed buffer of `size` bytes (a multiple of DirectFile::kAlignment); null when
// out of memory.
struct FreeDeleter {
  void operator()(std::uint8_t* p) const noexcept { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::uint8_t, FreeDeleter>;
AlignedBuffer AllocateAligned(std::size_t size);

class DirectFile {
 public:
  static constexpr std::size_t kAlignment = 4096;
  // kNever: plain buffered I/O (what a file system without O_DIRECT gets; tests use it).
  enum class DirectIo { kWhereSupported, kNever };

  // open(2) of `path` with `flags` (+ O_DIRECT where allowed) and `mode`.
  static Result<DirectFile> Open(const std::filesystem::path& path, int flags, mode_t mode = 0600,
                                 DirectIo direct = DirectIo::kWhereSupported);

  // Writes all of `data` at `offset`. Direct when `data` is a whole number of blocks from an
  // aligned buffer and offset; otherwise (a tail) O_DIRECT is dropped for good.
  Status WriteAt(ByteView data, std::uint64_t offset);
  // Reads up to `size` bytes at `offset` into `buffer` (aligned, `size` a whole number of
  // blocks); 0 at the end of the file.
  Result<std::size_t> ReadAt(std::uint8_t* buffer, std::size_t size, std::uint64_t offset);

  int fd() const noexcept { return fd_.get(); }
  bool direct() const noexcept { return direct_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  int Close() { return fd_.Close(); }

 private:
  DirectFile() = default;
  Status StopDirect();

  std::filesystem::path path_;
  UniqueFd fd_;
  bool direct_ = false;
};

}  // namespace aloft::platform::posix
