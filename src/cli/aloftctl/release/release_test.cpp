#include <gtest/gtest.h>
#include <zstd.h>

#include <random>

#include "cli/aloftctl/keys/ceremony.hpp"
#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/release/artifact.hpp"
#include "cli/aloftctl/release/delta.hpp"
#include "cli/aloftctl/release/staging.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::release {
namespace {

namespace md = core::metadata;
namespace posix = platform::posix;
using core::crypto::KeyType;
using core::crypto::PrivateKey;

constexpr std::string_view kPassphrase = "correct horse battery";

Bytes Image(std::size_t size) {
  // Compressible but not trivially: a repeating pattern with a counter in it.
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::uint8_t>((i % 251) ^ ((i / 4096) & 0xFF));
  }
  return out;
}

// Whether a streaming decoder that holds at most a 2^window_log-byte window (as a device's
// does) accepts the frame.
bool DecodesWithin(const Bytes& frame, int window_log) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  EXPECT_FALSE(ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, window_log)));
  Bytes out(ZSTD_DStreamOutSize());
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  std::size_t rc = 1;
  while (rc != 0 && !ZSTD_isError(rc)) {
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    rc = ZSTD_decompressStream(dctx, &o, &in);
  }
  ZSTD_freeDCtx(dctx);
  return rc == 0;
}

Bytes Decompress(const Bytes& frame) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  EXPECT_NE(size, ZSTD_CONTENTSIZE_UNKNOWN);
  EXPECT_NE(size, ZSTD_CONTENTSIZE_ERROR);
  Bytes out(static_cast<std::size_t>(size));
  const size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

class ReleaseTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    keys::InitOptions options;
    options.targets = {2, 2};
    online_snapshot_ = *PrivateKey::Generate(KeyType::kEd25519);
    online_timestamp_ = *PrivateKey::Generate(KeyType::kEd25519);
    auto init = keys::InitRepository(
        dir_ / "repo", options,
        keys::OnlinePublicKeys{online_snapshot_.Public(), online_timestamp_.Public()}, kPassphrase,
        now_);
    ASSERT_TRUE(init) << init.error().ToString();
    for (const auto& file : init->keys) {
      if (file.role == "targets") targets_keys_.push_back(*keys::LoadKey(file.path, kPassphrase));
    }
    repo_.emplace(*repo::OfflineRepo::Open(dir_ / "repo"));
  }

  Artifact Compress(const Bytes& image, const std::string& file = "rootfs.ext4") {
    EXPECT_TRUE(posix::AtomicWriteFile(dir_ / file, image));
    auto artifact = CompressImage(dir_ / file, repo_->artifacts_dir(), {.level = 3});
    EXPECT_TRUE(artifact) << artifact.error().ToString();
    return artifact ? *artifact : Artifact{};
  }

  ReleaseSpec Spec(std::string name, std::string version = "2.0.0") {
    return ReleaseSpec{std::move(name), std::move(version), {"rpi4"}, 3, ""};
  }

  void SignAll() {
    for (const auto& key : targets_keys_) ASSERT_TRUE(repo::SignStaged(*repo_, key));
  }

  Timestamp now_ = testing::RepoBuilder::DefaultNow();
  PrivateKey online_snapshot_, online_timestamp_;
  std::vector<PrivateKey> targets_keys_;
  std::optional<repo::OfflineRepo> repo_;
};

TEST_F(ReleaseTest, CompressedArtifactRoundTrips) {
  const Bytes image = Image(3 * 1024 * 1024 + 17);
  std::vector<std::uint64_t> progress;
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "img", image));
  auto artifact = CompressImage(dir_ / "img", repo_->artifacts_dir(), {.level = 3},
                                [&](std::uint64_t done, std::uint64_t total) {
                                  EXPECT_EQ(total, image.size());
                                  progress.push_back(done);
                                });
  ASSERT_TRUE(artifact) << artifact.error().ToString();
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), image.size());

  auto stored = posix::ReadFile(artifact->path, 64 << 20);
  ASSERT_TRUE(stored);
  EXPECT_EQ(artifact->path, repo_->ArtifactPath(artifact->sha256));
  EXPECT_EQ(artifact->length, static_cast<std::int64_t>(stored->size()));
  EXPECT_LT(stored->size(), image.size());
  EXPECT_EQ(artifact->sha256, core::crypto::Sha256Hex(*stored));
  EXPECT_EQ(artifact->image_length, static_cast<std::int64_t>(image.size()));
  EXPECT_EQ(artifact->image_sha256, core::crypto::Sha256Hex(image));
  EXPECT_EQ(Decompress(*stored), image);
  // Only the finished artifact is left behind.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(repo_->artifacts_dir())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{artifact->sha256});
}

TEST_F(ReleaseTest, ArtifactCarriesChunkDigestsAndTheChosenWindow) {
  // Incompressible, so that the artifact spans three 1 MiB chunks.
  Bytes image((5 << 20) / 2);
  std::mt19937 random(7);
  for (auto& b : image) b = static_cast<std::uint8_t>(random());
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "img", image));
  for (int window_log : {10, 20, 23}) {
    auto artifact =
        CompressImage(dir_ / "img", repo_->artifacts_dir(), {.level = 3, .window_log = window_log});
    ASSERT_TRUE(artifact) << artifact.error().ToString();
    auto stored = posix::ReadFile(artifact->path, 64 << 20);
    ASSERT_TRUE(stored);
    EXPECT_EQ(Decompress(*stored), image);
    EXPECT_TRUE(DecodesWithin(*stored, window_log)) << window_log;
    if (window_log > 10) {
      EXPECT_FALSE(DecodesWithin(*stored, 10)) << window_log;
    }

    ASSERT_EQ(artifact->chunk_size, 1 << 20);
    ASSERT_EQ(artifact->chunk_sha256.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
      const std::size_t from = i << 20;
      const std::size_t n = std::min<std::size_t>(1 << 20, stored->size() - from);
      EXPECT_EQ(artifact->chunk_sha256[i],
                core::crypto::Sha256Hex(ByteView(stored->data() + from, n)));
    }
  }
  EXPECT_FALSE(CompressImage(dir_ / "img", repo_->artifacts_dir(), {.level = 3, .window_log = 9}));
  EXPECT_FALSE(CompressImage(dir_ / "img", repo_->artifacts_dir(), {.level = 3, .window_log = 28}));
}

TEST(ChunkSize, AtLeastOneMiBAndAtMost64Digests) {
  EXPECT_EQ(ChunkSizeFor(1), 1 << 20);
  EXPECT_EQ(ChunkSizeFor(64LL << 20), 1 << 20);
  EXPECT_EQ(ChunkSizeFor((64LL << 20) + 1), 2 << 20);
  EXPECT_EQ(ChunkSizeFor(1LL << 30), 16 << 20);
  EXPECT_EQ(ChunkSizeFor(1LL << 40), 1LL << 30);  // the largest size a device accepts
}

TEST_F(ReleaseTest, CompressRefusesEmptyOrMissingImagesAndBadLevels) {
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "empty", Bytes{}));
  EXPECT_EQ(CompressImage(dir_ / "empty", repo_->artifacts_dir(), {.level = 3}).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(CompressImage(dir_ / "missing", repo_->artifacts_dir(), {.level = 3}).error().code(),
            Errc::kNotFound);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "img", Image(10)));
  EXPECT_FALSE(CompressImage(dir_ / "img", repo_->artifacts_dir(), {.level = 22}));
  EXPECT_FALSE(CompressImage(dir_ / "img", repo_->artifacts_dir(), {.level = 0}));
}

TEST_F(ReleaseTest, TargetEntryCarriesWhatTheAgentReads) {
  const Bytes image = Image(100000);
  const Artifact artifact = Compress(image);
  ReleaseSpec spec = Spec("rootfs-2.0.0.ext4.zst");
  spec.hardware_ids = {"rpi4", "rpi4-lite"};
  spec.notes = "fixes the boot loop";
  const md::TargetFile file = MakeTargetFile(spec, artifact);
  EXPECT_EQ(file.length, artifact.length);
  EXPECT_EQ(file.hashes.at("sha256"), artifact.sha256);
  EXPECT_EQ(file.hashes.size(), 1u);  // sha256 only: see MakeTargetFile
  auto custom = core::uptane::ParseImageCustom(file.custom);
  ASSERT_TRUE(custom) << custom.error().ToString();
  EXPECT_EQ(custom->version, "2.0.0");
  EXPECT_EQ(custom->hardware_ids, (std::vector<std::string>{"rpi4", "rpi4-lite"}));
  EXPECT_EQ(custom->security_counter, 3);
  ASSERT_TRUE(custom->payload);
  EXPECT_EQ(custom->payload->format, "raw");
  EXPECT_EQ(custom->payload->compression, "zstd");
  EXPECT_EQ(custom->payload->length, static_cast<std::int64_t>(image.size()));
  EXPECT_EQ(custom->payload->sha256, core::crypto::Sha256Hex(image));
  ASSERT_TRUE(custom->chunks);
  EXPECT_EQ(custom->chunks->size, artifact.chunk_size);
  EXPECT_EQ(custom->chunks->sha256, artifact.chunk_sha256);
  EXPECT_EQ(custom->chunks->sha256, std::vector<std::string>{artifact.sha256});  // one chunk
  EXPECT_EQ(file.custom.Find("notes")->AsString(), "fixes the boot loop");
}

TEST_F(ReleaseTest, NamesAndSpecsAreChecked) {
  EXPECT_TRUE(CheckReleaseName("rootfs-2.0.0+build.7.ext4.zst"));
  for (const char* bad : {"", ".hidden", "-x", "a/b", "a b", "a%2e", "..", "naïve"}) {
    EXPECT_FALSE(CheckReleaseName(bad)) << bad;
  }
  EXPECT_FALSE(CheckReleaseName(std::string(129, 'a')));
  EXPECT_EQ(DefaultReleaseName("/images/rootfs.ext4", "2.1.0"), "rootfs-2.1.0.ext4.zst");
  EXPECT_EQ(DefaultReleaseName("my image", "1 0"), "my_image-1_0.zst");
  EXPECT_TRUE(CheckReleaseName(DefaultReleaseName("/x/.config", "1")));
  ReleaseSpec spec = Spec("a");
  spec.hardware_ids.clear();
  EXPECT_FALSE(CheckReleaseSpec(spec));
  spec = Spec("a", "");
  EXPECT_FALSE(CheckReleaseSpec(spec));
  spec = Spec("a");
  spec.security_counter = -1;
  EXPECT_FALSE(CheckReleaseSpec(spec));
}

TEST_F(ReleaseTest, StagingFoldsIntoIncompleteVersionsAndBumpsCompleteOnes) {
  const Artifact a = Compress(Image(5000), "a.img");
  auto first = StageRelease(*repo_, Spec("a-1.img.zst"), a, std::chrono::days(30), now_);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->version, 1);

  // Partly signed: the next release folds into v1 and drops the now-stale signature.
  ASSERT_TRUE(repo::SignStaged(*repo_, targets_keys_[0]));
  const Artifact b = Compress(Image(6000), "b.img");
  auto second = StageRelease(*repo_, Spec("b-1.img.zst"), b, std::chrono::days(30), now_);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->version, 1);
  EXPECT_EQ(second->dropped_signatures, 1u);

  // Complete: the next change is a new version.
  SignAll();
  ASSERT_TRUE(repo::VerifyLatestTargets(*repo_, now_));
  auto dup = StageRelease(*repo_, Spec("b-1.img.zst"), b, std::chrono::days(30), now_);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
  auto revoked = RevokeRelease(*repo_, "a-1.img.zst", std::chrono::days(30), now_);
  ASSERT_TRUE(revoked) << revoked.error().ToString();
  EXPECT_EQ(revoked->version, 2);
  EXPECT_EQ(revoked->dropped_signatures, 0u);
  auto releases = StagedReleases(*repo_);
  ASSERT_TRUE(releases);
  EXPECT_EQ(releases->size(), 1u);
  EXPECT_TRUE(releases->contains("b-1.img.zst"));
  EXPECT_FALSE(repo::VerifyLatestTargets(*repo_, now_));  // v2 unsigned
  EXPECT_EQ(RevokeRelease(*repo_, "nope", std::chrono::days(30), now_).error().code(),
            Errc::kNotFound);
  // v1 is kept as it was signed.
  auto v1 = md::ParseTargets(*repo_->ReadMetadata("targets", 1));
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->content.targets.size(), 2u);
  EXPECT_EQ(v1->signatures.size(), 2u);
}

// --- deltas (release create --delta-from) --------------------------------------------------

TEST_F(ReleaseTest, DeltaFromAStagedReleaseIsStagedWithTheRelease) {
  const Bytes v1 = Image(300000);
  Bytes v2 = v1;
  for (std::size_t i = 0; i < 4000; ++i) v2[100000 + i] = static_cast<std::uint8_t>(i * 7);
  v2.insert(v2.end(), v1.begin(), v1.begin() + 5000);
  const Artifact a1 = Compress(v1, "v1.img");
  ASSERT_TRUE(StageRelease(*repo_, Spec("os-1.0.img.zst", "1.0"), a1, std::chrono::days(30), now_));
  const Artifact a2 = Compress(v2, "v2.img");
  const ReleaseSpec spec = Spec("os-2.0.img.zst", "2.0");

  // By version and by name: the image is decompressed from the stored artifact.
  auto by_version = LoadDeltaSource(*repo_, "1.0");
  ASSERT_TRUE(by_version) << by_version.error().ToString();
  EXPECT_EQ(by_version->image, v1);
  EXPECT_EQ(by_version->label, "os-1.0.img.zst");
  EXPECT_EQ(by_version->sha256, core::crypto::Sha256Hex(v1));
  auto by_name = LoadDeltaSource(*repo_, "os-1.0.img.zst");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->image, v1);

  auto delta = MakeDelta(*repo_, spec, *by_version, v2, a2.image_sha256, 3);
  ASSERT_TRUE(delta) << delta.error().ToString();
  EXPECT_EQ(delta->name, "os-2.0.img.zst.from-" + core::crypto::Sha256Hex(v1).substr(0, 16));
  EXPECT_LT(delta->artifact.length, a2.length / 4) << "a delta is much smaller than the image";
  auto staged =
      StageRelease(*repo_, spec, a2, std::chrono::days(30), now_, {{delta->name, delta->target}});
  ASSERT_TRUE(staged) << staged.error().ToString();

  // One targets version holds the release and its delta, signed together.
  auto releases = StagedReleases(*repo_);
  ASSERT_TRUE(releases);
  ASSERT_TRUE(releases->contains(delta->name));
  const md::TargetFile& file = releases->at(delta->name);
  auto custom = core::uptane::ParseImageCustom(file.custom);
  ASSERT_TRUE(custom) << custom.error().ToString();
  ASSERT_TRUE(custom->delta);
  EXPECT_FALSE(custom->payload);
  EXPECT_EQ(custom->version, "2.0");
  EXPECT_EQ(custom->hardware_ids, spec.hardware_ids);
  EXPECT_EQ(custom->delta->from_sha256, core::crypto::Sha256Hex(v1));
  EXPECT_EQ(custom->delta->from_length, static_cast<std::int64_t>(v1.size()));
  EXPECT_EQ(custom->delta->to_target, spec.name);
  EXPECT_EQ(custom->delta->to_sha256, core::crypto::Sha256Hex(v2));
  EXPECT_EQ(custom->delta->to_length, static_cast<std::int64_t>(v2.size()));
  // The artifact is stored under its hash (so `release upload` sends it) and applies.
  auto patch = posix::ReadFile(repo_->ArtifactPath(file.hashes.at("sha256")), 64 << 20);
  ASSERT_TRUE(patch);
  EXPECT_EQ(static_cast<std::int64_t>(patch->size()), file.length);
  EXPECT_EQ(core::crypto::Sha256Hex(*patch), file.hashes.at("sha256"));
  core::io::BytesWriter out(64 << 20);
  ASSERT_TRUE(core::delta::ApplyPatch(v1, *patch, out));
  EXPECT_EQ(out.bytes(), v2);
  SignAll();
  EXPECT_TRUE(repo::VerifyLatestTargets(*repo_, now_));

  // A delta is never the source of another one.
  EXPECT_EQ(LoadDeltaSource(*repo_, delta->name).error().code(), Errc::kNotFound);

  // Revoking the release revokes its deltas; other releases stay.
  ASSERT_TRUE(RevokeRelease(*repo_, spec.name, std::chrono::days(30), now_));
  releases = StagedReleases(*repo_);
  ASSERT_TRUE(releases);
  EXPECT_FALSE(releases->contains(delta->name));
  EXPECT_TRUE(releases->contains("os-1.0.img.zst"));
}

TEST_F(ReleaseTest, DeltaSourcesAndRefusals) {
  const Bytes v1 = Image(50000);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "old.img", v1));
  auto from_file = LoadDeltaSource(*repo_, (dir_ / "old.img").string());
  ASSERT_TRUE(from_file) << from_file.error().ToString();
  EXPECT_EQ(from_file->image, v1);
  EXPECT_EQ(LoadDeltaSource(*repo_, "9.9").error().code(), Errc::kNotFound);

  const Artifact a1 = Compress(v1, "v1.img");
  // The new image itself: nothing to do.
  EXPECT_EQ(MakeDelta(*repo_, Spec("os-1.0.img.zst", "1.0"), *from_file, v1, a1.image_sha256, 3)
                .error()
                .code(),
            Errc::kInvalidArgument);
  // A release name that leaves no room for the delta's.
  const Bytes v2 = Image(50001);
  EXPECT_EQ(MakeDelta(*repo_, Spec(std::string(120, 'n'), "2.0"), *from_file, v2,
                      core::crypto::Sha256Hex(v2), 3)
                .error()
                .code(),
            Errc::kInvalidArgument);

  // Two releases of one version: the operator must say which.
  ASSERT_TRUE(StageRelease(*repo_, Spec("a-1.0.zst", "1.0"), a1, std::chrono::days(30), now_));
  ASSERT_TRUE(StageRelease(*repo_, Spec("b-1.0.zst", "1.0"), a1, std::chrono::days(30), now_));
  EXPECT_EQ(LoadDeltaSource(*repo_, "1.0").error().code(), Errc::kInvalidArgument);
  // An artifact that no longer holds the signed image is refused.
  ASSERT_TRUE(posix::AtomicWriteFile(repo_->ArtifactPath(a1.sha256), ToBytes("garbage")));
  EXPECT_EQ(LoadDeltaSource(*repo_, "a-1.0.zst").error().code(), Errc::kVerificationFailed);
}

}  // namespace
}  // namespace aloft::cli::aloftctl::release
