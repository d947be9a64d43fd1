#include "platform/posix/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::platform::posix {

Result<MappedFile> MappedFile::Open(const std::filesystem::path& path) {
  return Map(path, nullptr);
}

Result<MappedFile> MappedFile::OpenPrefix(const std::filesystem::path& path,
                                          std::uint64_t length) {
  return Map(path, &length);
}

Result<MappedFile> MappedFile::Map(const std::filesystem::path& path,
                                   const std::uint64_t* prefix_length) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, path.string() + " does not exist");
    return Fail(ErrnoError(errno, "open", path));
  }
  // Where the end is: st_size for a file, and the only way for a block device.
  const off_t end = ::lseek(fd.get(), 0, SEEK_END);
  if (end < 0) return Fail(ErrnoError(errno, "size of", path));
  const auto size = static_cast<std::uint64_t>(end);
  const std::uint64_t length = prefix_length != nullptr ? *prefix_length : size;
  if (size < length) {
    return Fail(Errc::kInvalidArgument, path.string() + " holds " + std::to_string(size) +
                                            " bytes, fewer than " + std::to_string(length));
  }
  if (length == 0) return MappedFile(nullptr, 0);
  if (length > SIZE_MAX) return Fail(Errc::kTooLarge, path.string() + " is too large to map");
  void* data = ::mmap(nullptr, static_cast<std::size_t>(length), PROT_READ, MAP_SHARED, fd.get(), 0);
  if (data == MAP_FAILED) return Fail(ErrnoError(errno, "map", path));
  return MappedFile(data, static_cast<std::size_t>(length));
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Unmap();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() { Unmap(); }

void MappedFile::AdviseSequential() const noexcept {
  if (data_ != nullptr) (void)::madvise(data_, size_, MADV_SEQUENTIAL);
}

void MappedFile::Unmap() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace aloft::platform::posix
