#include "agent/install/plan.hpp"

#include <string>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::agent::install {
namespace {

constexpr std::size_t kSha256Size = 32;

Result<Bytes> DecodeSha256(const std::string& hex, std::string_view what) {
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != kSha256Size) {
    return Fail(Errc::kInvalidArgument, std::string(what) + " sha256 is not 64 hex digits");
  }
  return std::move(*bytes);
}

Status CheckSlots(const slots::SlotPair& slots) {
  if (slots.a.id != slots::SlotId::kA || slots.b.id != slots::SlotId::kB) {
    return Fail(Errc::kInvalidArgument, "slot pair is not (a, b)");
  }
  if (slots.a.device.empty() || slots.b.device.empty()) {
    return Fail(Errc::kInvalidArgument, "a slot has no device path");
  }
  if (slots.a.device == slots.b.device) {
    return Fail(Errc::kInvalidArgument, "slots a and b share " + slots.a.device.string());
  }
  return Ok();
}

Result<ArtifactChunks> DecodeChunks(const core::uptane::ChunkInfo& chunks, std::int64_t length) {
  const auto count = core::uptane::ChunkCount(length, chunks.size);
  if (count != static_cast<std::int64_t>(chunks.sha256.size())) {
    return Fail(Errc::kInvalidArgument, "the artifact's " + std::to_string(chunks.sha256.size()) +
                                            " chunk digests do not cover its " +
                                            std::to_string(length) + " bytes in " +
                                            std::to_string(chunks.size) + "-byte chunks");
  }
  ArtifactChunks decoded;
  decoded.size = static_cast<std::uint64_t>(chunks.size);
  for (const auto& hex : chunks.sha256) {
    auto digest = DecodeSha256(hex, "chunk");
    if (!digest) return Fail(std::move(digest).error());
    decoded.sha256.push_back(std::move(*digest));
  }
  return decoded;
}

}  // namespace

Result<InstallPlan> MakeInstallPlan(const core::metadata::TargetFile& artifact,
                                    const std::optional<core::uptane::PayloadInfo>& payload,
                                    const std::optional<core::uptane::ChunkInfo>& chunks,
                                    const slots::SlotPair& slots, slots::SlotId booted,
                                    bool chunks_agreed) {
  if (auto ok = CheckSlots(slots); !ok) return Fail(std::move(ok).error());
  if (artifact.length <= 0) return Fail(Errc::kInvalidArgument, "artifact length must be positive");
  if (artifact.hashes.empty()) return Fail(Errc::kInvalidArgument, "artifact has no hashes");

  InstallPlan plan;
  plan.target = slots.Get(slots::Other(booted));
  plan.artifact_length = artifact.length;
  plan.artifact_hashes = artifact.hashes;
  if (chunks) {
    auto decoded = DecodeChunks(*chunks, artifact.length);
    if (!decoded) return Fail(std::move(decoded).error());
    plan.artifact_chunks = std::move(*decoded);
    plan.artifact_chunks->agreed_by_director = chunks_agreed;
  }

  if (!payload) {
    // The artifact is the image: its signed sha256 is the image digest.
    const auto sha = artifact.hashes.find("sha256");
    if (sha == artifact.hashes.end()) {
      return Fail(Errc::kInvalidArgument, "raw artifact has no sha256 to check the slot against");
    }
    auto digest = DecodeSha256(sha->second, "artifact");
    if (!digest) return Fail(std::move(digest).error());
    plan.compression = Compression::kNone;
    plan.image_length = static_cast<std::uint64_t>(artifact.length);
    plan.image_sha256 = std::move(*digest);
    return plan;
  }

  if (payload->format != "raw") {
    return Fail(Errc::kUnsupported, "payload format '" + payload->format + "'");
  }
  if (payload->compression == "none") {
    plan.compression = Compression::kNone;
  } else if (payload->compression == "zstd") {
    plan.compression = Compression::kZstd;
  } else {
    return Fail(Errc::kUnsupported, "payload compression '" + payload->compression + "'");
  }
  if (payload->length <= 0) return Fail(Errc::kInvalidArgument, "payload length must be positive");
  if (plan.compression == Compression::kNone && payload->length != artifact.length) {
    return Fail(Errc::kInvalidArgument,
                "uncompressed payload length " + std::to_string(payload->length) +
                    " differs from the artifact length " + std::to_string(artifact.length));
  }
  auto digest = DecodeSha256(payload->sha256, "payload");
  if (!digest) return Fail(std::move(digest).error());
  plan.image_length = static_cast<std::uint64_t>(payload->length);
  plan.image_sha256 = std::move(*digest);
  return plan;
}

Result<InstallPlan> MakeDeltaInstallPlan(const InstallPlan& full,
                                         const core::metadata::TargetFile& delta,
                                         const core::uptane::DeltaInfo& info,
                                         const slots::SlotPair& slots, slots::SlotId booted) {
  if (auto ok = CheckSlots(slots); !ok) return Fail(std::move(ok).error());
  if (full.compression == Compression::kDelta) {
    return Fail(Errc::kInvalidArgument, "a delta applies to a full image plan");
  }
  if (delta.length <= 0) return Fail(Errc::kInvalidArgument, "delta length must be positive");
  if (!delta.hashes.contains("sha256")) {
    return Fail(Errc::kInvalidArgument, "delta has no sha256 to download it by");
  }
  if (info.from_length <= 0) {
    return Fail(Errc::kInvalidArgument, "delta starts from an empty image");
  }
  auto to = DecodeSha256(info.to_sha256, "delta target");
  if (!to) return Fail(std::move(to).error());
  if (info.to_length < 0 || static_cast<std::uint64_t>(info.to_length) != full.image_length ||
      !core::crypto::ConstantTimeEqual(*to, full.image_sha256)) {
    return Fail(Errc::kVerificationFailed, "the delta does not produce the assigned image");
  }
  auto from = DecodeSha256(info.from_sha256, "delta source");
  if (!from) return Fail(std::move(from).error());

  InstallPlan plan = full;
  plan.target = slots.Get(slots::Other(booted));
  plan.artifact_length = delta.length;
  plan.artifact_hashes = delta.hashes;
  plan.artifact_chunks.reset();
  plan.compression = Compression::kDelta;
  plan.delta_base =
      DeltaBase{slots.Get(booted), static_cast<std::uint64_t>(info.from_length), std::move(*from)};
  return plan;
}

}  // namespace aloft::agent::install
