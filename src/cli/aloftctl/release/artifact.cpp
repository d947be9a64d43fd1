#include "cli/aloftctl/release/artifact.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::cli::aloftctl::release {
namespace {

namespace fs = std::filesystem;
namespace posix = platform::posix;
using core::crypto::HashAlgorithm;
using core::crypto::Hasher;

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};

Error ZstdError(std::string_view what, size_t code) {
  return Error(Errc::kInternal, "zstd " + std::string(what) + ": " + ZSTD_getErrorName(code));
}

// Hashes and counts the compressed bytes on their way to the file.
class ArtifactSink {
 public:
  explicit ArtifactSink(posix::AtomicFileWriter& file) : file_(file) {}
  Status Write(ByteView data) {
    sha256_.Update(data);
    length_ += data.size();
    return file_.Write(data);
  }
  std::uint64_t length() const noexcept { return length_; }
  std::string Sha256() { return HexEncode(sha256_.Finish()); }

 private:
  posix::AtomicFileWriter& file_;
  Hasher sha256_{HashAlgorithm::kSha256};
  std::uint64_t length_ = 0;
};

// The sha256 of every `chunk_size` bytes of the file at `path`, `length` bytes long. The chunk
// size depends on the compressed length, known only at the end, so the artifact is read once
// more: off-line, and cheap next to compressing it.
Result<std::vector<std::string>> ChunkDigests(const fs::path& path, std::int64_t length,
                                              std::int64_t chunk_size) {
  posix::UniqueFd fd(posix::OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return Fail(posix::ErrnoError(errno, "open artifact", path));
  std::vector<std::string> digests;
  std::vector<std::uint8_t> buf(std::size_t{1} << 20);
  std::int64_t done = 0;
  while (done < length) {
    Hasher chunk(HashAlgorithm::kSha256);
    const std::int64_t end = std::min(length, done + chunk_size);
    while (done < end) {
      const auto want = static_cast<std::size_t>(
          std::min<std::int64_t>(end - done, static_cast<std::int64_t>(buf.size())));
      const ssize_t n = ::read(fd.get(), buf.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(posix::ErrnoError(errno, "read artifact", path));
      if (n == 0) return Fail(Errc::kIo, path.string() + " shrank while it was being hashed");
      chunk.Update(ByteView(buf.data(), static_cast<std::size_t>(n)));
      done += n;
    }
    digests.push_back(HexEncode(chunk.Finish()));
  }
  return digests;
}

// Every core, but a bounded number of zstd jobs (each holds its own buffers).
int CompressionWorkers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 1U, 16U));
}

}  // namespace

std::int64_t ChunkSizeFor(std::int64_t length) {
  constexpr std::int64_t kMaxDigests = 64;
  std::int64_t size = std::int64_t{1} << 20;
  while (size < core::uptane::kMaxChunkSize &&
         core::uptane::ChunkCount(length, size) > kMaxDigests) {
    size *= 2;
  }
  return size;
}

Result<Artifact> CompressImage(const fs::path& image, const fs::path& artifacts_dir,
                               const ZstdSettings& zstd, const CompressProgress& progress) {
  if (zstd.level < kMinZstdLevel || zstd.level > kMaxZstdLevel) {
    return Fail(Errc::kInvalidArgument, "zstd level must be " + std::to_string(kMinZstdLevel) +
                                            ".." + std::to_string(kMaxZstdLevel));
  }
  if (zstd.window_log < kMinZstdWindowLog || zstd.window_log > kMaxZstdWindowLog) {
    return Fail(Errc::kInvalidArgument, "zstd window log must be " +
                                            std::to_string(kMinZstdWindowLog) + ".." +
                                            std::to_string(kMaxZstdWindowLog));
  }
  posix::UniqueFd in(posix::OpenRetrying(image.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!in.valid()) {
    if (errno == ENOENT) return Fail(Errc::kNotFound, "no image at " + image.string());
    return Fail(posix::ErrnoError(errno, "open image", image));
  }
  struct stat st {};
  if (::fstat(in.get(), &st) < 0) return Fail(posix::ErrnoError(errno, "stat image", image));
  if (!S_ISREG(st.st_mode)) return Fail(Errc::kInvalidArgument, image.string() + " is not a file");
  const auto total = static_cast<std::uint64_t>(st.st_size);
  if (total == 0) return Fail(Errc::kInvalidArgument, image.string() + " is empty");

  std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx(ZSTD_createCCtx());
  if (!cctx) return Fail(Errc::kInternal, "zstd: cannot create a compression context");
  // The level first: it resets the window, which is then narrowed to the setting.
  for (const auto& [param, value] :
       {std::pair{ZSTD_c_compressionLevel, zstd.level},
        std::pair{ZSTD_c_windowLog, zstd.window_log}, std::pair{ZSTD_c_checksumFlag, 1},
        std::pair{ZSTD_c_contentSizeFlag, 1}}) {
    if (size_t rc = ZSTD_CCtx_setParameter(cctx.get(), param, value); ZSTD_isError(rc)) {
      return Fail(ZstdError("set parameter", rc));
    }
  }
  // A libzstd built without threads refuses workers; it then compresses the same way on one
  // core (a different but equally valid frame).
  (void)ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers, CompressionWorkers());
  // The size is known: zstd writes it into the frame header and sizes its window to it.
  if (size_t rc = ZSTD_CCtx_setPledgedSrcSize(cctx.get(), total); ZSTD_isError(rc)) {
    return Fail(ZstdError("pledge size", rc));
  }

  const fs::path partial = artifacts_dir / "incoming.zst";
  auto file = posix::AtomicFileWriter::Create(partial, 0644);
  if (!file) return Fail(file.error());
  ArtifactSink sink(*file);
  Hasher image_sha256(HashAlgorithm::kSha256);
  std::vector<std::uint8_t> in_buf(ZSTD_CStreamInSize());
  std::vector<std::uint8_t> out_buf(ZSTD_CStreamOutSize());
  std::uint64_t read_total = 0;

  // Pushes `input` through the compressor; `end` finishes the frame.
  const auto pump = [&](ZSTD_inBuffer& input, ZSTD_EndDirective mode) -> Status {
    for (;;) {
      ZSTD_outBuffer output{out_buf.data(), out_buf.size(), 0};
      const size_t left = ZSTD_compressStream2(cctx.get(), &output, &input, mode);
      if (ZSTD_isError(left)) return Fail(ZstdError("compress", left));
      if (output.pos > 0) {
        if (Status s = sink.Write(ByteView(out_buf.data(), output.pos)); !s) return s;
      }
      const bool done = mode == ZSTD_e_end ? left == 0 : input.pos == input.size;
      if (done) return Ok();
    }
  };

  for (;;) {
    const ssize_t n = ::read(in.get(), in_buf.data(), in_buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(posix::ErrnoError(errno, "read image", image));
    }
    if (n == 0) break;
    const auto got = static_cast<std::size_t>(n);
    read_total += got;
    if (read_total > total) {
      return Fail(Errc::kIo, image.string() + " grew while it was being compressed");
    }
    image_sha256.Update(ByteView(in_buf.data(), got));
    ZSTD_inBuffer input{in_buf.data(), got, 0};
    if (Status s = pump(input, ZSTD_e_continue); !s) return Fail(s.error());
    if (progress) progress(read_total, total);
  }
  if (read_total != total) {
    return Fail(Errc::kIo, image.string() + " shrank while it was being compressed");
  }
  ZSTD_inBuffer none{nullptr, 0, 0};
  if (Status s = pump(none, ZSTD_e_end); !s) return Fail(s.error());
  if (Status s = file->Commit(); !s) return Fail(s.error());

  Artifact artifact;
  artifact.length = static_cast<std::int64_t>(sink.length());
  artifact.sha256 = sink.Sha256();
  artifact.image_length = static_cast<std::int64_t>(total);
  artifact.image_sha256 = HexEncode(image_sha256.Finish());
  artifact.path = artifacts_dir / artifact.sha256;
  artifact.chunk_size = ChunkSizeFor(artifact.length);
  auto chunks = ChunkDigests(partial, artifact.length, artifact.chunk_size);
  if (!chunks) return Fail(chunks.error());
  artifact.chunk_sha256 = std::move(*chunks);
  std::error_code ec;
  fs::rename(partial, artifact.path, ec);
  if (ec) return Fail(posix::ErrnoError(ec.value(), "rename artifact to", artifact.path));
  if (Status s = posix::FsyncDirectory(artifacts_dir); !s) return Fail(s.error());
  return artifact;
}

}  // namespace aloft::cli::aloftctl::release
