// Streaming patch application: a small state machine over the patch bytes (header, then per
// block a record head and its payload), with buffers bounded by the format's block size.

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "core/crypto/hash.hpp"
#include "core/delta/format.hpp"
#include "core/delta/literal_stream.hpp"
#include "core/delta/lzma_source.hpp"
#include "core/delta/patch.hpp"
#include "core/delta/zstd_frames.hpp"

namespace aloft::core::delta {
namespace {

// Output is assembled here before it reaches the Writer, so that a block with many small
// controls costs a few large writes rather than one per control.
constexpr std::size_t kStagingBytes = 1u << 20;

Error Corrupt(std::string what) { return Error(Errc::kVerificationFailed, "corrupt patch: " + what); }

// Reads LEB128 varints from a control stream; any overrun or overlong value is corruption.
class VarintReader {
 public:
  explicit VarintReader(ByteView data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }
  std::optional<std::uint64_t> Next() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == data_.size()) return std::nullopt;
      std::uint8_t byte = data_[pos_++];
      if (shift == 63 && byte > 1) return std::nullopt;
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return std::nullopt;
  }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<PatchHeader> ReadPatchHeader(ByteView patch_prefix) {
  if (patch_prefix.size() < format::kHeaderSize) {
    return Fail(Errc::kInvalidArgument, "not a delta patch: shorter than its header");
  }
  if (std::memcmp(patch_prefix.data(), format::kMagic, sizeof format::kMagic) != 0) {
    return Fail(Errc::kInvalidArgument, "not a delta patch (bad magic)");
  }
  const std::uint8_t* p = patch_prefix.data();
  if (p[8] < format::kOldestVersion || p[8] > format::kVersion || p[9] != 0 || p[10] != 0 ||
      p[11] != 0) {
    return Fail(Errc::kInvalidArgument,
                "delta patch format version " + std::to_string(p[8]) + " is not supported (expected " +
                    std::to_string(format::kOldestVersion) + " to " + std::to_string(format::kVersion) +
                    "): create the patch again with this aloftctl");
  }
  PatchHeader header;
  header.version = p[8];
  header.source_length = format::GetU64(p + 16);
  header.source_sha256.assign(p + 24, p + 56);
  header.target_length = format::GetU64(p + 56);
  header.target_sha256.assign(p + 64, p + 96);
  return header;
}

struct PatchApplier::State {
  enum class Phase { kHeader, kRecordHead, kPayload, kDone, kFailed };

  ByteView source;
  io::Writer& out;
  bool source_verified;
  Phase phase = Phase::kHeader;
  std::optional<Error> failure;

  PatchHeader header;
  bool have_header = false;
  std::uint32_t block_size = 0;
  std::uint64_t produced = 0;
  crypto::Hasher target_hash{crypto::HashAlgorithm::kSha256};

  Bytes pending;        // header or record head being assembled
  std::size_t need = 0; // bytes `pending` (or `payload`) must reach
  std::uint8_t method = 0;
  std::uint32_t control_raw = 0, control_comp = 0, diff_raw = 0, diff_comp = 0, extra_comp = 0;
  std::uint64_t prefix_offset = 0, prefix_length = 0;
  std::uint32_t stream_comp = 0;  // kMethodZstdPrefix and kMethodLzmaSource*: the payload size
  BranchFilter filter = BranchFilter::kNone;  // kMethodLzmaSourceFiltered
  std::uint8_t codecs[2] = {0, 0};  // ctrl, diff
  Bytes payload;        // one block's compressed frames
  Bytes raw;            // one block's decoded bytes (diff then extra, or the target itself)
  Bytes control;
  Bytes staging;
  FrameDecompressor decompressor;
  LiteralDecoder literals;

  State(ByteView s, io::Writer& o, bool verified) : source(s), out(o), source_verified(verified) {}

  std::uint64_t BlockSpan() const {
    return std::min<std::uint64_t>(block_size, header.target_length - produced);
  }

  Status Fail(Error error) {
    phase = Phase::kFailed;
    failure = error;
    return tl::unexpected<Error>(std::move(error));
  }

  Status OnHeader() {
    auto parsed = ReadPatchHeader(pending);
    if (!parsed) return Fail(parsed.error());
    header = std::move(*parsed);
    have_header = true;
    block_size = format::GetU32(pending.data() + 12);
    if (block_size == 0 || block_size > format::kMaxBlockSize) {
      return Fail(Error(Errc::kInvalidArgument, "delta patch block size " + std::to_string(block_size) +
                                                    " is out of range"));
    }
    if (header.source_length != source.size()) {
      return Fail(Error(Errc::kVerificationFailed,
                        "wrong base: the patch applies to a " + std::to_string(header.source_length) +
                            "-byte image, this one has " + std::to_string(source.size()) + " bytes"));
    }
    if (!source_verified &&
        !crypto::ConstantTimeEqual(crypto::Sha256(source), header.source_sha256)) {
      return Fail(Error(Errc::kVerificationFailed,
                        "wrong base: the image's SHA-256 is not the one the patch was made from"));
    }
    StartRecord();
    return Ok();
  }

  void StartRecord() {
    pending.clear();
    if (produced == header.target_length) {
      phase = Phase::kDone;
      return;
    }
    phase = Phase::kRecordHead;
    need = 1;
  }

  Status OnRecordHead() {
    const std::uint8_t* p = pending.data();
    method = p[0];
    if (pending.size() == 1) {
      if (method == format::kMethodBsdiff) {
        need = format::kBsdiffHeadSize;
      } else if (method == format::kMethodZstdPrefix) {
        need = format::kZstdPrefixHeadSize;
      } else if ((method == format::kMethodLzmaSource && header.version >= 3) ||
                 (method == format::kMethodLzmaSourceFiltered && header.version >= 4)) {
        if (source.size() > format::kLzmaSourceLimit) {
          return Fail(Corrupt("an LZMA block over a source larger than " +
                              std::to_string(format::kLzmaSourceLimit >> 20) + " MiB"));
        }
        need = method == format::kMethodLzmaSource ? format::kLzmaSourceHeadSize
                                                   : format::kLzmaSourceFilteredHeadSize;
      } else {
        return Fail(Corrupt("unknown block method " + std::to_string(method)));
      }
      return Ok();
    }
    const std::uint64_t span = BlockSpan();
    std::uint64_t payload_size = 0;
    if (method == format::kMethodBsdiff) {
      control_raw = format::GetU32(p + 1);
      control_comp = format::GetU32(p + 5);
      diff_raw = format::GetU32(p + 9);
      diff_comp = format::GetU32(p + 13);
      extra_comp = format::GetU32(p + 17);
      prefix_offset = 0;
      prefix_length = 0;
      for (int i = 0; i < 2; ++i) codecs[i] = p[21 + i];
      const std::uint64_t extra_raw = diff_raw <= span ? span - diff_raw : 0;
      if (control_raw == 0 || control_raw > format::kMaxControlBytes || diff_raw > span ||
          control_comp == 0 || control_comp > FrameBound(control_raw) ||
          (diff_raw == 0) != (diff_comp == 0) || diff_comp > FrameBound(diff_raw) ||
          (extra_raw == 0) != (extra_comp == 0) || extra_comp > LiteralChunkBound(extra_raw) ||
          std::any_of(codecs, codecs + 2, [](std::uint8_t c) {
            return c != format::kCodecZstd && c != format::kCodecBzip2;
          })) {
        return Fail(Corrupt("a block's stream sizes are out of range"));
      }
      payload_size = std::uint64_t{control_comp} + diff_comp + extra_comp;
    } else if (method == format::kMethodZstdPrefix) {
      prefix_offset = format::GetU64(p + 1);
      prefix_length = format::GetU64(p + 9);
      stream_comp = format::GetU32(p + 17);
      if (stream_comp == 0 || stream_comp > FrameBound(span)) {
        return Fail(Corrupt("a block's frame size is out of range"));
      }
      payload_size = stream_comp;
    } else {
      prefix_offset = 0;
      prefix_length = source.size();
      filter = BranchFilter::kNone;
      std::size_t at = 1;
      if (method == format::kMethodLzmaSourceFiltered) {
        if (p[1] != static_cast<std::uint8_t>(BranchFilter::kX86) &&
            p[1] != static_cast<std::uint8_t>(BranchFilter::kArm64)) {
          return Fail(Corrupt("unknown branch filter " + std::to_string(p[1])));
        }
        filter = static_cast<BranchFilter>(p[1]);
        at = 2;
      }
      stream_comp = format::GetU32(p + at);
      if (stream_comp == 0 || stream_comp > LiteralChunkBound(span)) {
        return Fail(Corrupt("a block's stream size is out of range"));
      }
      payload_size = stream_comp;
    }
    if (prefix_offset > source.size() || prefix_length > source.size() - prefix_offset) {
      return Fail(Corrupt("a block refers past the end of the source"));
    }
    payload.clear();
    need = static_cast<std::size_t>(payload_size);
    phase = Phase::kPayload;
    return Ok();
  }

  Status Emit(ByteView bytes) {
    target_hash.Update(bytes);
    produced += bytes.size();
    if (auto written = out.Write(bytes); !written) return Fail(written.error());
    return Ok();
  }

  Status Stage(ByteView bytes) {
    while (!bytes.empty()) {
      std::size_t n = std::min(bytes.size(), kStagingBytes - staging.size());
      staging.insert(staging.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      bytes = bytes.subspan(n);
      if (staging.size() == kStagingBytes) {
        if (auto flushed = Flush(); !flushed) return flushed;
      }
    }
    return Ok();
  }

  Status Flush() {
    if (staging.empty()) return Ok();
    auto emitted = Emit(staging);
    staging.clear();
    return emitted;
  }

  Status OnPayload() {
    const auto span = static_cast<std::size_t>(BlockSpan());
    ByteView all(payload);
    ByteView prefix = source.subspan(static_cast<std::size_t>(prefix_offset),
                                     static_cast<std::size_t>(prefix_length));
    raw.resize(span);
    if (method != format::kMethodBsdiff) {
      Status decoded = Ok();
      if (method == format::kMethodZstdPrefix) {
        decoded = decompressor.Decompress(all, raw, prefix);
      } else if (method == format::kMethodLzmaSource) {
        decoded = LzmaSourceDecompress(all, raw, source);
      } else {
        // The converted source only lives until the decoder has copied it (MemoryBound).
        decoded = LzmaSourceDecompress(all, raw, FilteredCopy(source, filter), filter, produced);
      }
      if (!decoded) return Fail(decoded.error());
      if (auto emitted = Emit(raw); !emitted) return emitted;
      StartRecord();
      return Ok();
    }
    control.resize(control_raw);
    std::span<std::uint8_t> diff(raw.data(), diff_raw);
    std::span<std::uint8_t> extra(raw.data() + diff_raw, span - diff_raw);
    const ByteView frames[2] = {all.first(control_comp), all.subspan(control_comp, diff_comp)};
    const std::span<std::uint8_t> outs[2] = {control, diff};
    for (int i = 0; i < 2; ++i) {
      if (outs[i].empty()) continue;
      Status decoded = codecs[i] == format::kCodecBzip2 ? Bzip2Decompress(frames[i], outs[i])
                                                       : decompressor.Decompress(frames[i], outs[i]);
      if (!decoded) return Fail(decoded.error());
    }
    if (!extra.empty()) {
      ByteView chunk = all.subspan(control_comp + std::size_t{diff_comp}, extra_comp);
      if (auto decoded = literals.Decode(chunk, extra); !decoded) return Fail(decoded.error());
    }
    if (auto executed = Execute(diff, extra); !executed) return executed;
    StartRecord();
    return Ok();
  }

  // Runs the block's controls: every length and seek is checked against the source and the
  // streams before it is used.
  Status Execute(std::span<std::uint8_t> diff, ByteView extra) {
    VarintReader controls(control);
    auto start = controls.Next();
    if (!start || *start > source.size()) return Fail(Corrupt("a block starts past the source"));
    std::uint64_t pos = *start;
    std::size_t diff_at = 0;
    std::size_t extra_at = 0;
    while (!controls.done()) {
      auto diff_len = controls.Next();
      auto extra_len = controls.Next();
      auto seek = controls.Next();
      if (!diff_len || !extra_len || !seek) return Fail(Corrupt("a control is truncated"));
      if (*diff_len > diff.size() - diff_at || *diff_len > source.size() - pos ||
          *extra_len > extra.size() - extra_at) {
        return Fail(Corrupt("a control's length is out of range"));
      }
      auto n = static_cast<std::size_t>(*diff_len);
      if (n > 0) {
        std::span<std::uint8_t> d = diff.subspan(diff_at, n);
        ByteView s = source.subspan(static_cast<std::size_t>(pos), n);
        for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<std::uint8_t>(d[i] + s[i]);
        if (auto staged = Stage(d); !staged) return staged;
      }
      diff_at += n;
      pos += n;
      auto e = static_cast<std::size_t>(*extra_len);
      if (auto staged = Stage(extra.subspan(extra_at, e)); !staged) return staged;
      extra_at += e;
      std::int64_t delta = format::UnZigZag(*seek);
      if ((delta < 0 && static_cast<std::uint64_t>(-(delta + 1)) + 1 > pos) ||
          (delta > 0 && static_cast<std::uint64_t>(delta) > source.size() - pos)) {
        return Fail(Corrupt("a control seeks outside the source"));
      }
      pos += static_cast<std::uint64_t>(delta);
    }
    if (diff_at != diff.size() || extra_at != extra.size()) {
      return Fail(Corrupt("a block's controls do not cover its streams"));
    }
    return Flush();
  }

  Status Feed(ByteView data) {
    while (!data.empty()) {
      switch (phase) {
        case Phase::kFailed:
          return tl::unexpected<Error>(*failure);
        case Phase::kDone:
          return Fail(Corrupt("trailing bytes after the last block"));
        case Phase::kHeader:
        case Phase::kRecordHead: {
          if (phase == Phase::kHeader) need = format::kHeaderSize;
          std::size_t n = std::min(data.size(), need - pending.size());
          pending.insert(pending.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
          data = data.subspan(n);
          if (pending.size() < need) break;
          Status step = phase == Phase::kHeader ? OnHeader() : OnRecordHead();
          if (!step) return step;
          break;
        }
        case Phase::kPayload: {
          std::size_t n = std::min(data.size(), need - payload.size());
          payload.insert(payload.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
          data = data.subspan(n);
          if (payload.size() == need) {
            if (auto step = OnPayload(); !step) return step;
          }
          break;
        }
      }
    }
    return Ok();
  }
};

PatchApplier::PatchApplier(ByteView source, io::Writer& out, bool source_verified)
    : state_(std::make_unique<State>(source, out, source_verified)) {}

PatchApplier::~PatchApplier() = default;

Status PatchApplier::Write(ByteView patch_bytes) { return state_->Feed(patch_bytes); }

Status PatchApplier::Finish() {
  State& s = *state_;
  if (s.phase == State::Phase::kFailed) return tl::unexpected<Error>(*s.failure);
  if (s.phase != State::Phase::kDone) {
    return s.Fail(Corrupt(s.phase == State::Phase::kHeader ? "the patch ended inside its header"
                                                           : "the patch ended early"));
  }
  if (s.produced != s.header.target_length ||
      !crypto::ConstantTimeEqual(s.target_hash.Finish(), s.header.target_sha256)) {
    return s.Fail(Error(Errc::kVerificationFailed,
                        "the patched image does not have the SHA-256 the patch promises"));
  }
  s.phase = State::Phase::kFailed;  // Finish() consumes the hasher: a second call must not pass
  s.failure = Error(Errc::kInternal, "Finish() called twice");
  return Ok();
}

const PatchHeader* PatchApplier::header() const noexcept {
  return state_->have_header ? &state_->header : nullptr;
}

std::size_t PatchApplier::MemoryBound(std::uint64_t source_length) {
  // raw block + largest payload (frames and literal chunk) + control + staging + the literal
  // stream's dictionary + zstd context and the small head buffers; for a source small enough
  // for LZMA blocks over it, their decoder (its dictionary holds the source and a block) and,
  // for the filtered method, the converted source it starts from.
  std::size_t bound = format::kMaxBlockSize +
                      std::max(FrameBound(format::kMaxBlockSize), LiteralChunkBound(format::kMaxBlockSize)) +
                      2 * FrameBound(format::kMaxControlBytes) + kStagingBytes +
                      LiteralDecoder::MemoryBound() + (1u << 20);
  if (source_length <= format::kLzmaSourceLimit) {
    bound += std::max({LzmaSourceMemory(source_length, format::kMaxBlockSize),
                       LzmaSourceMemory(source_length, format::kMaxBlockSize, BranchFilter::kX86),
                       LzmaSourceMemory(source_length, format::kMaxBlockSize, BranchFilter::kArm64)});
  }
  return bound;
}

Status ApplyPatch(ByteView source, ByteView patch, io::Writer& out) {
  PatchApplier applier(source, out);
  if (auto written = applier.Write(patch); !written) return written;
  return applier.Finish();
}

}  // namespace aloft::core::delta
