// The counting operator new below pairs malloc with free; g++ cannot see that through gtest's
// inlined new/delete and warns.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "agent/install/installer.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "agent/install/chunked_source_for_tests.hpp"
#include "agent/install/plan.hpp"
#include "agent/install/stream_writers.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/slots/slot_writer.hpp"
#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

// Counts the bytes the program allocates through operator new while `g_counting` is on, to
// show the pipeline's memory does not grow with the image. (zstd allocates with malloc; its
// window is bounded separately by kMaxWindowLog.)
namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_new_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_new_bytes += size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace aloft::agent::install {
namespace {

namespace posix = platform::posix;
using slots::SlotId;

Bytes RandomImage(std::size_t size) {
  Bytes out(size);
  EXPECT_TRUE(core::crypto::RandomBytes(out));
  return out;
}

Bytes Compress(ByteView data, int level = 3) {
  Bytes out(ZSTD_compressBound(data.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

core::metadata::TargetFile TargetFor(ByteView artifact) {
  core::metadata::TargetFile target;
  target.length = static_cast<std::int64_t>(artifact.size());
  target.hashes["sha256"] = core::crypto::Sha256Hex(artifact);
  return target;
}

core::uptane::PayloadInfo PayloadFor(ByteView image, std::string compression) {
  core::uptane::PayloadInfo payload;
  payload.compression = std::move(compression);
  payload.length = static_cast<std::int64_t>(image.size());
  payload.sha256 = core::crypto::Sha256Hex(image);
  return payload;
}

// The signed per-chunk digests of `artifact` in `size`-byte chunks.
core::uptane::ChunkInfo ChunksFor(ByteView artifact, std::size_t size) {
  core::uptane::ChunkInfo chunks;
  chunks.size = static_cast<std::int64_t>(size);
  for (std::size_t at = 0; at < artifact.size(); at += size) {
    chunks.sha256.push_back(
        core::crypto::Sha256Hex(artifact.subspan(at, std::min(size, artifact.size() - at))));
  }
  return chunks;
}

class InstallerTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto boot = slots::SimulatedBootloader::Open(dir_ / "boot.json");
    ASSERT_TRUE(boot) << boot.error().ToString();
    boot_ = std::move(*boot);
    pair_.a = {SlotId::kA, slots::SlotKind::kFile, dir_ / "slot_a"};
    pair_.b = {SlotId::kB, slots::SlotKind::kFile, dir_ / "slot_b"};
    ASSERT_TRUE(posix::AtomicWriteFile(pair_.a.device, AsBytes("running system")));
    ASSERT_TRUE(posix::AtomicWriteFile(pair_.b.device, AsBytes("old b")));
  }

  InstallPlan Plan(const Bytes& artifact, const std::optional<core::uptane::PayloadInfo>& payload,
                   const std::optional<core::uptane::ChunkInfo>& chunks = std::nullopt,
                   bool chunks_agreed = false) {
    auto plan =
        MakeInstallPlan(TargetFor(artifact), payload, chunks, pair_, SlotId::kA, chunks_agreed);
    EXPECT_TRUE(plan) << plan.error().ToString();
    return plan ? *plan : InstallPlan{};
  }

  slots::BootState State() {
    auto state = boot_->State();
    EXPECT_TRUE(state) << state.error().ToString();
    return state ? *state : slots::BootState{};
  }

  Bytes SlotBytes(SlotId id) {
    auto bytes = posix::ReadFile(pair_.Get(id).device, 64 << 20);
    EXPECT_TRUE(bytes) << bytes.error().ToString();
    return bytes ? *bytes : Bytes{};
  }

  // A failed install leaves the bootloader exactly as it was and the running slot untouched.
  void ExpectUntouched(const slots::BootState& before) {
    EXPECT_EQ(State(), before);
    EXPECT_FALSE(State().trial);
    EXPECT_EQ(SlotBytes(SlotId::kA), ToBytes("running system"));
  }

  std::unique_ptr<slots::SimulatedBootloader> boot_;
  slots::SlotPair pair_;
};

TEST_F(InstallerTest, CompressedImageInstallsVerifiesAndPreparesTrial) {
  const Bytes image = RandomImage(4 << 20);
  const Bytes artifact = Compress(image);
  const InstallPlan plan = Plan(artifact, PayloadFor(image, "zstd"));
  EXPECT_EQ(plan.target.id, SlotId::kB);
  EXPECT_EQ(plan.compression, Compression::kZstd);

  std::uint64_t last_in = 0;
  std::uint64_t last_out = 0;
  int calls = 0;
  Installer installer(*boot_);
  const auto progress = [&](std::uint64_t in, std::uint64_t out) {
    EXPECT_GE(in, last_in);
    EXPECT_GE(out, last_out);
    last_in = in;
    last_out = out;
    ++calls;
  };
  const Status ok = installer.Run(plan, ChunkedSource(artifact), progress);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(SlotBytes(SlotId::kB), image);
  EXPECT_EQ(last_in, artifact.size());
  EXPECT_GT(calls, 1);
  EXPECT_LE(last_out, image.size());

  const slots::BootState state = State();
  EXPECT_TRUE(state.TrialPending());
  EXPECT_EQ(state.primary, SlotId::kB);
  EXPECT_EQ(boot_->SimulateReboot()->booted, SlotId::kB);
  EXPECT_TRUE(State().IsTrialBoot());
}

TEST_F(InstallerTest, UncompressedImageWithPayload) {
  const Bytes image = RandomImage((1 << 20) + 333);
  Installer installer(*boot_);
  const Status ok =
      installer.Run(Plan(image, PayloadFor(image, "none")), ChunkedSource(image, 4096));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(SlotBytes(SlotId::kB), image);
  EXPECT_TRUE(State().TrialPending());
}

TEST_F(InstallerTest, RawArtifactWithoutPayload) {
  const Bytes image = RandomImage(300000);
  Installer installer(*boot_);
  const Status ok = installer.Run(Plan(image, std::nullopt), ChunkedSource(image, 1 << 20));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(SlotBytes(SlotId::kB), image);
}

TEST_F(InstallerTest, TamperedCompressedByteFailsAndBootloaderUntouched) {
  const Bytes image = RandomImage(1 << 20);
  const Bytes artifact = Compress(image);
  const InstallPlan plan = Plan(artifact, PayloadFor(image, "zstd"));
  for (const std::size_t where : {std::size_t{20}, artifact.size() / 2, artifact.size() - 2}) {
    Bytes tampered = artifact;
    tampered[where] ^= 0x40;
    const slots::BootState before = State();
    const Status failed = Installer(*boot_).Run(plan, ChunkedSource(tampered));
    ASSERT_FALSE(failed) << where;
    EXPECT_EQ(failed.error().code(), Errc::kVerificationFailed) << failed.error().ToString();
    ExpectUntouched(before);
  }
}

// Offsets of the zstd block headers of the single frame `artifact` (RFC 8878 §3.1.1).
std::vector<std::size_t> ZstdBlockHeaders(const Bytes& artifact) {
  std::vector<std::size_t> headers;
  const std::uint8_t fhd = artifact.at(4);
  const bool single_segment = (fhd & 0x20) != 0;
  const std::size_t dict_id_sizes[] = {0, 1, 2, 4};
  const std::size_t content_size_sizes[] = {single_segment ? 1U : 0U, 2, 4, 8};
  std::size_t at =
      5 + (single_segment ? 0 : 1) + dict_id_sizes[fhd & 3] + content_size_sizes[fhd >> 6];
  for (;;) {
    headers.push_back(at);
    const std::uint32_t header = static_cast<std::uint32_t>(artifact.at(at)) |
                                 (static_cast<std::uint32_t>(artifact.at(at + 1)) << 8) |
                                 (static_cast<std::uint32_t>(artifact.at(at + 2)) << 16);
    const std::uint32_t type = (header >> 1) & 3;
    at += 3 + (type == 1 ? 1 : header >> 3);  // RLE blocks hold one byte
    if ((header & 1) != 0) return headers;
  }
}

// Compressible, not random: zstd codes it in compressed blocks, as it does real binaries.
Bytes TextLikeImage(std::size_t size) {
  Bytes out(size);
  std::mt19937 rng(12345);  // fixed seed: the same bytes, hence the same blocks, on every run
  for (auto& b : out) b = static_cast<std::uint8_t>('a' + rng() % 16);
  return out;
}

TEST_F(InstallerTest, TamperedStreamStopsTheWriteEarly) {
  // A stream whose structure was tampered with (here: a block header a quarter of the way in,
  // set to the reserved block type) fails at that block: the download is cut there, the slot
  // receives at most what came before, and the bootloader is never touched. (A flipped bit
  // inside a block's entropy-coded data is caught by zstd when it breaks the block, and at the
  // latest by the artifact's signed hashes at the end of the stream, before the fsync and long
  // before the trial boot: TamperedCompressedByteFailsAndBootloaderUntouched.)
  const Bytes image = TextLikeImage(8 << 20);
  const Bytes artifact = Compress(image);
  const InstallPlan plan = Plan(artifact, PayloadFor(image, "zstd"));
  const std::vector<std::size_t> headers = ZstdBlockHeaders(artifact);
  ASSERT_GT(headers.size(), 16U);
  const auto quarter = std::find_if(headers.begin(), headers.end(),
                                    [&](std::size_t at) { return at >= artifact.size() / 4; });
  ASSERT_NE(quarter, headers.end());
  const std::size_t where = *quarter;
  Bytes tampered = artifact;
  tampered[where] |= 0x06;  // block type 3: reserved

  std::size_t pushed = 0;
  const ArtifactSource counting = ChunkedSource(tampered, 65521, nullptr, &pushed);
  std::uint64_t to_slot = 0;
  const slots::BootState before = State();
  const Status failed = Installer(*boot_).Run(
      plan, counting, [&](std::uint64_t, std::uint64_t image_bytes) { to_slot = image_bytes; });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kVerificationFailed) << failed.error().ToString();
  EXPECT_LE(pushed, where) << "the chunk holding the tampered header was refused";
  EXPECT_LT(pushed, tampered.size() / 2);
  EXPECT_LT(to_slot, image.size() / 2) << "the slot got only what came before the tampering";
  ExpectUntouched(before);
}

TEST_F(InstallerTest, SignedChunkDigestsStopAFlippedDataByteWithinItsChunk) {
  // Random data compresses to raw blocks, which zstd copies without any check of its own: a
  // flipped byte in one is invisible until the whole artifact's hash at the end of the stream,
  // unless the release signs per-chunk digests.
  const Bytes image = RandomImage(8 << 20);
  const Bytes artifact = Compress(image);
  constexpr std::size_t kChunkSize = 64 << 10;
  const std::size_t where = artifact.size() / 4 + 1000;
  Bytes tampered = artifact;
  tampered[where] ^= 0x10;

  // The network's 65521-byte pieces do not line up with the chunks.
  const auto install = [&](const InstallPlan& plan, std::size_t& pushed) {
    return Installer(*boot_).Run(plan, ChunkedSource(tampered, 65521, nullptr, &pushed));
  };
  const slots::BootState before = State();

  std::size_t pushed = 0;
  Status failed = install(Plan(artifact, PayloadFor(image, "zstd")), pushed);
  ASSERT_FALSE(failed);
  EXPECT_EQ(pushed, tampered.size()) << "without chunk digests, only the end catches it";

  failed =
      install(Plan(artifact, PayloadFor(image, "zstd"), ChunksFor(artifact, kChunkSize)), pushed);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kVerificationFailed) << failed.error().ToString();
  const std::size_t chunk = where / kChunkSize;
  EXPECT_NE(failed.error().message().find("chunk " + std::to_string(chunk)), std::string::npos)
      << failed.error().ToString();
  EXPECT_LT(pushed, (chunk + 1) * kChunkSize) << "the piece that completed the chunk was refused";
  ExpectUntouched(before);

  // The same when the Director agreed on the digests and the whole-artifact pass is left out.
  failed = install(Plan(artifact, PayloadFor(image, "zstd"), ChunksFor(artifact, kChunkSize),
                        /*chunks_agreed=*/true),
                   pushed);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message().find("chunk " + std::to_string(chunk)), std::string::npos);
  EXPECT_LT(pushed, (chunk + 1) * kChunkSize);
  ExpectUntouched(before);

  // The untampered artifact installs with the same digests.
  tampered = artifact;
  ASSERT_TRUE(
      install(Plan(artifact, PayloadFor(image, "zstd"), ChunksFor(artifact, kChunkSize)), pushed));
  EXPECT_EQ(SlotBytes(SlotId::kB), image);
}

TEST_F(InstallerTest, ChunkDigestsTheDirectorAgreedOnReplaceTheWholeArtifactPass) {
  // The plan's whole-artifact hash is made wrong on purpose: only a pass over it can notice.
  const Bytes image = RandomImage((1 << 20) + 333);
  const Bytes artifact = Compress(image);
  const auto plan = [&](bool agreed) {
    InstallPlan p =
        Plan(artifact, PayloadFor(image, "zstd"), ChunksFor(artifact, 64 << 10), agreed);
    p.artifact_hashes["sha256"] = core::crypto::Sha256Hex(AsBytes("another artifact"));
    return p;
  };
  const Status checked = Installer(*boot_).Run(plan(false), ChunkedSource(artifact));
  ASSERT_FALSE(checked) << "Image-only chunk digests come on top of the whole hash";
  EXPECT_EQ(checked.error().code(), Errc::kVerificationFailed);
  const Status agreed = Installer(*boot_).Run(plan(true), ChunkedSource(artifact));
  ASSERT_TRUE(agreed) << agreed.error().ToString();
  EXPECT_EQ(SlotBytes(SlotId::kB), image);

  // Without the whole-artifact check, the chunk writer alone holds the signed length.
  InstallPlan longer = plan(true);
  Bytes extra = artifact;
  extra.push_back(0);
  const Status too_long = Installer(*boot_).Run(longer, ChunkedSource(extra));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), Errc::kTooLarge) << too_long.error().ToString();
}

TEST_F(InstallerTest, WrongImageDigestFailsBeforeTrialBoot) {
  const Bytes image = RandomImage(1 << 20);
  const Bytes artifact = Compress(image);
  core::uptane::PayloadInfo payload = PayloadFor(image, "zstd");
  payload.sha256 = core::crypto::Sha256Hex(AsBytes("something else"));
  const slots::BootState before = State();
  const Status failed = Installer(*boot_).Run(Plan(artifact, payload), ChunkedSource(artifact));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(failed.error().message().find("image"), std::string::npos) << failed.error().ToString();
  ExpectUntouched(before);
}

TEST_F(InstallerTest, DecompressionBombStopsAtSignedLength) {
  // 32 MiB of zeroes compress to about a kilobyte; the signed image claims 1 MiB.
  const Bytes bomb = Compress(Bytes(32 << 20, 0), 19);
  ASSERT_LT(bomb.size(), 8192U);
  core::uptane::PayloadInfo payload = PayloadFor(Bytes(1 << 20, 0), "zstd");
  const slots::BootState before = State();
  const Status failed = Installer(*boot_).Run(Plan(bomb, payload), ChunkedSource(bomb));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kTooLarge) << failed.error().ToString();
  ExpectUntouched(before);
  EXPECT_LE(std::filesystem::file_size(pair_.b.device), std::uintmax_t{1} << 20);
}

TEST_F(InstallerTest, TruncatedStreamFails) {
  const Bytes image = RandomImage(1 << 20);
  const Bytes artifact = Compress(image);
  const InstallPlan plan = Plan(artifact, PayloadFor(image, "zstd"));
  const Bytes truncated(artifact.begin(), artifact.end() - 100);
  const slots::BootState before = State();
  const Status failed = Installer(*boot_).Run(plan, ChunkedSource(truncated));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kVerificationFailed) << failed.error().ToString();
  ExpectUntouched(before);
}

TEST_F(InstallerTest, ActiveSlotIsRefused) {
  const Bytes image = RandomImage(4096);
  InstallPlan plan = Plan(image, std::nullopt);
  plan.target = pair_.a;  // a corrupted or hostile plan aiming at the running slot
  const slots::BootState before = State();
  const Status failed = Installer(*boot_).Run(plan, ChunkedSource(image));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kInvalidArgument);
  ExpectUntouched(before);
}

TEST_F(InstallerTest, SourceFailureIsPropagated) {
  const Bytes image = RandomImage(1 << 20);
  const Bytes artifact = Compress(image);
  const slots::BootState before = State();
  const Status failed = Installer(*boot_).Run(
      Plan(artifact, PayloadFor(image, "zstd")), [&](core::io::Writer& sink) -> Status {
        if (auto ok = sink.Write(ByteView(artifact).first(1000)); !ok) return ok;
        return Fail(Errc::kUnavailable, "connection reset");
      });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kUnavailable);
  ExpectUntouched(before);
}

// A real write error: the file-size limit makes preallocation fail with EFBIG.
TEST_F(InstallerTest, SlotWriteErrorFailsCleanly) {
  const Bytes image = RandomImage(4 << 20);
  const Bytes artifact = Compress(image);
  const InstallPlan plan = Plan(artifact, PayloadFor(image, "zstd"));
  const slots::BootState before = State();
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = old;
  limited.rlim_cur = 2 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  const Status failed = Installer(*boot_).Run(plan, ChunkedSource(artifact));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kNoSpace) << failed.error().ToString();
  ExpectUntouched(before);
}

TEST_F(InstallerTest, PendingTrialOfTargetIsCancelledBeforeWriting) {
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  const Bytes image = RandomImage(4096);
  Bytes bad = image;
  bad[0] ^= 1;
  // Even a failed install must not leave the bootloader pointing at the overwritten slot.
  ASSERT_FALSE(Installer(*boot_).Run(Plan(image, std::nullopt), ChunkedSource(bad)));
  EXPECT_EQ(State().primary, SlotId::kA);
  EXPECT_FALSE(State().trial);
  ASSERT_TRUE(Installer(*boot_).Run(Plan(image, std::nullopt), ChunkedSource(image)));
  EXPECT_TRUE(State().TrialPending());
}

TEST_F(InstallerTest, MemoryDoesNotGrowWithImageSize) {
  const auto allocated_for = [&](std::size_t size) -> std::size_t {
    const Bytes image = RandomImage(size);
    const Bytes artifact = Compress(image, 1);
    const InstallPlan plan = Plan(artifact, PayloadFor(image, "zstd"));
    const ArtifactSource source = ChunkedSource(artifact);
    Installer installer(*boot_);
    EXPECT_TRUE(boot_->MarkBad(SlotId::kB));
    g_new_bytes = 0;
    g_counting = true;
    const Status ok = installer.Run(plan, source);
    g_counting = false;
    EXPECT_TRUE(ok) << ok.error().ToString();
    return g_new_bytes.load();
  };
  const std::size_t small = allocated_for(1 << 20);
  const std::size_t large = allocated_for(16 << 20);
  // The fixed buffers (2 x 512 KiB slot chunks via aligned_alloc, which zstd decodes into,
  // then 2 x 512 KiB verify buffers) plus bookkeeping; the same amount whatever the image size.
  EXPECT_LT(large, std::size_t{3} << 20);
  EXPECT_LT(large > small ? large - small : small - large, std::size_t{16} << 10)
      << small << " vs " << large;
  EXPECT_EQ(Installer::BufferBytes(Compression::kZstd), slots::SlotWriter::kBufferBytes);
}

// --- ZstdDecompressWriter on its own ---------------------------------------------------------

TEST(ZstdDecompressWriterTest, RejectsTrailingGarbage) {
  const Bytes image = RandomImage(10000);
  Bytes artifact = Compress(image);
  artifact.insert(artifact.end(), {'j', 'u', 'n', 'k', 0, 1, 2, 3, 4, 5});
  core::io::BytesWriter out(1 << 20);
  auto zstd = ZstdDecompressWriter::Create(out);
  ASSERT_TRUE(zstd);
  const Status written = (*zstd)->Write(artifact);
  const Status finished = written ? (*zstd)->Finish() : written;
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().code(), Errc::kVerificationFailed);
}

TEST(ZstdDecompressWriterTest, AcceptsConcatenatedFramesInTinyPieces) {
  const Bytes one = RandomImage(5000);
  const Bytes two(70000, 7);
  Bytes artifact = Compress(one);
  const Bytes second = Compress(two);
  artifact.insert(artifact.end(), second.begin(), second.end());
  core::io::BytesWriter out(1 << 20);
  auto zstd = ZstdDecompressWriter::Create(out);
  ASSERT_TRUE(zstd);
  for (const std::uint8_t byte : artifact) ASSERT_TRUE((*zstd)->Write(ByteView(&byte, 1)));
  ASSERT_TRUE((*zstd)->Finish());
  Bytes expected = one;
  expected.insert(expected.end(), two.begin(), two.end());
  EXPECT_EQ(out.bytes(), expected);
}

// An InPlaceWriter that lends a few bytes at a time: the decoder must make progress through any
// space it is given and produce the same bytes as through Write().
class TinySpaceWriter final : public core::io::InPlaceWriter {
 public:
  explicit TinySpaceWriter(std::size_t space) : buffer_(space) {}
  Status Write(ByteView data) override {
    writes_++;
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return Ok();
  }
  Result<std::span<std::uint8_t>> Space() override { return std::span<std::uint8_t>(buffer_); }
  Status Commit(std::size_t n) override {
    if (n > buffer_.size()) return Fail(Errc::kInternal, "commit beyond the space");
    bytes_.insert(bytes_.end(), buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    return Ok();
  }
  const Bytes& bytes() const { return bytes_; }
  int writes() const { return writes_; }

 private:
  Bytes buffer_;
  Bytes bytes_;
  int writes_ = 0;
};

TEST(ZstdDecompressWriterTest, DecodesInPlaceThroughAnySpace) {
  const Bytes one = RandomImage(300000);
  const Bytes two(200000, 9);
  Bytes artifact = Compress(one);
  const Bytes second = Compress(two);
  artifact.insert(artifact.end(), second.begin(), second.end());
  Bytes expected = one;
  expected.insert(expected.end(), two.begin(), two.end());
  for (const std::size_t space : {std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
    TinySpaceWriter out(space);
    auto zstd = ZstdDecompressWriter::Create(out);
    ASSERT_TRUE(zstd);
    EXPECT_EQ((*zstd)->out_buffer_size(), 0u) << "no output buffer of its own";
    for (std::size_t at = 0; at < artifact.size(); at += 65536) {
      const std::size_t n = std::min<std::size_t>(65536, artifact.size() - at);
      ASSERT_TRUE((*zstd)->Write(ByteView(artifact).subspan(at, n)));
    }
    ASSERT_TRUE((*zstd)->Finish());
    EXPECT_EQ(out.writes(), 0) << "every byte went in place";
    EXPECT_EQ(out.bytes(), expected) << "space " << space;
  }
}

TEST(ZstdDecompressWriterTest, EmptyStreamFails) {
  core::io::BytesWriter out(16);
  auto zstd = ZstdDecompressWriter::Create(out);
  ASSERT_TRUE(zstd);
  EXPECT_EQ((*zstd)->Finish().error().code(), Errc::kVerificationFailed);
}

TEST(ZstdDecompressWriterTest, RejectsWindowBeyondLimit) {
  // A frame of unknown size with a 2 GiB window: the decoder must refuse, not allocate.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ASSERT_NE(cctx, nullptr);
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 31)));
  const Bytes input(1000, 1);
  Bytes frame(ZSTD_compressBound(input.size()) + 64);
  // Feeding with ZSTD_e_continue first keeps the content size unknown, so zstd cannot shrink
  // the window to fit the input.
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  ZSTD_outBuffer outbuf{frame.data(), frame.size(), 0};
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &outbuf, &in, ZSTD_e_continue)));
  ZSTD_inBuffer none{nullptr, 0, 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &outbuf, &none, ZSTD_e_end), 0U);
  ZSTD_freeCCtx(cctx);
  frame.resize(outbuf.pos);

  core::io::BytesWriter out(1 << 20);
  auto zstd = ZstdDecompressWriter::Create(out);
  ASSERT_TRUE(zstd);
  const Status written = (*zstd)->Write(frame);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::kVerificationFailed);
}

// --- MakeInstallPlan ------------------------------------------------------------------------

TEST(InstallPlanTest, RefusesBadInputs) {
  slots::SlotPair pair;
  pair.a = {SlotId::kA, slots::SlotKind::kBlockDevice, "/dev/mmcblk0p2"};
  pair.b = {SlotId::kB, slots::SlotKind::kBlockDevice, "/dev/mmcblk0p3"};
  const Bytes image(100, 1);
  const core::metadata::TargetFile target = TargetFor(image);
  const core::uptane::PayloadInfo payload = PayloadFor(image, "none");

  auto plan = MakeInstallPlan(target, payload, std::nullopt, pair, SlotId::kB);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->target.device, "/dev/mmcblk0p2");
  EXPECT_EQ(plan->image_length, 100U);

  const auto code = [&](auto mutate) {
    core::metadata::TargetFile t = target;
    std::optional<core::uptane::PayloadInfo> p = payload;
    slots::SlotPair s = pair;
    mutate(t, p, s);
    auto result = MakeInstallPlan(t, p, std::nullopt, s, SlotId::kA);
    return result ? std::optional<Errc>() : std::optional<Errc>(result.error().code());
  };
  using T = core::metadata::TargetFile;
  using P = std::optional<core::uptane::PayloadInfo>;
  using S = slots::SlotPair;
  EXPECT_EQ(code([](T&, P& p, S&) { p->compression = "xz"; }), Errc::kUnsupported);
  EXPECT_EQ(code([](T&, P& p, S&) { p->format = "delta"; }), Errc::kUnsupported);
  EXPECT_EQ(code([](T&, P& p, S&) { p->length = 99; }), Errc::kInvalidArgument);
  EXPECT_EQ(code([](T&, P& p, S&) { p->sha256 = "abcd"; }), Errc::kInvalidArgument);
  EXPECT_EQ(code([](T& t, P&, S&) { t.length = 0; }), Errc::kInvalidArgument);
  EXPECT_EQ(code([](T& t, P&, S&) { t.hashes.clear(); }), Errc::kInvalidArgument);
  EXPECT_EQ(code([](T& t, P& p, S&) {
              p.reset();
              t.hashes = {{"sha512", "00"}};
            }),
            Errc::kInvalidArgument);
  EXPECT_EQ(code([](T&, P&, S& s) { s.b.device = s.a.device; }), Errc::kInvalidArgument);
  EXPECT_EQ(code([](T&, P&, S& s) { s.b.id = SlotId::kA; }), Errc::kInvalidArgument);
  EXPECT_EQ(code([](T&, P& p, S&) {
              p->compression = "zstd";
              p->length = 5000;
            }),
            std::nullopt);

  // Chunk digests must cover the artifact exactly (100 bytes: one chunk of any size).
  const auto chunked = [&](std::size_t count) {
    core::uptane::ChunkInfo chunks{4096, std::vector<std::string>(count, std::string(64, 'a'))};
    return MakeInstallPlan(target, payload, chunks, pair, SlotId::kB);
  };
  ASSERT_TRUE(chunked(1));
  EXPECT_EQ(chunked(1)->artifact_chunks->size, 4096U);
  EXPECT_EQ(chunked(1)->artifact_chunks->sha256, std::vector<Bytes>{Bytes(32, 0xaa)});
  EXPECT_EQ(chunked(2).error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(MakeInstallPlan(target, payload, std::nullopt, pair, SlotId::kB)->artifact_chunks);
}

}  // namespace
}  // namespace aloft::agent::install
