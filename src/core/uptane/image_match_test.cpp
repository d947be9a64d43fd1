// Director × Image repository agreement: each test stages one way a single compromised or
// confused repository could get a device to install something, and checks it is refused.

#include "core/uptane/image_match.hpp"

#include <gtest/gtest.h>

#include "core/crypto/hash.hpp"
#include "testing/memory_fetcher.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/repo_builder.hpp"

namespace aloft::core::uptane {
namespace {

using metadata::TargetFile;
using testing::RepoBuilder;

constexpr const char* kImageBase = "https://image.test/";
constexpr const char* kPath = "rpi4/os-2.0.img";

class ImageMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ReleaseImage(kPath, ToBytes("os image 2.0"), {"rpi4"}, 5);
    Assign(kPath, ToBytes("os image 2.0"), "device-1", "rpi4");
  }
  // The offline-signed release in the Image repository.
  void ReleaseImage(const std::string& path, const Bytes& content, std::vector<std::string> hw,
                    std::int64_t counter, std::optional<ChunkInfo> chunks = std::nullopt) {
    image.AddTarget(path, content);
    ImageCustom custom;
    custom.version = "2.0";
    custom.hardware_ids = std::move(hw);
    custom.security_counter = counter;
    custom.chunks = std::move(chunks);
    image.targets.at("targets").targets.at(path).custom = ToJson(custom);
    image.PublishTargetsChange();
  }
  // The Director's instruction for one device.
  void Assign(const std::string& path, const Bytes& content, std::string device_id,
              std::string hw) {
    TargetFile file;
    file.length = static_cast<std::int64_t>(content.size());
    file.hashes = {{"sha256", crypto::Sha256Hex(content)}};
    file.custom = ToJson(DirectorCustom{std::move(hw), std::move(device_id), "dep-1"});
    director_targets.targets[path] = file;
  }
  Result<std::optional<ApprovedImage>> Select() {
    for (auto& [path, bytes] : image.Files()) fetcher.Set(kImageBase + path, bytes);
    testing::MemoryMetadataStore store;
    EXPECT_TRUE(store.Store("root", image.RootBytes(1)));
    metadata::UpdaterConfig config;
    config.metadata_url = std::string(kImageBase) + "metadata";
    config.targets_url = std::string(kImageBase) + "targets";
    metadata::Updater updater(config, fetcher, store, image.now);
    return SelectApprovedImage(director_targets, updater, device);
  }

  RepoBuilder image;
  metadata::TargetsMetadata director_targets;
  testing::MemoryFetcher fetcher;
  DeviceIdentity device{"device-1", "rpi4", 3};
};

TEST_F(ImageMatchTest, ApprovesImageBothRepositoriesAgreeOn) {
  auto r = Select();
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->target_path, kPath);
  EXPECT_EQ((*r)->image.security_counter, 5);
  EXPECT_EQ((*r)->director.deployment_id, "dep-1");
}

TEST_F(ImageMatchTest, ChunkDigestsComeFromTheImageRepositoryOnly) {
  // The release's chunk digests are signed offline; a Director naming others (a compromised
  // server trying to make a device accept bytes chunk by chunk) is not listened to.
  const std::string released = crypto::Sha256Hex(ToBytes("os image 2.0"));
  ReleaseImage(kPath, ToBytes("os image 2.0"), {"rpi4"}, 5, ChunkInfo{4096, {released}});
  director_targets.targets.at(kPath).custom["chunks"] =
      codec::Json::Object{{"size", 4096}, {"sha256", codec::Json::Array{std::string(64, 'e')}}};

  auto r = Select();
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(r->has_value());
  ASSERT_TRUE((*r)->image.chunks);
  EXPECT_EQ((*r)->image.chunks->sha256, std::vector<std::string>{released});
}

TEST_F(ImageMatchTest, ChunkDigestsAreAgreedOnlyWhenTheDirectorNamesTheImageRepositorysList) {
  const ChunkInfo chunks{4096, {crypto::Sha256Hex(ToBytes("os image 2.0"))}};
  ReleaseImage(kPath, ToBytes("os image 2.0"), {"rpi4"}, 5, chunks);
  const auto director_names = [&](std::string chunks_sha256) {
    auto director = ParseDirectorCustom(director_targets.targets.at(kPath).custom);
    director->chunks_sha256 = std::move(chunks_sha256);
    director_targets.targets.at(kPath).custom = ToJson(*director);
  };

  auto r = Select();  // the Director names none: chunk digests and the whole artifact
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().ToString());
  EXPECT_FALSE((*r)->chunks_agreed);

  director_names(ChunkListSha256(chunks));
  r = Select();
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().ToString());
  EXPECT_TRUE((*r)->chunks_agreed);

  // Another list (a compromised Image key, or a Director misled) is a disagreement.
  ChunkInfo other = chunks;
  other.sha256[0] = std::string(64, 'e');
  director_names(ChunkListSha256(other));
  r = Select();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(r.error().message().find("disagree on its chunk digests"), std::string::npos);

  // A Director naming chunks for a release that signs none disagrees too.
  ReleaseImage(kPath, ToBytes("os image 2.0"), {"rpi4"}, 5);
  director_names(ChunkListSha256(other));
  EXPECT_EQ(Select().error().code(), Errc::kVerificationFailed);
}

TEST_F(ImageMatchTest, NothingAssignedIsNothingToDo) {
  director_targets.targets.clear();
  auto r = Select();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(ImageMatchTest, CompromisedDirectorCannotAssignUnreleasedImage) {
  director_targets.targets.clear();
  Assign("rpi4/evil.img", ToBytes("attacker's image"), "device-1", "rpi4");
  auto r = Select();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(r.error().message().find("never signed"), std::string::npos);
}

TEST_F(ImageMatchTest, CompromisedDirectorCannotSwapContentUnderAReleasedName) {
  director_targets.targets.clear();
  Assign(kPath, ToBytes("os image 2.0 with a backdoor"), "device-1", "rpi4");
  auto r = Select();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kVerificationFailed);
}

TEST_F(ImageMatchTest, SameLengthDifferentHashIsRefused) {
  director_targets.targets.clear();
  Assign(kPath, ToBytes("os image 2.1"), "device-1", "rpi4");  // same length
  auto r = Select();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("sha256 differs"), std::string::npos);
}

TEST_F(ImageMatchTest, InstructionsForAnotherDeviceAreRefused) {
  director_targets.targets.clear();
  Assign(kPath, ToBytes("os image 2.0"), "device-2", "rpi4");
  EXPECT_EQ(Select().error().code(), Errc::kVerificationFailed);
}

TEST_F(ImageMatchTest, WrongHardwareFromDirectorIsRefused) {
  director_targets.targets.clear();
  Assign(kPath, ToBytes("os image 2.0"), "device-1", "rpi3");
  EXPECT_EQ(Select().error().code(), Errc::kVerificationFailed);
}

TEST_F(ImageMatchTest, ImageNotReleasedForThisHardwareIsRefused) {
  device.hardware_id = "rpi3";
  director_targets.targets.clear();
  Assign(kPath, ToBytes("os image 2.0"), "device-1", "rpi3");
  auto r = Select();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("not released for hardware"), std::string::npos);
}

TEST_F(ImageMatchTest, KnownVulnerableOldReleaseIsRefusedDespiteValidSignatures) {
  device.installed_security_counter = 6;
  auto r = Select();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kRollback);
}

TEST_F(ImageMatchTest, DowngradeWithTheSameCounterIsAllowed) {
  device.installed_security_counter = 5;
  EXPECT_TRUE(Select());
}

TEST_F(ImageMatchTest, MoreThanOneImageIsRefused) {
  ReleaseImage("rpi4/os-2.1.img", ToBytes("os image 2.1"), {"rpi4"}, 5);
  Assign("rpi4/os-2.1.img", ToBytes("os image 2.1"), "device-1", "rpi4");
  EXPECT_EQ(Select().error().code(), Errc::kVerificationFailed);
}

TEST_F(ImageMatchTest, ImageWithoutAloftCustomIsRefused) {
  image.targets.at("targets").targets.at(kPath).custom = codec::Json();
  image.PublishTargetsChange();
  EXPECT_FALSE(Select());
}

TEST(SameImage, NeedsACommonKnownAlgorithm) {
  TargetFile a, b;
  a.length = b.length = 3;
  a.hashes = {{"sha256", std::string(64, 'a')}};
  b.hashes = {{"sha512", std::string(128, 'a')}};
  EXPECT_FALSE(SameImage(a, b));
  b.hashes["sha256"] = std::string(64, 'a');
  EXPECT_TRUE(SameImage(a, b));
  b.length = 4;
  EXPECT_FALSE(SameImage(a, b));
}

TEST(TargetCustom, ImageCustomRoundTripsAndValidates) {
  ImageCustom c;
  c.version = "1.2.3";
  c.hardware_ids = {"a", "b"};
  c.security_counter = 7;
  c.payload = PayloadInfo{"raw", "zstd", 1024, std::string(64, '0')};
  auto parsed = ParseImageCustom(ToJson(c));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->hardware_ids, c.hardware_ids);
  EXPECT_EQ(parsed->payload->compression, "zstd");
  codec::Json bad = ToJson(c);
  bad["hardwareIds"] = codec::Json::Array{};
  EXPECT_FALSE(ParseImageCustom(bad));
  bad = ToJson(c);
  bad["securityCounter"] = -1;
  EXPECT_FALSE(ParseImageCustom(bad));
  bad = ToJson(c);
  bad["payload"]["compression"] = "lzma";
  EXPECT_EQ(ParseImageCustom(bad).error().code(), Errc::kUnsupported);
}

TEST(TargetCustom, ChunkDigestsRoundTripAndAreValidated) {
  ImageCustom c;
  c.version = "1.0";
  c.hardware_ids = {"a"};
  c.chunks = ChunkInfo{65536, {std::string(64, 'A'), std::string(64, '1')}};
  auto parsed = ParseImageCustom(ToJson(c));
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_TRUE(parsed->chunks);
  EXPECT_EQ(parsed->chunks->size, 65536);
  EXPECT_EQ(parsed->chunks->sha256,
            (std::vector<std::string>{std::string(64, 'a'), std::string(64, '1')}));
  EXPECT_FALSE(ParseImageCustom(ToJson(ImageCustom{"1.0", {"a"}, 0, {}, {}, {}}))->chunks);

  const auto rejected = [&](const char* member, codec::Json value) {
    codec::Json bad = ToJson(c);
    bad["chunks"][member] = std::move(value);
    auto result = ParseImageCustom(bad);
    return !result && result.error().code() == Errc::kInvalidArgument;
  };
  EXPECT_TRUE(rejected("size", 65537));  // not a power of two
  EXPECT_TRUE(rejected("size", 2048));   // below 4 KiB
  EXPECT_TRUE(rejected("size", std::int64_t{1} << 31));
  EXPECT_TRUE(rejected("sha256", codec::Json::Array{}));
  EXPECT_TRUE(rejected("sha256", codec::Json::Array{std::string(62, 'a')}));
  EXPECT_TRUE(rejected("sha256", codec::Json::Array{std::string(64, 'g')}));
  EXPECT_TRUE(rejected("sha256", codec::Json::Array{7}));
  EXPECT_TRUE(rejected("sha256", codec::Json::Array(kMaxChunks + 1, std::string(64, 'a'))));

  EXPECT_EQ(ChunkListSha256(*parsed->chunks),
            crypto::Sha256Hex(ToBytes(R"({"sha256":[")" + std::string(64, 'a') + R"(",")" +
                                      std::string(64, '1') + R"("],"size":65536})")));
  DirectorCustom director{"rpi4", "device-1", "dep-1"};
  director.chunks_sha256 = std::string(64, 'B');
  auto round = ParseDirectorCustom(ToJson(director));
  ASSERT_TRUE(round);
  EXPECT_EQ(round->chunks_sha256, std::string(64, 'b'));
  codec::Json bad_director = ToJson(director);
  bad_director["chunksSha256"] = "abc";
  EXPECT_FALSE(ParseDirectorCustom(bad_director));

  EXPECT_EQ(ChunkCount(1, 4096), 1);
  EXPECT_EQ(ChunkCount(4096, 4096), 1);
  EXPECT_EQ(ChunkCount(4097, 4096), 2);
  EXPECT_EQ(ChunkCount(0, 4096), 0);
}

}  // namespace
}  // namespace aloft::core::uptane
