#pragma once

// Whole-file reads and crash-safe whole-file writes over POSIX calls (open, write, fsync,
// rename), so that every failure carries the exact errno and path.
//
// Thread-safety: all functions are safe to call concurrently; two concurrent AtomicWriteFile
// calls on the same path leave one of the two contents in place, never a mix.

#include <sys/types.h>

#include <cstddef>
#include <chrono>
#include <filesystem>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/io/writer.hpp"

namespace aloft::platform::posix {

// An Error for a failed system call: kNoSpace for ENOSPC/EDQUOT, kIo otherwise, with a message
// "<what> <path>: <strerror(err)>".
Error ErrnoError(int err, std::string_view what, const std::filesystem::path& path);

// Descriptor-level building blocks, for code that manages its own files (slot images, blob
// uploads) but wants the same EINTR handling and error messages as the functions below.

// open(2), retried while it fails with EINTR. Returns the descriptor, or -1 with errno set.
int OpenRetrying(const char* path, int flags, mode_t mode = 0);

// fsync(2), retried while it fails with EINTR. Returns 0, or -1 with errno set.
int FsyncRetrying(int fd);

// Writes all of `data` to `fd`, retrying short writes and EINTR. `path` only names the file in
// error messages: ErrnoError(errno, "write", path), or kIo "write <path>: wrote 0 bytes".
Status WriteAll(int fd, ByteView data, const std::filesystem::path& path);

// Reads the whole file at `path`. Errors:
//   kNotFound  the file (or a parent directory) does not exist
//   kTooLarge  the file holds more than `max_bytes` bytes (checked while reading, so a file
//              that grows under us is still cut off)
//   kIo        anything else (permission, a directory, read error), with strerror and path
Result<Bytes> ReadFile(const std::filesystem::path& path, std::size_t max_bytes);

// Reads everything left in the open descriptor `fd`, failing with kTooLarge past `max_bytes`.
// `path` only names the file in error messages. Does not close `fd`.
Result<Bytes> ReadAllFromFd(int fd, const std::filesystem::path& path, std::size_t max_bytes);

// A file replaced atomically, written as a stream: bytes go to a temporary file beside
// `path`, and only Commit() makes them the file's content. After a crash or power loss the
// file holds either the old or the new bytes, never a mix:
//   1. Create: "<dir>/.<name>.tmp-<random>" with O_EXCL and permissions exactly `mode`
//      (never more permissive than `mode` at any instant, whatever the umask)
//   2. Write, any number of times (a failed write aborts)
//   3. Commit: fsync, close, rename over `path`, fsync the directory
// Destroying an uncommitted writer removes the temporary file, so a caller that returns early
// on an error leaves nothing behind. The temporary name never ends in ".json", so scans for
// "*.json" never see it. Errors are kIo (kNoSpace when the disk is full); the old file at
// `path` is untouched by any failure. The parent directory must exist. Movable, not copyable.
class AtomicFileWriter final : public core::io::Writer {
 public:
  static Result<AtomicFileWriter> Create(const std::filesystem::path& path, mode_t mode = 0644);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter() override;

  Status Write(ByteView data) override;
  Status Commit();

 private:
  AtomicFileWriter() = default;
  void Abort() noexcept;

  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

// Replaces the file at `path` with `data` through an AtomicFileWriter.
Status AtomicWriteFile(const std::filesystem::path& path, ByteView data, mode_t mode = 0644);

// fsyncs the directory `dir`, making a rename or unlink inside it durable. A file system that
// cannot fsync directories (EINVAL) counts as success.
Status FsyncDirectory(const std::filesystem::path& dir);

// Renames `from` over `to` (same directory or file system) and fsyncs `to`'s directory, so
// the rename survives a power cut. kNotFound when `from` does not exist.
Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to);

// The time `path` was last modified. kNotFound when it does not exist.
Result<std::chrono::sys_seconds> ModifiedTime(const std::filesystem::path& path);

// Creates `path` and any missing parents (like mkdir -p), then sets `path` itself to 0700.
// Fails with kIo if `path` exists but is not a directory.
Status EnsurePrivateDirectory(const std::filesystem::path& path);

}  // namespace aloft::platform::posix
