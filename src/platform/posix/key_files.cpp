#include "platform/posix/key_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "core/base/bytes.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::platform::posix {

Status SavePrivateKeyFile(const std::filesystem::path& path, std::string_view pem) {
  return AtomicWriteFile(path, AsBytes(pem), 0600);
}

Result<std::string> ReadPrivateKeyFile(const std::filesystem::path& path) {
  int raw_fd;
  do {
    raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } while (raw_fd < 0 && errno == EINTR);
  UniqueFd fd(raw_fd);
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT)
      return Fail(Errc::kNotFound, "key file " + path.string() + " does not exist");
    return Fail(ErrnoError(err, "open key file", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return Fail(ErrnoError(errno, "stat key file", path));
  if (!S_ISREG(st.st_mode)) {
    return Fail(Errc::kInvalidArgument, "key file " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    // Four octal digits, as chmod takes them: "0644".
    std::string mode(4, '0');
    for (std::size_t i = 0; i < mode.size(); ++i) {
      mode[mode.size() - 1 - i] = static_cast<char>('0' + ((st.st_mode >> (3 * i)) & 07));
    }
    return Fail(Errc::kInvalidArgument, "key file " + path.string() +
                                            " is accessible by group or others (mode " + mode +
                                            "); chmod 600 it");
  }
  auto bytes = ReadAllFromFd(fd.get(), path, kMaxKeyFileBytes);
  if (!bytes) return Fail(std::move(bytes).error());
  return ToString(*bytes);
}

}  // namespace aloft::platform::posix
