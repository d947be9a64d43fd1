#include "platform/posix/files.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <string>
#include <system_error>

#include "platform/posix/unique_fd.hpp"

namespace aloft::platform::posix {
namespace {

constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
constexpr int kTempAttempts = 16;

// ENOSPC and EDQUOT both mean "free some space", which the caller handles differently from
// a broken disk.
bool IsNoSpace(int err) { return err == ENOSPC || err == EDQUOT; }

// 16 hex digits from getrandom(); if the kernel cannot give randomness right now (very early
// boot), fall back to pid + counter: O_EXCL makes any collision a retry, not a clobber.
std::string RandomSuffix() {
  std::uint64_t value = 0;
  if (::getrandom(&value, sizeof value, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof value)) {
    static std::atomic<std::uint64_t> counter{0};
    value = (static_cast<std::uint64_t>(::getpid()) << 32) ^ counter.fetch_add(1);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = kHex[(value >> (4 * i)) & 0xF];
  }
  return out;
}

}  // namespace

Error ErrnoError(int err, std::string_view what, const std::filesystem::path& path) {
  std::string message(what);
  message += ' ';
  message += path.string();
  message += ": ";
  message += std::generic_category().message(err);
  return Error(IsNoSpace(err) ? Errc::kNoSpace : Errc::kIo, std::move(message));
}

int OpenRetrying(const char* path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Status WriteAll(int fd, ByteView data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError(errno, "write", path));
    }
    // write() never returns 0 for a non-empty regular-file write, but a zero would loop
    // forever here, so treat it as an I/O error.
    if (n == 0) return Fail(Errc::kIo, "write " + path.string() + ": wrote 0 bytes");
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return Ok();
}

int FsyncRetrying(int fd) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

Status FsyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(OpenRetrying(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Fail(ErrnoError(errno, "open directory", dir));
  // Some file systems refuse fsync on a directory (EINVAL); there is nothing better to do
  // there, and the rename itself has happened.
  if (FsyncRetrying(fd.get()) < 0 && errno != EINVAL) {
    return Fail(ErrnoError(errno, "fsync directory", dir));
  }
  return Ok();
}

Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, from.string() + " does not exist");
    return Fail(ErrnoError(errno, "rename to " + to.string(), from));
  }
  return FsyncDirectory(to.has_parent_path() ? to.parent_path() : std::filesystem::path("."));
}

Result<std::chrono::sys_seconds> ModifiedTime(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, path.string() + " does not exist");
    return Fail(ErrnoError(errno, "stat", path));
  }
  return std::chrono::sys_seconds(std::chrono::seconds(st.st_mtim.tv_sec));
}

Result<Bytes> ReadAllFromFd(int fd, const std::filesystem::path& path, std::size_t max_bytes) {
  Bytes out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    if (size > max_bytes) {
      return Fail(Errc::kTooLarge, path.string() + " is " + std::to_string(size) +
                                       " bytes, more than the limit of " +
                                       std::to_string(max_bytes));
    }
    out.reserve(static_cast<std::size_t>(size));
  }
  for (;;) {
    // Ask for one byte past the limit so that "exactly max_bytes" and "more" differ.
    const std::size_t room = max_bytes - out.size();
    const std::size_t want = room < kReadChunk ? room + 1 : kReadChunk;
    const std::size_t old_size = out.size();
    out.resize(old_size + want);
    const ssize_t n = ::read(fd, out.data() + old_size, want);
    if (n < 0) {
      out.resize(old_size);
      if (errno == EINTR) continue;
      return Fail(ErrnoError(errno, "read", path));
    }
    out.resize(old_size + static_cast<std::size_t>(n));
    if (n == 0) return out;
    if (out.size() > max_bytes) {
      return Fail(Errc::kTooLarge, path.string() + " holds more than the limit of " +
                                       std::to_string(max_bytes) + " bytes");
    }
  }
}

Result<Bytes> ReadFile(const std::filesystem::path& path, std::size_t max_bytes) {
  UniqueFd fd(OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT) return Fail(Errc::kNotFound, path.string() + " does not exist");
    return Fail(ErrnoError(err, "open", path));
  }
  return ReadAllFromFd(fd.get(), path, max_bytes);
}

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::filesystem::path& path, mode_t mode) {
  const std::filesystem::path name = path.filename();
  if (name.empty() || name == "." || name == "..") {
    return Fail(Errc::kInvalidArgument, "cannot write a file at '" + path.string() + "'");
  }
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";

  // The leading dot hides the file from ls; the suffix keeps "*.json" scans away from it.
  std::filesystem::path temp;
  UniqueFd fd;
  for (int attempt = 0; attempt < kTempAttempts && !fd.valid(); ++attempt) {
    temp = dir / ("." + name.string() + ".tmp-" + RandomSuffix());
    // Created with `mode` (minus umask) from the first instant, so a 0600 key file is never
    // readable by others, not even briefly.
    fd.Reset(
        OpenRetrying(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd.valid() && errno != EEXIST) return Fail(ErrnoError(errno, "create", temp));
  }
  if (!fd.valid()) return Fail(ErrnoError(EEXIST, "create", temp));
  // open() applied the umask; set the exact mode. Only ever narrows or equals `mode`.
  if (::fchmod(fd.get(), mode) < 0) {
    Error error = ErrnoError(errno, "chmod", temp);
    ::unlink(temp.c_str());
    return Fail(std::move(error));
  }
  AtomicFileWriter writer;
  writer.path_ = path;
  writer.temp_ = std::move(temp);
  writer.fd_ = fd.Release();
  return writer;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
  if (this != &other) {
    Abort();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() { Abort(); }

void AtomicFileWriter::Abort() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
}

Status AtomicFileWriter::Write(ByteView data) {
  if (fd_ < 0) return Fail(Errc::kInternal, "write after commit or abort: " + path_.string());
  Status s = WriteAll(fd_, data, temp_);
  if (!s) Abort();
  return s;
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return Fail(Errc::kInternal, "commit after commit or abort: " + path_.string());
  Status s = Ok();
  if (FsyncRetrying(fd_) < 0) s = Fail(ErrnoError(errno, "fsync", temp_));
  if (s) {
    int rc = ::close(std::exchange(fd_, -1));
    if (rc < 0) s = Fail(ErrnoError(errno, "close", temp_));
  }
  if (s && ::rename(temp_.c_str(), path_.c_str()) < 0) {
    s = Fail(ErrnoError(errno, "rename " + temp_.string() + " to", path_));
  }
  if (!s) {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    ::unlink(temp_.c_str());
    return s;
  }
  std::filesystem::path dir = path_.parent_path();
  return FsyncDirectory(dir.empty() ? std::filesystem::path(".") : dir);
}

Status AtomicWriteFile(const std::filesystem::path& path, ByteView data, mode_t mode) {
  auto writer = AtomicFileWriter::Create(path, mode);
  if (!writer) return Fail(writer.error());
  if (Status s = writer->Write(data); !s) return s;
  return writer->Commit();
}

Status EnsurePrivateDirectory(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Fail(ErrnoError(ec.value(), "create directory", path));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return Fail(ErrnoError(errno, "stat", path));
  if (!S_ISDIR(st.st_mode)) {
    return Fail(Errc::kIo, path.string() + " exists and is not a directory");
  }
  if (::chmod(path.c_str(), 0700) < 0) return Fail(ErrnoError(errno, "chmod 0700", path));
  return Ok();
}

}  // namespace aloft::platform::posix
