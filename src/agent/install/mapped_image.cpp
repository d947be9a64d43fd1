#include "agent/install/mapped_image.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "core/crypto/hash.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::agent::install {
namespace {

Error IoError(const slots::Slot& slot, std::string_view what, int err) {
  return Error(err == ENOENT ? Errc::kNotFound : Errc::kIo,
               std::string(what) + " " + slot.device.string() + ": " + std::strerror(err));
}

}  // namespace

Result<MappedImage> MappedImage::Map(const slots::Slot& slot, std::uint64_t length) {
  if (length == 0) return MappedImage(nullptr, 0);
  platform::posix::UniqueFd fd(::open(slot.device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Fail(IoError(slot, "open", errno));
  // A block device's size is where its end is; a file's is st_size.
  const off_t end = ::lseek(fd.get(), 0, SEEK_END);
  if (end < 0) return Fail(IoError(slot, "size of", errno));
  if (static_cast<std::uint64_t>(end) < length) {
    return Fail(Errc::kVerificationFailed, "slot " + std::string(slots::SlotIdName(slot.id)) +
                                               " holds " + std::to_string(end) +
                                               " bytes, fewer than the " + std::to_string(length) +
                                               " of the image a delta starts from");
  }
  if (length > static_cast<std::uint64_t>(SIZE_MAX)) {
    return Fail(Errc::kTooLarge, "image too large to map");
  }
  void* data =
      ::mmap(nullptr, static_cast<std::size_t>(length), PROT_READ, MAP_SHARED, fd.get(), 0);
  if (data == MAP_FAILED) return Fail(IoError(slot, "map", errno));
  // Read front to back once: tell the kernel, so it reads ahead.
  (void)::madvise(data, static_cast<std::size_t>(length), MADV_SEQUENTIAL);
  return MappedImage(data, static_cast<std::size_t>(length));
}

Result<MappedImage> MappedImage::MapVerified(const slots::Slot& slot, std::uint64_t length,
                                             ByteView sha256) {
  auto mapped = Map(slot, length);
  if (!mapped) return Fail(std::move(mapped).error());
  if (!core::crypto::ConstantTimeEqual(core::crypto::Sha256(mapped->bytes()), sha256)) {
    return Fail(Errc::kVerificationFailed, "slot " + std::string(slots::SlotIdName(slot.id)) +
                                               " does not hold the image the delta starts from");
  }
  return mapped;
}

MappedImage::MappedImage(MappedImage&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedImage& MappedImage::operator=(MappedImage&& other) noexcept {
  if (this != &other) {
    Unmap();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedImage::~MappedImage() { Unmap(); }

void MappedImage::Unmap() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace aloft::agent::install
