#include "agent/install/installer.hpp"

#include <memory>
#include <optional>
#include <string>

#include "agent/install/mapped_image.hpp"
#include "agent/install/stream_writers.hpp"
#include "agent/slots/slot_writer.hpp"
#include "core/delta/patch.hpp"
#include "core/metadata/verify.hpp"

namespace aloft::agent::install {
namespace {

// Reports progress after every chunk the source pushes, then passes the chunk on.
class ProgressWriter final : public core::io::Writer {
 public:
  ProgressWriter(core::io::Writer& next, const ProgressFn& progress, const slots::SlotWriter& slot)
      : next_(next), progress_(progress), slot_(slot) {}
  Status Write(ByteView data) override {
    if (auto ok = next_.Write(data); !ok) return ok;
    received_ += data.size();
    if (progress_) progress_(received_, slot_.written());
    return Ok();
  }

 private:
  core::io::Writer& next_;
  const ProgressFn& progress_;
  const slots::SlotWriter& slot_;
  std::uint64_t received_ = 0;
};

// Steps 2–3: everything between the source and a durable, checked slot.
Status StreamIntoSlot(const InstallPlan& plan, slots::SlotId booted, const ArtifactSource& source,
                      const ProgressFn& progress) {
  // A delta's source is checked before the target slot is opened: a wrong base leaves the
  // target exactly as it was. The mapping outlives every stage below.
  std::optional<MappedImage> base;
  if (plan.compression == Compression::kDelta) {
    if (!plan.delta_base) return Fail(Errc::kInvalidArgument, "delta plan without a base");
    if (plan.delta_base->slot.id != booted) {
      return Fail(Errc::kInvalidArgument, "a delta applies to the running slot only");
    }
    auto mapped = MappedImage::MapVerified(plan.delta_base->slot, plan.delta_base->length,
                                           plan.delta_base->sha256);
    if (!mapped) return Fail(std::move(mapped).error().WithContext("delta base"));
    base.emplace(std::move(*mapped));
  }

  auto slot = slots::SlotWriter::Open(plan.target, booted, plan.image_length);
  if (!slot) return Fail(std::move(slot).error().WithContext("open slot"));
  // The image's digest is checked once, on the bytes read back from the slot (step 4).
  LengthCheckingWriter image(*slot, plan.image_length);

  std::unique_ptr<ZstdDecompressWriter> zstd;
  std::unique_ptr<core::delta::PatchApplier> patch;
  core::io::Writer* after_artifact = &image;
  if (plan.compression == Compression::kZstd) {
    auto created = ZstdDecompressWriter::Create(image);
    if (!created) return Fail(std::move(created).error());
    zstd = std::move(*created);
    after_artifact = zstd.get();
  } else if (plan.compression == Compression::kDelta) {
    // The base was hashed above, against the digest the signed delta names.
    patch = std::make_unique<core::delta::PatchApplier>(base->bytes(), image,
                                                        /*source_verified=*/true);
    after_artifact = patch.get();
  }

  std::optional<ChunkVerifyingWriter> chunks;
  if (plan.artifact_chunks) {
    chunks.emplace(*plan.artifact_chunks, static_cast<std::uint64_t>(plan.artifact_length),
                   *after_artifact);
    after_artifact = &*chunks;
  }
  // The whole artifact's hashes are what the Director signs as well as the Image repository:
  // they bind the bytes to both. Chunk digests only the Image repository signed make a bad
  // byte show sooner, on top of them; chunk digests the Director agreed on bind every byte to
  // both by themselves, and a second SHA-256 pass over the download would check nothing more.
  std::optional<VerifyingWriter> whole;
  if (!plan.artifact_chunks || !plan.artifact_chunks->agreed_by_director) {
    auto verifier = core::metadata::PayloadVerifier::Create("artifact", plan.artifact_length,
                                                            plan.artifact_hashes);
    if (!verifier) return Fail(std::move(verifier).error());
    whole.emplace(std::move(*verifier), *after_artifact);
    after_artifact = &*whole;
  }
  ProgressWriter head(*after_artifact, progress, *slot);

  if (auto pushed = source(head); !pushed)
    return Fail(std::move(pushed).error().WithContext("install"));
  if (whole) {
    if (auto ok = whole->Finish(); !ok) return Fail(std::move(ok).error().WithContext("artifact"));
  }
  if (chunks) {
    if (auto ok = chunks->Finish(); !ok) return Fail(std::move(ok).error().WithContext("artifact"));
  }
  if (zstd) {
    if (auto ok = zstd->Finish(); !ok) return Fail(std::move(ok).error().WithContext("decompress"));
  }
  if (patch) {
    if (auto ok = patch->Finish(); !ok) return Fail(std::move(ok).error().WithContext("patch"));
  }
  if (auto ok = image.Finish(); !ok) return Fail(std::move(ok).error().WithContext("image"));
  if (auto ok = slot->Finish(); !ok) return Fail(std::move(ok).error().WithContext("write slot"));
  return Ok();
}

}  // namespace

std::size_t Installer::BufferBytes(Compression compression, std::uint64_t delta_base_length) {
  std::size_t bytes = slots::SlotWriter::kBufferBytes;
  // zstd decodes into the slot's own buffers (SlotWriter is an InPlaceWriter): no output
  // buffer of its own; its window is the frame's (see installer.hpp).
  if (compression == Compression::kDelta) {
    bytes += core::delta::PatchApplier::MemoryBound(delta_base_length);
  }
  return bytes;
}

Status Installer::Run(const InstallPlan& plan, const ArtifactSource& source,
                      const ProgressFn& progress) {
  // 1. Never write the running slot; never write a slot the bootloader will boot next.
  auto state = bootloader_.State();
  if (!state) return Fail(std::move(state).error().WithContext("bootloader state"));
  if (plan.target.id == state->booted) {
    return Fail(Errc::kInvalidArgument, "install target " +
                                            std::string(slots::SlotIdName(plan.target.id)) +
                                            " is the running slot");
  }
  if (state->primary == plan.target.id) {
    if (auto ok = bootloader_.MarkBad(plan.target.id); !ok) {
      return Fail(std::move(ok).error().WithContext("mark target bad"));
    }
  }

  // 2–3. Stream, check, fsync.
  if (auto ok = StreamIntoSlot(plan, state->booted, source, progress); !ok) return ok;

  // 4. The bytes on the medium are the bytes that were verified.
  if (auto ok = slots::VerifySlot(plan.target, plan.image_length, plan.image_sha256); !ok) {
    return Fail(std::move(ok).error().WithContext("verify slot"));
  }

  // 5. Only now may the bootloader try the new slot.
  if (auto ok = bootloader_.PrepareTrialBoot(plan.target.id); !ok) {
    return Fail(std::move(ok).error().WithContext("prepare trial boot"));
  }
  return Ok();
}

}  // namespace aloft::agent::install
