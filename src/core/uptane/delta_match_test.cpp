// Deltas offered by the Director: the device takes one only when the Image repository signed
// it as producing exactly the assigned image; anything else leaves the full image, never a
// refusal of the update and never a different image.

#include <gtest/gtest.h>

#include "core/crypto/hash.hpp"
#include "core/uptane/image_match.hpp"
#include "testing/memory_fetcher.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/repo_builder.hpp"

namespace aloft::core::uptane {
namespace {

using metadata::TargetFile;
using testing::RepoBuilder;

constexpr const char* kImageBase = "https://image.test/";
constexpr const char* kFull = "os-2.0.img";

const Bytes kOld = ToBytes("os image 1.0");
const Bytes kNew = ToBytes("os image 2.0");
const Bytes kPatch = ToBytes("a patch from 1.0 to 2.0");

class DeltaMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image.AddTarget(kFull, kNew);
    image.targets.at("targets").targets.at(kFull).custom = ToJson(Custom());
    delta_name = DeltaTargetName(kFull, crypto::Sha256Hex(kOld));
    ReleaseDelta(delta_name, kPatch, Info());
    image.PublishTargetsChange();
    AssignWithDelta(delta_name, kPatch);
  }
  static ImageCustom Custom() {
    ImageCustom custom;
    custom.version = "2.0";
    custom.hardware_ids = {"rpi4"};
    custom.security_counter = 5;
    return custom;
  }
  static DeltaInfo Info() {
    return DeltaInfo{crypto::Sha256Hex(kOld), static_cast<std::int64_t>(kOld.size()), kFull,
                     crypto::Sha256Hex(kNew), static_cast<std::int64_t>(kNew.size())};
  }
  void ReleaseDelta(const std::string& name, const Bytes& patch, const DeltaInfo& info) {
    image.AddTarget(name, patch);
    ImageCustom custom = Custom();
    custom.delta = info;
    image.targets.at("targets").targets.at(name).custom = ToJson(custom);
  }
  void AssignWithDelta(const std::string& name, const Bytes& patch) {
    TargetFile file;
    file.length = static_cast<std::int64_t>(kNew.size());
    file.hashes = {{"sha256", crypto::Sha256Hex(kNew)}};
    DirectorCustom custom{"rpi4", "device-1", "dep-1"};
    TargetFile delta;
    delta.length = static_cast<std::int64_t>(patch.size());
    delta.hashes = {{"sha256", crypto::Sha256Hex(patch)}};
    custom.delta = DeltaRef{name, delta};
    file.custom = ToJson(custom);
    director_targets.targets.clear();
    director_targets.targets[kFull] = file;
  }
  Result<std::optional<ApprovedImage>> Select() {
    for (auto& [path, bytes] : image.Files()) fetcher.Set(kImageBase + path, bytes);
    testing::MemoryMetadataStore store;
    EXPECT_TRUE(store.Store("root", image.RootBytes(1)));
    metadata::UpdaterConfig config;
    config.metadata_url = std::string(kImageBase) + "metadata";
    config.targets_url = std::string(kImageBase) + "targets";
    metadata::Updater updater(config, fetcher, store, image.now);
    return SelectApprovedImage(director_targets, updater, device, policy);
  }
  // The approved image, which must exist whatever happened to the delta.
  ApprovedImage Approved() {
    auto r = Select();
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    if (!r || !r->has_value()) return {};
    EXPECT_EQ((*r)->target_path, kFull);
    return std::move(**r);
  }

  RepoBuilder image;
  std::string delta_name;
  metadata::TargetsMetadata director_targets;
  testing::MemoryFetcher fetcher;
  DeviceIdentity device{"device-1", "rpi4", 3};
  DeltaPolicy policy;

  // A pointer to a patch the server built: no Image-repository target, the Director's own
  // binding instead.
  void AssignServerBuilt(const Bytes& patch, DeltaInfo binding) {
    AssignWithDelta("os-2.0.img.from-server", patch);
    auto custom = ParseDirectorCustom(director_targets.targets.at(kFull).custom);
    ASSERT_TRUE(custom);
    binding.to_target.clear();
    custom->delta->server_built = binding;
    director_targets.targets.at(kFull).custom = ToJson(*custom);
  }
};

TEST_F(DeltaMatchTest, SignedDeltaForTheAssignedImageIsApproved) {
  ApprovedImage approved = Approved();
  ASSERT_TRUE(approved.delta) << approved.delta_problem;
  EXPECT_EQ(approved.delta->target_path, delta_name);
  EXPECT_EQ(approved.delta->target.length, static_cast<std::int64_t>(kPatch.size()));
  EXPECT_EQ(approved.delta->info.from_sha256, crypto::Sha256Hex(kOld));
  EXPECT_TRUE(approved.delta_problem.empty());
}

TEST_F(DeltaMatchTest, DeltaTheImageRepositoryNeverSignedIsIgnored) {
  AssignWithDelta("os-2.0.img.from-evil", ToBytes("attacker patch"));
  ApprovedImage approved = Approved();
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("never signed"), std::string::npos);
}

TEST_F(DeltaMatchTest, DirectorCannotSwapThePatchBytes) {
  AssignWithDelta(delta_name, ToBytes("a patch from 1.0 to 6.6"));  // same length
  ApprovedImage approved = Approved();
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("sha256 differs"), std::string::npos);
}

TEST_F(DeltaMatchTest, DeltaToAnotherImageIsIgnored) {
  DeltaInfo info = Info();
  info.to_target = "os-3.0.img";
  ReleaseDelta("other.delta", ToBytes("patch to 3.0"), info);
  DeltaInfo wrong_digest = Info();
  wrong_digest.to_sha256 = crypto::Sha256Hex(ToBytes("something else"));
  ReleaseDelta("other2.delta", ToBytes("patch to x"), wrong_digest);
  image.PublishTargetsChange();

  AssignWithDelta("other.delta", ToBytes("patch to 3.0"));
  ApprovedImage approved = Approved();
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("produces os-3.0.img"), std::string::npos);

  AssignWithDelta("other2.delta", ToBytes("patch to x"));
  approved = Approved();
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("does not produce the signed image"), std::string::npos);
}

TEST_F(DeltaMatchTest, ServerBuiltDeltaIsATransportForTheSignedImage) {
  const Bytes patch = ToBytes("a patch the server computed");
  AssignServerBuilt(patch, Info());
  ApprovedImage approved = Approved();
  ASSERT_TRUE(approved.delta) << approved.delta_problem;
  EXPECT_TRUE(approved.delta->server_built);
  EXPECT_EQ(approved.delta->target.hashes.at("sha256"), crypto::Sha256Hex(patch));
  EXPECT_EQ(approved.delta->info.to_target, kFull);
  EXPECT_EQ(approved.delta->info.from_sha256, crypto::Sha256Hex(kOld));
}

TEST_F(DeltaMatchTest, ServerBuiltDeltaMustProduceTheSignedImage) {
  DeltaInfo other = Info();
  other.to_sha256 = crypto::Sha256Hex(ToBytes("what a compromised server wants"));
  AssignServerBuilt(ToBytes("evil patch"), other);
  ApprovedImage approved = Approved();  // the full image stays approved
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("does not produce the signed image"), std::string::npos);

  DeltaInfo longer = Info();
  longer.to_length += 1;
  AssignServerBuilt(ToBytes("evil patch"), longer);
  EXPECT_FALSE(Approved().delta);
}

TEST_F(DeltaMatchTest, ServerBuiltDeltasCanBeTurnedOff) {
  AssignServerBuilt(ToBytes("a patch the server computed"), Info());
  policy.accept_server_built = false;
  ApprovedImage approved = Approved();
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("accept_server_built"), std::string::npos);
}

TEST_F(DeltaMatchTest, AFullImageIsNoDelta) {
  AssignWithDelta(kFull, kNew);
  ApprovedImage approved = Approved();
  EXPECT_FALSE(approved.delta);
  EXPECT_NE(approved.delta_problem.find("is not a delta"), std::string::npos);
}

TEST_F(DeltaMatchTest, DirectorMustNotAssignADeltaAsTheImage) {
  TargetFile file;
  file.length = static_cast<std::int64_t>(kPatch.size());
  file.hashes = {{"sha256", crypto::Sha256Hex(kPatch)}};
  file.custom = ToJson(DirectorCustom{"rpi4", "device-1", "dep-1"});
  director_targets.targets.clear();
  director_targets.targets[delta_name] = file;
  auto r = Select();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(r.error().message().find("a delta"), std::string::npos);
}

TEST(DeltaCustom, RoundTripsAndValidates) {
  ImageCustom c;
  c.version = "2.0";
  c.hardware_ids = {"rpi4"};
  c.delta = DeltaInfo{std::string(64, 'A'), 10, "os.img", std::string(64, 'b'), 20};
  auto parsed = ParseImageCustom(ToJson(c));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_TRUE(parsed->delta);
  EXPECT_EQ(parsed->delta->from_sha256, std::string(64, 'a'));  // normalised
  EXPECT_EQ(parsed->delta->to_length, 20);

  codec::Json bad = ToJson(c);
  bad["delta"]["fromSha256"] = "xyz";
  EXPECT_FALSE(ParseImageCustom(bad));
  bad = ToJson(c);
  bad["delta"]["toLength"] = -1;
  EXPECT_FALSE(ParseImageCustom(bad));
  bad = ToJson(c);
  bad["payload"] = codec::Json::Object{
      {"format", "raw"}, {"compression", "none"}, {"length", 1}, {"sha256", std::string(64, '0')}};
  EXPECT_FALSE(ParseImageCustom(bad));

  DirectorCustom d{"rpi4", "dev", "dep"};
  TargetFile file;
  file.length = 5;
  file.hashes = {{"sha256", std::string(64, 'c')}};
  d.delta = DeltaRef{"os.img.from-aaaa", file};
  auto director = ParseDirectorCustom(ToJson(d));
  ASSERT_TRUE(director) << director.error().ToString();
  ASSERT_TRUE(director->delta);
  EXPECT_EQ(director->delta->target, "os.img.from-aaaa");
  EXPECT_EQ(director->delta->file.hashes.at("sha256"), std::string(64, 'c'));
  EXPECT_FALSE(director->delta->server_built);
  codec::Json no_sha = ToJson(d);
  no_sha["delta"]["hashes"] = codec::Json::Object{{"sha512", std::string(128, 'c')}};
  EXPECT_FALSE(ParseDirectorCustom(no_sha));

  d.delta->server_built = DeltaInfo{std::string(64, 'a'), 10, "", std::string(64, 'B'), 20};
  codec::Json built = ToJson(d);
  EXPECT_EQ(built["delta"]["builtBy"].AsString(), "server");
  director = ParseDirectorCustom(built);
  ASSERT_TRUE(director) << director.error().ToString();
  ASSERT_TRUE(director->delta->server_built);
  EXPECT_EQ(director->delta->server_built->to_sha256, std::string(64, 'b'));
  EXPECT_EQ(director->delta->server_built->from_length, 10);
  codec::Json by_whom = built;
  by_whom["delta"]["builtBy"] = "image-repository";  // only the one value is known
  EXPECT_FALSE(ParseDirectorCustom(by_whom));
  codec::Json no_binding = built;
  no_binding["delta"].AsObject().erase("toSha256");
  EXPECT_FALSE(ParseDirectorCustom(no_binding));
}

TEST(DeltaCustom, TargetNameAndImageDigest) {
  EXPECT_EQ(DeltaTargetName("os-2.0.img.zst", "ABCDEF0123456789ffff"),
            "os-2.0.img.zst.from-abcdef0123456789");
  ImageCustom c;
  TargetFile t;
  t.length = 7;
  t.hashes = {{"sha256", std::string(64, 'E')}};
  EXPECT_EQ(ImageSha256Hex(t, c), std::string(64, 'e'));
  EXPECT_EQ(ImageLength(t, c), 7);
  c.payload = PayloadInfo{"raw", "zstd", 99, std::string(64, '1')};
  EXPECT_EQ(ImageSha256Hex(t, c), std::string(64, '1'));
  EXPECT_EQ(ImageLength(t, c), 99);
}

}  // namespace
}  // namespace aloft::core::uptane
