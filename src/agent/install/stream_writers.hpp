#pragma once

// The stages of the install pipeline, each a core::io::Writer that checks or transforms bytes
// and pushes them on to the next one:
//
//   artifact bytes → VerifyingWriter (signed length + hashes of the artifact as downloaded)
//                  → ChunkVerifyingWriter (its signed piecewise digests, when it has them;
//                    VerifyingWriter is left out when the Director agreed on them too)
//                  → ZstdDecompressWriter (only for compressed artifacts)
//                  → LengthCheckingWriter (signed length of the image, a cap)
//                  → SlotWriter
//   then the image's signed sha256, on the bytes read back from the slot (slots::VerifySlot)
//
// Each stage has a Finish() that checks what can only be checked at the end; the caller calls
// them in pipeline order after the last Write. A stage forwards a byte only after it has
// accepted it, and the first failure ends the transfer. None of them is thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "agent/install/plan.hpp"
#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/crypto/hash.hpp"
#include "core/io/writer.hpp"
#include "core/metadata/verify.hpp"

namespace aloft::agent::install {

// Feeds every byte to a PayloadVerifier before passing it on. More bytes than the signed
// length stop the stream at once (kTooLarge); a hash mismatch shows at Finish()
// (kVerificationFailed).
class VerifyingWriter final : public core::io::Writer {
 public:
  VerifyingWriter(core::metadata::PayloadVerifier verifier, core::io::Writer& next)
      : verifier_(std::move(verifier)), next_(next) {}
  Status Write(ByteView data) override;
  Status Finish() { return verifier_.Finish(); }
  std::uint64_t received() const noexcept { return verifier_.received(); }

 private:
  core::metadata::PayloadVerifier verifier_;
  core::io::Writer& next_;
};

// Checks the artifact piece by piece against its signed chunk digests, so that a byte changed
// in transit stops the stream at the end of its chunk rather than at the end of the artifact
// (where VerifyingWriter's whole-artifact hashes would catch it). A chunk's bytes are passed on
// as they arrive; its verdict comes with its last byte (kVerificationFailed, naming the chunk),
// before any byte of the next chunk is passed on. Holding a chunk back until it is verified
// would cost a chunk of memory; what gets through is at most one chunk of bytes into the
// inactive slot, which nothing boots. Bytes beyond the signed `length` stop the stream at once
// (kTooLarge), so it can stand alone when the chunk digests are all the artifact needs.
// Memory: one hash state.
class ChunkVerifyingWriter final : public core::io::Writer {
 public:
  ChunkVerifyingWriter(const ArtifactChunks& chunks, std::uint64_t length, core::io::Writer& next)
      : chunks_(chunks), length_(length), next_(next) {}
  Status Write(ByteView data) override;
  // The last (shorter) chunk; kVerificationFailed when the stream ended early.
  Status Finish();

 private:
  Status CloseChunk();

  const ArtifactChunks& chunks_;
  std::uint64_t length_;  // signed
  std::uint64_t received_ = 0;
  core::io::Writer& next_;
  std::optional<core::crypto::Hasher> hasher_;  // the current chunk's
  std::size_t index_ = 0;                       // of the current chunk
  std::uint64_t in_chunk_ = 0;                  // its bytes so far
};

// Decompresses one or more concatenated zstd frames as they stream past. When `next` is an
// InPlaceWriter (the slot), the decoder writes into next's own buffer, saving a copy of every
// image byte; otherwise into an output buffer of its own.
// Memory: (without in-place output) a ZSTD_DStreamOutSize() output buffer, plus zstd's decoder
// state, whose window is what the frame header declares, capped at 2^kMaxWindowLog bytes (128 MiB):
// a frame asking for more is rejected (kVerificationFailed) instead of allocated. Input is decoded
// in place, never copied. Corrupt input and bytes after the last frame that do not form a frame
// fail with kVerificationFailed; Finish() fails the same way when the stream stopped inside a frame
// or held no frame at all.
class ZstdDecompressWriter final : public core::io::Writer {
 public:
  static constexpr int kMaxWindowLog = 27;

  // kInternal if zstd cannot allocate its context.
  static Result<std::unique_ptr<ZstdDecompressWriter>> Create(core::io::Writer& next);
  ~ZstdDecompressWriter() override;
  ZstdDecompressWriter(const ZstdDecompressWriter&) = delete;
  ZstdDecompressWriter& operator=(const ZstdDecompressWriter&) = delete;

  Status Write(ByteView data) override;
  Status Finish();
  std::size_t out_buffer_size() const noexcept { return out_.size(); }

 private:
  struct Context;
  ZstdDecompressWriter(core::io::Writer& next, std::unique_ptr<Context> ctx, std::size_t out_size);

  core::io::Writer& next_;
  core::io::InPlaceWriter* in_place_;  // next_, when it lends its buffer
  std::unique_ptr<Context> ctx_;       // the ZSTD_DCtx
  std::vector<std::uint8_t> out_;      // empty with in-place output
  bool started_ = false;               // some input arrived
  std::size_t last_hint_ = 0;          // zstd's last return: 0 = at a frame boundary
};

// Counts the image on its way to the slot. Bytes beyond `expected_length` fail with kTooLarge
// before any of them is forwarded, which is what stops a decompression bomb at the signed image
// size; Finish() checks the exact length (kVerificationFailed).
// It does not hash: the image's bytes are a function of the artifact, whose signed hashes
// VerifyingWriter checks, and the installer hashes the image once, where it counts, by
// re-reading the slot after fsync (slots::VerifySlot) before anything may boot it. Hashing it
// here as well cost a second SHA-256 pass over the whole image and checked nothing more.
class LengthCheckingWriter final : public core::io::InPlaceWriter {
 public:
  LengthCheckingWriter(core::io::InPlaceWriter& next, std::uint64_t expected_length)
      : next_(next), expected_length_(expected_length) {}
  Status Write(ByteView data) override;
  // next's space; Commit counts and caps like Write before passing the bytes on.
  Result<std::span<std::uint8_t>> Space() override { return next_.Space(); }
  Status Commit(std::size_t n) override;
  Status Finish() const;
  std::uint64_t written() const noexcept { return written_; }

 private:
  core::io::InPlaceWriter& next_;
  std::uint64_t expected_length_;
  std::uint64_t written_ = 0;
};

}  // namespace aloft::agent::install
