// The Director's pointer to a delta, end to end through the real repositories: the Image
// repository accepts an offline-signed delta target, the Director publishes the pointer in the
// device's signed targets, and the device's check (core/uptane) approves the full image with
// the delta attached.

#include <gtest/gtest.h>

#include <string>

#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"
#include "server/repo/repo_test_fixture.hpp"

namespace aloft::server::repo {
namespace {

using DirectorDeltaTest = RepoTest;

constexpr const char* kPath = "os-2.0.img";
constexpr const char* kContent = "os image 2.0";
constexpr const char* kOld = "os image 1.0";
constexpr const char* kPatch = "patch 1.0 -> 2.0";

TEST_F(DirectorDeltaTest, DeltaPointerReachesTheDeviceAndChecksOut) {
  image_root_v1_ = SignedRoot();
  ASSERT_TRUE(image_->UploadRoot(image_root_v1_));
  Release(kPath, kContent);
  const std::string delta =
      core::uptane::DeltaTargetName(kPath, core::crypto::Sha256Hex(ToBytes(kOld)));
  offline_.AddTarget(delta, ToBytes(kPatch));
  core::uptane::ImageCustom custom;
  custom.version = "2.0";
  custom.hardware_ids = {"rpi4"};
  custom.delta = core::uptane::DeltaInfo{core::crypto::Sha256Hex(ToBytes(kOld)), 12, kPath,
                                         core::crypto::Sha256Hex(ToBytes(kContent)),
                                         static_cast<std::int64_t>(std::string(kContent).size())};
  offline_.targets.at("targets").targets.at(delta).custom = core::uptane::ToJson(custom);
  offline_.BumpTargets();
  Status uploaded = image_->UploadTargets(OfflineTargets());
  ASSERT_TRUE(uploaded) << uploaded.error().ToString();

  AssignedImage assigned = Assignment(kPath, kContent);
  core::metadata::TargetFile file;
  file.length = static_cast<std::int64_t>(std::string(kPatch).size());
  file.hashes = {{"sha256", core::crypto::Sha256Hex(ToBytes(kPatch))}};
  assigned.delta = core::uptane::DeltaRef{delta, file};
  ASSERT_TRUE(director_->Assign("dev-1", assigned));

  auto selected = DeviceCheck("dev-1");
  ASSERT_TRUE(selected) << selected.error().ToString();
  ASSERT_TRUE(selected->has_value());
  EXPECT_EQ((*selected)->target_path, kPath);
  ASSERT_TRUE((*selected)->director.delta);
  EXPECT_EQ((*selected)->director.delta->target, delta);
  ASSERT_TRUE((*selected)->delta) << (*selected)->delta_problem;
  EXPECT_EQ((*selected)->delta->target_path, delta);
  EXPECT_EQ((*selected)->delta->info.from_sha256, core::crypto::Sha256Hex(ToBytes(kOld)));
}

TEST_F(DirectorDeltaTest, TheDirectorAgreesOnTheReleasesChunkDigests) {
  image_root_v1_ = SignedRoot();
  ASSERT_TRUE(image_->UploadRoot(image_root_v1_));
  Release(kPath, kContent);
  auto released =
      core::uptane::ParseImageCustom(offline_.targets.at("targets").targets.at(kPath).custom);
  ASSERT_TRUE(released);
  released->chunks = core::uptane::ChunkInfo{4096, {core::crypto::Sha256Hex(ToBytes(kContent))}};
  offline_.targets.at("targets").targets.at(kPath).custom = core::uptane::ToJson(*released);
  offline_.BumpTargets();
  ASSERT_TRUE(image_->UploadTargets(OfflineTargets()));

  AssignedImage assigned = Assignment(kPath, kContent);
  ASSERT_TRUE(director_->Assign("dev-1", assigned));  // no digest: no agreement, still approved
  auto selected = DeviceCheck("dev-1");
  ASSERT_TRUE(selected && selected->has_value()) << (selected ? "" : selected.error().ToString());
  EXPECT_FALSE((*selected)->chunks_agreed);

  assigned.chunks_sha256 = core::uptane::ChunkListSha256(*released->chunks);
  ASSERT_TRUE(director_->Assign("dev-1", assigned));
  selected = DeviceCheck("dev-1");
  ASSERT_TRUE(selected && selected->has_value()) << (selected ? "" : selected.error().ToString());
  EXPECT_TRUE((*selected)->chunks_agreed);
  EXPECT_EQ((*selected)->director.chunks_sha256, assigned.chunks_sha256);

  assigned.chunks_sha256 = std::string(64, 'e');  // a Director that names another list
  ASSERT_TRUE(director_->Assign("dev-1", assigned));
  EXPECT_EQ(DeviceCheck("dev-1").error().code(), Errc::kVerificationFailed);
}

TEST_F(DirectorDeltaTest, IncompleteDeltaPointerIsRefused) {
  AssignedImage assigned = Assignment(kPath, kContent);
  assigned.delta = core::uptane::DeltaRef{"x.from-00", {}};
  EXPECT_EQ(director_->Assign("dev-1", assigned).error().code(), Errc::kInvalidArgument);
  assigned.delta->file.length = 5;
  assigned.delta->file.hashes = {{"sha512", std::string(128, 'a')}};
  EXPECT_EQ(director_->Assign("dev-1", assigned).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace aloft::server::repo
