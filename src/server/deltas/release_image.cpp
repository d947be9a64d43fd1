#include "server/deltas/release_image.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <memory>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::server::deltas {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

struct DCtxFree {
  void operator()(ZSTD_DCtx* ctx) const noexcept { ZSTD_freeDCtx(ctx); }
};

// Writes image bytes to the file, counting and hashing them, refusing more than `limit`.
class ImageSink {
 public:
  ImageSink(int fd, const std::filesystem::path& path, std::uint64_t limit)
      : fd_(fd), path_(path), limit_(limit), hash_(core::crypto::HashAlgorithm::kSha256) {}

  Status Write(ByteView data) {
    if (data.size() > limit_ - written_) {
      return Fail(Errc::kVerificationFailed, "the artifact holds more than its signed image");
    }
    written_ += data.size();
    hash_.Update(data);
    return platform::posix::WriteAll(fd_, data, path_);
  }
  std::uint64_t written() const noexcept { return written_; }
  std::string Finish() { return HexEncode(hash_.Finish()); }

 private:
  int fd_;
  const std::filesystem::path& path_;
  std::uint64_t limit_;
  std::uint64_t written_ = 0;
  core::crypto::Hasher hash_;
};

Status Copy(blobs::BlobReader& reader, const std::string& signed_sha256, bool zstd,
            ImageSink& sink) {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx;
  if (zstd) {
    dctx.reset(ZSTD_createDCtx());
    if (!dctx) return Fail(Errc::kInternal, "zstd: cannot allocate a decoder");
  }
  core::crypto::Hasher artifact_hash(core::crypto::HashAlgorithm::kSha256);
  Bytes in(kChunk);
  Bytes out(zstd ? ZSTD_DStreamOutSize() : 0);
  std::size_t pending = 0;  // zstd's hint: 0 when the last frame is complete
  std::uint64_t offset = 0;
  while (offset < reader.info().size) {
    auto n = reader.ReadAt(offset, in);
    if (!n) return Fail(n.error());
    if (*n == 0) return Fail(Errc::kIo, "artifact blob ended early");
    const ByteView chunk(in.data(), *n);
    offset += *n;
    artifact_hash.Update(chunk);
    if (!zstd) {
      if (Status s = sink.Write(chunk); !s) return s;
      continue;
    }
    ZSTD_inBuffer zin{chunk.data(), chunk.size(), 0};
    while (zin.pos < zin.size) {
      ZSTD_outBuffer zout{out.data(), out.size(), 0};
      pending = ZSTD_decompressStream(dctx.get(), &zout, &zin);
      if (ZSTD_isError(pending)) {
        return Fail(Errc::kVerificationFailed,
                    std::string("artifact does not decompress: ") + ZSTD_getErrorName(pending));
      }
      if (Status s = sink.Write(ByteView(out.data(), zout.pos)); !s) return s;
    }
  }
  if (zstd) {
    // Flush what the decoder still holds (its output buffer may have been full).
    while (pending != 0) {
      ZSTD_inBuffer zin{nullptr, 0, 0};
      ZSTD_outBuffer zout{out.data(), out.size(), 0};
      pending = ZSTD_decompressStream(dctx.get(), &zout, &zin);
      if (ZSTD_isError(pending)) {
        return Fail(Errc::kVerificationFailed,
                    std::string("artifact does not decompress: ") + ZSTD_getErrorName(pending));
      }
      if (zout.pos == 0) {
        return Fail(Errc::kVerificationFailed, "artifact ends inside a zstd frame");
      }
      if (Status s = sink.Write(ByteView(out.data(), zout.pos)); !s) return s;
    }
  }
  if (HexEncode(artifact_hash.Finish()) != signed_sha256) {
    return Fail(Errc::kVerificationFailed, "the stored artifact does not match its signed sha256");
  }
  return Ok();
}

}  // namespace

Result<ImageDigest> SignedImageDigest(const releases::Release& release) {
  auto custom = core::uptane::ParseImageCustom(release.target.custom);
  if (!custom) return Fail(std::move(custom).error().WithContext(release.name));
  if (custom->delta) return Fail(Errc::kInvalidArgument, release.name + " is a delta");
  ImageDigest digest{core::uptane::ImageSha256Hex(release.target, *custom),
                     core::uptane::ImageLength(release.target, *custom),
                     custom->payload ? custom->payload->compression : "none"};
  if (digest.sha256.size() != 64) {
    return Fail(Errc::kInvalidArgument, release.name + " has no sha256 image digest");
  }
  return digest;
}

Status WriteReleaseImage(blobs::ObjectStore& blobs, const releases::Release& release,
                         std::uint64_t max_image_bytes, const std::filesystem::path& path) {
  auto digest = SignedImageDigest(release);
  if (!digest) return Fail(digest.error());
  const std::string& compression = digest->compression;
  if (compression != "none" && compression != "zstd") {
    return Fail(Errc::kUnsupported,
                release.name + ": no delta for compression '" + compression + "'");
  }
  const auto image_length = static_cast<std::uint64_t>(digest->length);
  if (image_length > max_image_bytes) {
    return Fail(Errc::kTooLarge, release.name + ": image of " + std::to_string(image_length) +
                                     " bytes is above deltas.max_image_bytes");
  }
  auto reader = blobs.Open(release.sha256);
  if (!reader) return Fail(std::move(reader).error().WithContext(release.name + " artifact"));
  if ((*reader)->info().size != static_cast<std::uint64_t>(release.target.length)) {
    return Fail(Errc::kVerificationFailed,
                release.name + ": the stored artifact's size differs from the signed length");
  }

  platform::posix::UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Fail(platform::posix::ErrnoError(errno, "create", path));
  ImageSink sink(fd.get(), path, image_length);
  Status copied = Copy(**reader, release.sha256, compression == "zstd", sink);
  if (copied && (sink.written() != image_length || sink.Finish() != digest->sha256)) {
    copied = Fail(Errc::kVerificationFailed,
                  "the artifact does not hold the release's signed image");
  }
  if (!copied) {
    fd.Reset();
    ::unlink(path.c_str());
    return Fail(std::move(copied).error().WithContext(release.name));
  }
  return Ok();
}

}  // namespace aloft::server::deltas
