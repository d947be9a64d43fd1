#include <gtest/gtest.h>
#include <zstd.h>

#include "cli/aloftctl/keys/ceremony.hpp"
#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/release/artifact.hpp"
#include "cli/aloftctl/release/staging.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
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
    auto artifact = CompressImage(dir_ / file, repo_->artifacts_dir(), 3);
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
  auto artifact = CompressImage(dir_ / "img", repo_->artifacts_dir(), 3,
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
  EXPECT_EQ(artifact->sha512,
            HexEncode(core::crypto::Digest(core::crypto::HashAlgorithm::kSha512, *stored)));
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

TEST_F(ReleaseTest, CompressRefusesEmptyOrMissingImagesAndBadLevels) {
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "empty", Bytes{}));
  EXPECT_EQ(CompressImage(dir_ / "empty", repo_->artifacts_dir(), 3).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(CompressImage(dir_ / "missing", repo_->artifacts_dir(), 3).error().code(),
            Errc::kNotFound);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "img", Image(10)));
  EXPECT_FALSE(CompressImage(dir_ / "img", repo_->artifacts_dir(), 22));
  EXPECT_FALSE(CompressImage(dir_ / "img", repo_->artifacts_dir(), 0));
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
  EXPECT_EQ(file.hashes.at("sha512"), artifact.sha512);
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

}  // namespace
}  // namespace aloft::cli::aloftctl::release
