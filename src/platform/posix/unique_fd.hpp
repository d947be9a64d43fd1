#pragma once

// RAII owner of a POSIX file descriptor: the descriptor is closed exactly once, when the owner
// goes out of scope, unless Release() hands it on. Movable, not copyable.

#include <unistd.h>

#include <utility>

namespace aloft::platform::posix {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }

  // Gives up ownership without closing.
  int Release() noexcept { return std::exchange(fd_, -1); }

  // Closes the current descriptor (errors ignored: callers that care about close() errors,
  // such as writers before a rename, call Close() instead) and takes `fd`.
  void Reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

  // Closes now and reports close()'s result: 0, or -1 with errno set. Never retried on EINTR:
  // on Linux the descriptor is gone either way.
  int Close() noexcept {
    const int fd = Release();
    return fd >= 0 ? ::close(fd) : 0;
  }

 private:
  int fd_ = -1;
};

}  // namespace aloft::platform::posix
