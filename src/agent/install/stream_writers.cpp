#include "agent/install/stream_writers.hpp"

#include <zstd.h>

#include <algorithm>
#include <string>

namespace aloft::agent::install {

Status VerifyingWriter::Write(ByteView data) {
  if (auto checked = verifier_.Update(data); !checked) return checked;
  return next_.Write(data);
}

Status ChunkVerifyingWriter::Write(ByteView data) {
  if (data.size() > length_ - received_) {
    return Fail(Errc::kTooLarge,
                "artifact: more than the expected " + std::to_string(length_) + " bytes");
  }
  received_ += data.size();
  while (!data.empty()) {
    if (index_ >= chunks_.sha256.size()) {
      return Fail(Errc::kVerificationFailed, "more artifact bytes than its chunk digests cover");
    }
    if (!hasher_) hasher_.emplace(core::crypto::HashAlgorithm::kSha256);
    const auto take =
        static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), chunks_.size - in_chunk_));
    const ByteView piece = data.first(take);
    hasher_->Update(piece);
    in_chunk_ += take;
    data = data.subspan(take);
    if (auto pushed = next_.Write(piece); !pushed) return pushed;
    if (in_chunk_ == chunks_.size) {
      if (auto closed = CloseChunk(); !closed) return closed;
    }
  }
  return Ok();
}

Status ChunkVerifyingWriter::Finish() {
  if (received_ != length_) {
    return Fail(Errc::kVerificationFailed, "artifact: " + std::to_string(received_) + " of " +
                                               std::to_string(length_) + " bytes");
  }
  if (in_chunk_ > 0) {
    if (auto closed = CloseChunk(); !closed) return closed;
  }
  if (index_ != chunks_.sha256.size()) {
    return Fail(Errc::kVerificationFailed, "the artifact ended at chunk " + std::to_string(index_) +
                                               " of " + std::to_string(chunks_.sha256.size()));
  }
  return Ok();
}

Status ChunkVerifyingWriter::CloseChunk() {
  const Bytes digest = hasher_->Finish();
  hasher_.reset();
  const std::size_t index = index_++;
  in_chunk_ = 0;
  if (!core::crypto::ConstantTimeEqual(digest, chunks_.sha256[index])) {
    return Fail(Errc::kVerificationFailed,
                "artifact chunk " + std::to_string(index) + " (from byte " +
                    std::to_string(index * chunks_.size) + ") does not match its signed sha256");
  }
  return Ok();
}

struct ZstdDecompressWriter::Context {
  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context() { ZSTD_freeDCtx(dctx); }  // accepts nullptr
  ZSTD_DCtx* dctx = nullptr;
};

ZstdDecompressWriter::ZstdDecompressWriter(core::io::Writer& next, std::unique_ptr<Context> ctx,
                                           std::size_t out_size)
    : next_(next),
      in_place_(dynamic_cast<core::io::InPlaceWriter*>(&next)),
      ctx_(std::move(ctx)),
      out_(in_place_ != nullptr ? 0 : out_size) {}

ZstdDecompressWriter::~ZstdDecompressWriter() = default;

Result<std::unique_ptr<ZstdDecompressWriter>> ZstdDecompressWriter::Create(core::io::Writer& next) {
  auto ctx = std::make_unique<Context>();
  ctx->dctx = ZSTD_createDCtx();
  if (ctx->dctx == nullptr) return Fail(Errc::kInternal, "zstd: cannot create a decoder");
  const size_t rc = ZSTD_DCtx_setParameter(ctx->dctx, ZSTD_d_windowLogMax, kMaxWindowLog);
  if (ZSTD_isError(rc)) {
    return Fail(Errc::kInternal, std::string("zstd: ") + ZSTD_getErrorName(rc));
  }
  // ZSTD_DStreamOutSize() is one full block (128 KiB): the decoder can always make progress.
  return std::unique_ptr<ZstdDecompressWriter>(
      new ZstdDecompressWriter(next, std::move(ctx), ZSTD_DStreamOutSize()));
}

Status ZstdDecompressWriter::Write(ByteView data) {
  if (data.empty()) return Ok();
  started_ = true;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  // Loop while input remains, and also while the output buffer came back full: the decoder
  // may hold more decoded bytes than fitted.
  bool out_full = false;
  do {
    std::span<std::uint8_t> space(out_);
    if (in_place_ != nullptr) {
      auto lent = in_place_->Space();
      if (!lent) return Fail(std::move(lent).error());
      space = *lent;
    }
    ZSTD_outBuffer out{space.data(), space.size(), 0};
    const size_t rc = ZSTD_decompressStream(ctx_->dctx, &out, &in);
    if (ZSTD_isError(rc)) {
      return Fail(Errc::kVerificationFailed, std::string("zstd: ") + ZSTD_getErrorName(rc));
    }
    last_hint_ = rc;
    if (in_place_ != nullptr) {
      if (auto committed = in_place_->Commit(out.pos); !committed) return committed;
    } else if (out.pos > 0) {
      if (auto pushed = next_.Write(ByteView(out_.data(), out.pos)); !pushed) return pushed;
    }
    out_full = out.pos == out.size;
    // 0: the frame is decoded and flushed. When that happens just as the output fills up
    // (images that are a multiple of 128 KiB), another call would start on a next frame and
    // replace the 0 with that frame's header size hint, failing Finish().
    if (rc == 0 && in.pos == in.size) break;
  } while (in.pos < in.size || out_full);
  return Ok();
}

Status ZstdDecompressWriter::Finish() {
  if (!started_) return Fail(Errc::kVerificationFailed, "zstd: empty stream");
  // Write() drains the decoder whenever its output came back full, so nothing decoded waits
  // inside it; zstd returns 0 exactly when a frame has been decoded and flushed completely.
  if (last_hint_ != 0) return Fail(Errc::kVerificationFailed, "zstd: stream ends inside a frame");
  return Ok();
}

Status LengthCheckingWriter::Write(ByteView data) {
  if (data.size() > expected_length_ - written_) {
    return Fail(Errc::kTooLarge,
                "image is longer than the signed " + std::to_string(expected_length_) + " bytes");
  }
  written_ += data.size();
  return next_.Write(data);
}

Status LengthCheckingWriter::Commit(std::size_t n) {
  if (n > expected_length_ - written_) {
    return Fail(Errc::kTooLarge,
                "image is longer than the signed " + std::to_string(expected_length_) + " bytes");
  }
  written_ += n;
  return next_.Commit(n);
}

Status LengthCheckingWriter::Finish() const {
  if (written_ != expected_length_) {
    return Fail(Errc::kVerificationFailed, "image has " + std::to_string(written_) +
                                               " bytes, signed length is " +
                                               std::to_string(expected_length_));
  }
  return Ok();
}

}  // namespace aloft::agent::install
