#include "platform/posix/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::platform::posix {

Result<MappedFile> MappedFile::Open(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, path.string() + " does not exist");
    return Fail(ErrnoError(errno, "open", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Fail(ErrnoError(errno, "stat", path));
  if (st.st_size == 0) return MappedFile(nullptr, 0);
  if (static_cast<std::uint64_t>(st.st_size) > SIZE_MAX) {
    return Fail(Errc::kTooLarge, path.string() + " is too large to map");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (data == MAP_FAILED) return Fail(ErrnoError(errno, "map", path));
  return MappedFile(data, size);
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

void MappedFile::Unmap() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace aloft::platform::posix
