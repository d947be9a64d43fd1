#include "agent/install/mapped_image.hpp"

#include <string>
#include <utility>

#include "core/crypto/hash.hpp"

namespace aloft::agent::install {

Result<MappedImage> MappedImage::Map(const slots::Slot& slot, std::uint64_t length) {
  auto file = platform::posix::MappedFile::OpenPrefix(slot.device, length);
  if (!file) {
    if (file.error().code() == Errc::kInvalidArgument) {
      return Fail(Errc::kVerificationFailed,
                  "slot " + std::string(slots::SlotIdName(slot.id)) + " cannot hold the image a " +
                      "delta starts from: " + file.error().message());
    }
    return Fail(std::move(file).error());
  }
  // Read front to back once: tell the kernel, so it reads ahead.
  file->AdviseSequential();
  return MappedImage(std::move(*file));
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

}  // namespace aloft::agent::install
