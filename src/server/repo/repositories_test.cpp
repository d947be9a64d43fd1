// The Image repository and the Director as devices see them: every upload is checked as a
// device would check it, refusals change nothing, and the real core client (Updater) plus the
// Uptane cross-check (SelectApprovedImage) accept what is served, and only that.

#include <gtest/gtest.h>

#include <string>

#include "core/metadata/trusted_set.hpp"
#include "server/repo/repo_test_fixture.hpp"

namespace aloft::server::repo {
namespace {

namespace md = core::metadata;

// ---------------------------------------------------------------------------------------------
// Image repository

using ImageRepositoryTest = RepoTest;

TEST_F(ImageRepositoryTest, ClientRefreshesAndFindsUploadedRelease) {
  PublishRelease();
  Client client(ImageServe(), image_root_v1_, Now());
  Status s = client.updater.Refresh();
  ASSERT_TRUE(s) << s.error().ToString();
  auto target = client.updater.FindTarget("rpi4/os-2.0.img");
  ASSERT_TRUE(target) << target.error().ToString();
  EXPECT_EQ(target->file.length, 12);
  EXPECT_EQ(client.updater.trusted()->targets()->common.version, 2);
}

TEST_F(ImageRepositoryTest, RootWithoutOnlineKeysIsRefusedNamingThem) {
  offline_.SetRoleKeys("timestamp", {offline_.NewKey()});
  Status s = image_->UploadRoot(SignedRoot());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(s.error().message().find(keys_.image_timestamp.KeyId()), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("timestamp"), std::string::npos);
  EXPECT_EQ(image_->File("1.root.json").error().code(), Errc::kNotFound);
}

TEST_F(ImageRepositoryTest, RootWithoutSnapshotKeyIsRefusedNamingIt) {
  offline_.SetRoleKeys("snapshot", {offline_.NewKey()});
  Status s = image_->UploadRoot(SignedRoot());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find(keys_.image_snapshot.KeyId()), std::string::npos);
}

TEST_F(ImageRepositoryTest, RootLettingAnOnlineKeySignTargetsIsRefused) {
  offline_.AddRoleKey("targets", keys_.image_snapshot);
  Status s = image_->UploadRoot(SignedRoot());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(s.error().message().find("offline"), std::string::npos);
}

TEST_F(ImageRepositoryTest, RootWithoutConsistentSnapshotIsRefused) {
  offline_.root.consistent_snapshot = false;
  Status s = image_->UploadRoot(SignedRoot());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("consistent_snapshot"), std::string::npos);
}

TEST_F(ImageRepositoryTest, RootNotSignedByItsRootKeyIsRefused) {
  auto intruder = offline_.NewKey();
  auto envelope = md::SignMetadata(md::ToJson(offline_.root), {intruder});
  ASSERT_TRUE(envelope);
  Status s = image_->UploadRoot(ToBytes(md::Serialize(*envelope)));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed);
}

TEST_F(ImageRepositoryTest, TargetsBeforeRootIsNotFound) {
  Release("a.img", "a");
  EXPECT_EQ(image_->UploadTargets(OfflineTargets()).error().code(), Errc::kNotFound);
}

TEST_F(ImageRepositoryTest, TargetsSignedByWrongKeyAreRefusedAndNothingChanges) {
  PublishRelease();
  auto timestamp_before = image_->File("timestamp.json");
  ASSERT_TRUE(timestamp_before);
  Release("rpi4/evil.img", "evil");
  offline_.signers["targets"] = {offline_.NewKey()};  // the root still names the real key
  Status s = image_->UploadTargets(OfflineTargets());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed) << s.error().ToString();
  EXPECT_EQ(*image_->File("timestamp.json"), *timestamp_before);
  EXPECT_EQ(image_->File("3.targets.json").error().code(), Errc::kNotFound);
  EXPECT_EQ(image_->File("2.snapshot.json").error().code(), Errc::kNotFound);
}

TEST_F(ImageRepositoryTest, TargetsVersionMustIncrease) {
  PublishRelease();
  offline_.AddTarget("rpi4/other.img", ToBytes("other"));
  offline_.targets.at("targets").targets.at("rpi4/other.img").custom =
      offline_.targets.at("targets").targets.at("rpi4/os-2.0.img").custom;
  // Same version 2, new content: a replay or a mistake, either way refused.
  Status s = image_->UploadTargets(OfflineTargets());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kRollback);
  offline_.BumpTargets();
  EXPECT_TRUE(image_->UploadTargets(OfflineTargets()));
  EXPECT_TRUE(image_->File("3.targets.json"));
  EXPECT_TRUE(image_->File("2.snapshot.json"));
}

TEST_F(ImageRepositoryTest, TargetsWithoutImageCustomAreRefused) {
  ASSERT_TRUE(image_->UploadRoot(SignedRoot()));
  offline_.AddTarget("rpi4/raw.img", ToBytes("raw"));  // no custom at all
  offline_.BumpTargets();
  Status s = image_->UploadTargets(OfflineTargets());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(s.error().message().find("rpi4/raw.img"), std::string::npos);
}

TEST_F(ImageRepositoryTest, ExpiredTargetsAreRefused) {
  ASSERT_TRUE(image_->UploadRoot(SignedRoot()));
  Release("a.img", "a");
  offline_.targets.at("targets").common.expires = Now() - std::chrono::seconds(1);
  EXPECT_EQ(image_->UploadTargets(OfflineTargets()).error().code(), Errc::kExpired);
}

TEST_F(ImageRepositoryTest, RootRotationIsVerifiedAndTheClientFollowsIt) {
  PublishRelease();
  // Operators rotate the root and targets keys: v2 signed by the old and the new root keys.
  auto old_root = offline_.signers.at("root");
  offline_.SetRoleKeys("root", {offline_.NewKey()});
  offline_.SetRoleKeys("targets", {offline_.NewKey()});
  offline_.root.common.version = 2;

  // Without the old root key's signature it is not a rotation but a takeover.
  EXPECT_EQ(image_->UploadRoot(SignedRoot()).error().code(), Errc::kVerificationFailed);
  Status s = image_->UploadRoot(SignedRoot(old_root));
  ASSERT_TRUE(s) << s.error().ToString();
  // Versions must step by one.
  offline_.root.common.version = 4;
  EXPECT_FALSE(image_->UploadRoot(SignedRoot()));

  offline_.BumpTargets();
  ASSERT_TRUE(image_->UploadTargets(OfflineTargets()));
  Client client(ImageServe(), image_root_v1_, Now());
  Status refreshed = client.updater.Refresh();
  ASSERT_TRUE(refreshed) << refreshed.error().ToString();
  EXPECT_EQ(client.updater.trusted()->root().common.version, 2);
  EXPECT_EQ(client.updater.trusted()->targets()->common.version, 3);
  EXPECT_TRUE(client.updater.FindTarget("rpi4/os-2.0.img"));
}

TEST_F(ImageRepositoryTest, TimestampAndSnapshotAreResignedNearExpiry) {
  PublishRelease();
  auto first = md::ParseTimestamp(*image_->File("timestamp.json"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->content.common.version, 1);

  clock_.Advance(std::chrono::hours(11));  // 13 of 24 hours left: still served as is
  EXPECT_EQ(md::ParseTimestamp(*image_->File("timestamp.json"))->content.common.version, 1);

  clock_.Advance(std::chrono::hours(2));  // 11 hours left: re-signed
  auto second = md::ParseTimestamp(*image_->File("timestamp.json"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->content.common.version, 2);
  EXPECT_EQ(second->content.snapshot_meta.version, 1);
  EXPECT_EQ(second->content.common.expires, Now() + std::chrono::hours(24));

  // Four days later the snapshot has less than half its week left: snapshot 2, timestamp 3.
  clock_.Advance(std::chrono::hours(24 * 4));
  auto third = md::ParseTimestamp(*image_->File("timestamp.json"));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->content.common.version, 3);
  EXPECT_EQ(third->content.snapshot_meta.version, 2);
  EXPECT_TRUE(image_->File("2.snapshot.json"));

  Client client(ImageServe(), image_root_v1_, Now());
  Status s = client.updater.Refresh();
  EXPECT_TRUE(s) << s.error().ToString();
}

TEST_F(ImageRepositoryTest, UnknownFilesAreNotFound) {
  PublishRelease();
  for (const char* name : {"root.json", "0.root.json", "01.root.json", "2.root.json",
                           "1.timestamp.json", "targets.json", "1.targets.json.bak", "x.root.json",
                           "1.delegated.json", "..", "9999999999999999999.root.json"}) {
    auto r = image_->File(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code(), Errc::kNotFound) << name;
  }
  EXPECT_TRUE(image_->File("1.root.json"));
  EXPECT_TRUE(image_->File("2.targets.json"));
  EXPECT_TRUE(image_->File("1.snapshot.json"));
}

TEST(MetadataFileNameTest, AcceptsOnlyServedNames) {
  EXPECT_EQ(ParseMetadataFileName("12.root.json")->version, 12);
  EXPECT_EQ(ParseMetadataFileName("3.snapshot.json")->role, "snapshot");
  EXPECT_EQ(ParseMetadataFileName("3.targets.json")->role, "targets");
  EXPECT_FALSE(ParseMetadataFileName("timestamp.json")->version);
  for (const char* bad : {"", ".json", "1.root", "1.root.jsonx", "-1.root.json", "1..root.json",
                          "a1.root.json", "1.ROOT.json", "1.root.json/", "1.timestamp.json"}) {
    EXPECT_FALSE(ParseMetadataFileName(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Director

using DirectorRepositoryTest = RepoTest;

constexpr const char* kPath = "rpi4/os-2.0.img";
constexpr const char* kContent = "os image 2.0";

TEST_F(DirectorRepositoryTest, RootIsGeneratedOnceAndSelfSigned) {
  auto root = director_->Root();
  ASSERT_TRUE(root);
  EXPECT_EQ(*director_->Root(), *root);
  auto trusted = md::TrustedSet::Create(*root, Now());
  ASSERT_TRUE(trusted) << trusted.error().ToString();
  EXPECT_TRUE(trusted->root().consistent_snapshot);
  EXPECT_EQ(trusted->root().common.version, 1);
  EXPECT_EQ(*director_->File("any-device", "1.root.json"), *root);
  EXPECT_EQ(director_->File("any-device", "2.root.json").error().code(), Errc::kNotFound);
  // A second server process over the same store and keys serves the same root.
  DirectorRepository other(*store_, keys_, clock_);
  EXPECT_EQ(*other.Root(), *root);
}

TEST_F(DirectorRepositoryTest, RootFromOtherKeysIsRefused) {
  ASSERT_TRUE(director_->Root());
  auto other_keys = OnlineKeys::Generate();
  ASSERT_TRUE(other_keys);
  DirectorRepository other(*store_, *other_keys, clock_);
  EXPECT_EQ(other.Root().error().code(), Errc::kCorrupt);
}

TEST_F(DirectorRepositoryTest, NeverAssignedDeviceGetsEmptyTargetsOnFirstFetch) {
  ASSERT_TRUE(director_->Root());
  EXPECT_FALSE(*store_->GetLatest(DirectorDeviceRepo("dev-1"), "targets"));  // nothing up front
  PublishRelease();
  auto selected = DeviceCheck("dev-1");
  ASSERT_TRUE(selected) << selected.error().ToString();
  EXPECT_FALSE(selected->has_value());
  auto targets = *store_->GetLatest(DirectorDeviceRepo("dev-1"), "targets");
  ASSERT_TRUE(targets);
  EXPECT_EQ(targets->version, 1);
}

TEST_F(DirectorRepositoryTest, AssignedReleasedImageIsApprovedByTheDevice) {
  PublishRelease(kPath, kContent);
  ASSERT_TRUE(director_->Assign("dev-1", Assignment(kPath, kContent)));
  auto selected = DeviceCheck("dev-1");
  ASSERT_TRUE(selected) << selected.error().ToString();
  ASSERT_TRUE(selected->has_value());
  EXPECT_EQ((*selected)->target_path, kPath);
  EXPECT_EQ((*selected)->director.device_id, "dev-1");
  EXPECT_EQ((*selected)->director.deployment_id, "dep-1");
  EXPECT_EQ((*selected)->image.security_counter, 5);

  // Unassigning publishes an empty targets (version 2).
  ASSERT_TRUE(director_->Assign("dev-1", std::nullopt));
  auto after = DeviceCheck("dev-1");
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_FALSE(after->has_value());
}

TEST_F(DirectorRepositoryTest, DeviceBNeverSeesDeviceAsInstructions) {
  PublishRelease(kPath, kContent);
  ASSERT_TRUE(director_->Assign("dev-a", Assignment(kPath, kContent)));
  auto b = DeviceCheck("dev-b");
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_FALSE(b->has_value());
  // And the files behind B's names are B's own.
  auto b_targets = md::ParseTargets(*director_->File("dev-b", "1.targets.json"));
  ASSERT_TRUE(b_targets);
  EXPECT_TRUE(b_targets->content.targets.empty());
  EXPECT_EQ(director_->File("dev-b", "2.targets.json").error().code(), Errc::kNotFound);
}

TEST_F(DirectorRepositoryTest, AssignmentOfAnUnreleasedImageIsRejectedByTheDevice) {
  PublishRelease(kPath, kContent);
  // The server signs whatever the Director says; the device still refuses an image the
  // offline Image repository never released...
  ASSERT_TRUE(director_->Assign("dev-1", Assignment("rpi4/backdoor.img", "backdoor")));
  auto selected = DeviceCheck("dev-1");
  ASSERT_FALSE(selected);
  EXPECT_EQ(selected.error().code(), Errc::kVerificationFailed) << selected.error().ToString();
  // ...and a released path with other content.
  ASSERT_TRUE(director_->Assign("dev-1", Assignment(kPath, "tampered os image")));
  auto tampered = DeviceCheck("dev-1");
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), Errc::kVerificationFailed);
}

TEST_F(DirectorRepositoryTest, TimestampAndTargetsAreResignedNearExpiry) {
  PublishRelease(kPath, kContent);
  ASSERT_TRUE(director_->Assign("dev-1", Assignment(kPath, kContent)));
  clock_.Advance(std::chrono::hours(13));
  auto ts = md::ParseTimestamp(*director_->File("dev-1", "timestamp.json"));
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->content.common.version, 2);
  EXPECT_EQ(ts->content.snapshot_meta.version, 1);

  // Past half of the week: targets (same content), snapshot and timestamp re-signed.
  clock_.Advance(std::chrono::hours(24 * 4));
  ts = md::ParseTimestamp(*director_->File("dev-1", "timestamp.json"));
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->content.common.version, 3);
  EXPECT_EQ(ts->content.snapshot_meta.version, 2);
  auto targets = md::ParseTargets(*director_->File("dev-1", "2.targets.json"));
  ASSERT_TRUE(targets);
  EXPECT_TRUE(targets->content.targets.contains(kPath));

  // Everything still verifies on the device, 5 days after the release.
  auto selected = DeviceCheck("dev-1");
  ASSERT_TRUE(selected) << selected.error().ToString();
  EXPECT_TRUE(selected->has_value());
}

TEST_F(DirectorRepositoryTest, AssignRejectsIncompleteInput) {
  EXPECT_EQ(director_->Assign("", std::nullopt).error().code(), Errc::kInvalidArgument);
  AssignedImage no_hash = Assignment(kPath, kContent);
  no_hash.target.hashes.clear();
  EXPECT_EQ(director_->Assign("dev-1", no_hash).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(director_->File("dev-1", "../dev-2/timestamp.json").error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace aloft::server::repo
