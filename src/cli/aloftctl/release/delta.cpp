#include "cli/aloftctl/release/delta.hpp"

#include <zstd.h>

#include <memory>
#include <system_error>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "core/io/writer.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"

namespace aloft::cli::aloftctl::release {
namespace {

namespace md = core::metadata;

struct DCtxFree {
  void operator()(ZSTD_DCtx* ctx) const noexcept { ZSTD_freeDCtx(ctx); }
};

// The zstd artifact of a release, decompressed, at most `expected` bytes.
Result<Bytes> Decompress(ByteView frame, std::uint64_t expected) {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  if (!ctx) return Fail(Errc::kInternal, "zstd: cannot allocate a decoder");
  Bytes out(static_cast<std::size_t>(expected));
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  ZSTD_outBuffer to{out.data(), out.size(), 0};
  std::size_t hint = 1;
  while (in.pos < in.size) {
    const std::size_t before_in = in.pos;
    const std::size_t before_out = to.pos;
    hint = ZSTD_decompressStream(ctx.get(), &to, &in);
    if (ZSTD_isError(hint)) {
      return Fail(Errc::kVerificationFailed,
                  std::string("artifact does not decompress: ") + ZSTD_getErrorName(hint));
    }
    if (in.pos == before_in && to.pos == before_out) {
      return Fail(Errc::kVerificationFailed, "artifact holds more than its signed image length");
    }
  }
  if (hint != 0) return Fail(Errc::kVerificationFailed, "artifact ends inside a zstd frame");
  out.resize(to.pos);
  return out;
}

// The image of a staged release, checked against its signed digest.
Result<Bytes> StagedImage(const repo::OfflineRepo& repo, const std::string& name,
                          const md::TargetFile& file) {
  auto custom = core::uptane::ParseImageCustom(file.custom);
  if (!custom) return Fail(std::move(custom).error().WithContext("release '" + name + "'"));
  const auto sha = file.hashes.find("sha256");
  if (sha == file.hashes.end()) {
    return Fail(Errc::kInvalidArgument, "release '" + name + "' has no sha256");
  }
  const std::filesystem::path path = repo.ArtifactPath(sha->second);
  const auto cap = static_cast<std::size_t>(file.length) + 1;
  auto artifact = platform::posix::ReadFile(path, cap);
  if (!artifact) {
    return Fail(Error(artifact.error().code(),
                      "the artifact of '" + name + "' is not readable in this repository (" +
                          path.string() + "): " + artifact.error().message()));
  }
  if (core::crypto::Sha256Hex(*artifact) != sha->second) {
    return Fail(Errc::kVerificationFailed,
                "the stored artifact of '" + name + "' does not match its signed sha256");
  }
  if (!custom->payload || custom->payload->compression == "none") return std::move(*artifact);
  const auto length = static_cast<std::uint64_t>(custom->payload->length);
  if (length > kMaxDeltaImageBytes) {
    return Fail(Errc::kTooLarge, "the image of '" + name + "' is too large for a delta");
  }
  auto image = Decompress(*artifact, length);
  if (!image) return Fail(std::move(image).error().WithContext("release '" + name + "'"));
  if (image->size() != length || core::crypto::Sha256Hex(*image) != custom->payload->sha256) {
    return Fail(Errc::kVerificationFailed,
                "the artifact of '" + name + "' does not hold its signed image");
  }
  return std::move(*image);
}

bool IsDelta(const md::TargetFile& file) {
  return file.custom.IsObject() && file.custom.Find("delta") != nullptr;
}

}  // namespace

Result<DeltaSource> LoadDeltaSource(const repo::OfflineRepo& repo, const std::string& from) {
  auto staged = StagedReleases(repo);
  if (!staged) return Fail(staged.error());
  const std::string* match = nullptr;
  if (auto it = staged->find(from); it != staged->end() && !IsDelta(it->second)) {
    match = &it->first;
  } else {
    for (const auto& [name, file] : *staged) {
      if (IsDelta(file)) continue;
      auto custom = core::uptane::ParseImageCustom(file.custom);
      if (!custom || custom->version != from) continue;
      if (match != nullptr) {
        return Fail(Errc::kInvalidArgument, "version '" + from + "' names both '" + *match +
                                                "' and '" + name + "': give a release name");
      }
      match = &name;
    }
  }
  DeltaSource source;
  source.label = from;
  if (match != nullptr) {
    auto image = StagedImage(repo, *match, staged->at(*match));
    if (!image) return Fail(std::move(image).error());
    source.label = *match;
    source.image = std::move(*image);
  } else {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(from, ec)) {
      return Fail(Errc::kNotFound, "--delta-from '" + from +
                                       "' is neither a staged release (name or version) nor an "
                                       "image file");
    }
    auto image = platform::posix::ReadFile(from, kMaxDeltaImageBytes);
    if (!image) return Fail(std::move(image).error().WithContext("--delta-from " + from));
    source.image = std::move(*image);
  }
  source.sha256 = core::crypto::Sha256Hex(source.image);
  return source;
}

Result<StagedDelta> MakeDelta(const repo::OfflineRepo& repo, const ReleaseSpec& spec,
                              const DeltaSource& source, ByteView image,
                              const std::string& image_sha256, int level) {
  if (source.sha256 == image_sha256) {
    return Fail(Errc::kInvalidArgument,
                "--delta-from " + source.label + " is the new image itself: no delta needed");
  }
  if (source.image.empty()) {
    return Fail(Errc::kInvalidArgument, "--delta-from " + source.label + " is empty");
  }
  StagedDelta delta;
  delta.name = core::uptane::DeltaTargetName(spec.name, source.sha256);
  if (Status s = CheckReleaseName(delta.name); !s) {
    return Fail(Errc::kInvalidArgument, "the delta name '" + delta.name + "' is invalid (" +
                                            s.error().message() +
                                            "): choose a shorter --name for the release");
  }
  core::io::BytesWriter patch(kMaxDeltaImageBytes);
  core::delta::CreateOptions options;
  options.level = level;
  if (Status s = core::delta::CreatePatch(source.image, image, patch, options); !s) {
    return Fail(std::move(s).error().WithContext("delta from " + source.label));
  }
  const Bytes& bytes = patch.bytes();
  delta.artifact.length = static_cast<std::int64_t>(bytes.size());
  delta.artifact.sha256 = core::crypto::Sha256Hex(bytes);
  delta.artifact.path = repo.ArtifactPath(delta.artifact.sha256);
  std::error_code ec;
  std::filesystem::create_directories(repo.artifacts_dir(), ec);
  if (Status s = platform::posix::AtomicWriteFile(delta.artifact.path, bytes); !s) {
    return Fail(std::move(s).error().WithContext("write delta"));
  }

  core::uptane::ImageCustom custom;
  custom.version = spec.version;
  custom.hardware_ids = spec.hardware_ids;
  custom.security_counter = spec.security_counter;
  custom.delta =
      core::uptane::DeltaInfo{source.sha256, static_cast<std::int64_t>(source.image.size()),
                              spec.name, image_sha256, static_cast<std::int64_t>(image.size())};
  delta.target.length = delta.artifact.length;
  delta.target.hashes = {{"sha256", delta.artifact.sha256}};  // why sha256 only: staging.hpp
  delta.target.custom = core::uptane::ToJson(custom);
  return delta;
}

}  // namespace aloft::cli::aloftctl::release
