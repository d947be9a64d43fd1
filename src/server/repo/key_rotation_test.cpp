// Rotation of the Image repository's online snapshot and timestamp keys while aloftd runs:
// stage a next pair, publish an offline-signed root naming it, and the server switches —
// including after a crash at every step of the switch.

#include <gtest/gtest.h>

#include "core/metadata/model.hpp"
#include "platform/posix/files.hpp"
#include "server/repo/repo_test_fixture.hpp"

namespace aloft::server::repo {
namespace {

namespace md = core::metadata;

constexpr std::string_view kKek = "a key-encryption key of 32+ characters, for tests";

class KeyRotationTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    rotation_.emplace(dir_ / "secrets", std::string(kKek));
    ASSERT_TRUE(platform::posix::EnsurePrivateDirectory(dir_ / "secrets"));
    image_.reset();
    image_.emplace(*store_, keys_, clock_, Lifetimes{}, &*rotation_);
  }

  // Root v(N+1) naming `pair` for snapshot and timestamp, signed by the (unchanged) root key.
  Bytes RootNaming(const ImageOnlineKeys& pair) {
    offline_.SetRoleKeys("snapshot", {pair.snapshot});
    offline_.SetRoleKeys("timestamp", {pair.timestamp});
    offline_.root.common.version += 1;
    return SignedRoot();
  }

  std::string TimestampSigner() {
    auto ts = md::ParseTimestamp(*image_->File("timestamp.json"));
    EXPECT_TRUE(ts);
    return ts->signatures.empty() ? "" : ts->signatures.front().keyid;
  }

  std::optional<OnlineKeyRotation> rotation_;
};

TEST_F(KeyRotationTest, WithoutARotationStoreStagingIsUnsupported) {
  ImageRepository plain(*store_, keys_, clock_);
  EXPECT_EQ(plain.StageKeyRotation().error().code(), Errc::kUnsupported);
}

TEST_F(KeyRotationTest, StagingIsIdempotentAndKeepsTheCurrentPairInUse) {
  PublishRelease();
  auto next = image_->StageKeyRotation();
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_NE(next->timestamp.KeyId(), keys_.image_timestamp.KeyId());
  auto again = image_->StageKeyRotation();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->timestamp.KeyId(), next->timestamp.KeyId());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "secrets" / "image-timestamp.next.pem"));
  // Nothing changes for devices until a root names the new pair.
  clock_.Advance(std::chrono::hours(13));
  EXPECT_EQ(TimestampSigner(), keys_.image_timestamp.KeyId());
  ASSERT_TRUE(image_->OnlineKeyPairs().next);
}

TEST_F(KeyRotationTest, ARootNamingTheStagedPairSwitchesTheServerAndClientsFollow) {
  PublishRelease();
  Client device(ImageServe(), image_root_v1_, Now());
  ASSERT_TRUE(device.updater.Refresh());  // trusts timestamp and snapshot of the old keys

  auto next = image_->StageKeyRotation();
  ASSERT_TRUE(next);
  Status s = image_->UploadRoot(RootNaming(*next));
  ASSERT_TRUE(s) << s.error().ToString();

  const auto pairs = image_->OnlineKeyPairs();
  EXPECT_EQ(pairs.current.timestamp.KeyId(), next->timestamp.KeyId());
  EXPECT_EQ(pairs.current.snapshot.KeyId(), next->snapshot.KeyId());
  EXPECT_FALSE(pairs.next);
  // Snapshot and timestamp were re-signed with the new pair alongside the root.
  EXPECT_EQ(TimestampSigner(), next->timestamp.KeyId());
  // On disk: the staged files became the current ones.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "secrets" / "image-timestamp.next.pem"));
  auto reloaded = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->image_timestamp.KeyId(), next->timestamp.KeyId());
  EXPECT_EQ(reloaded->image_snapshot.KeyId(), next->snapshot.KeyId());

  // The device that trusted the old keys' metadata follows at its next refresh (a new
  // updater over the same stored metadata, as after a restart of the agent), dropping its
  // snapshot and timestamp for the rotated keys (TUF 5.3.11); a new device does too.
  auto refresh_device = [&]() -> Status {
    core::metadata::Updater next_run(Client::Config(), device.fetcher, device.store, Now());
    if (Status r = next_run.Refresh(); !r) return r;
    const auto* trusted = next_run.trusted();
    if (trusted == nullptr || trusted->root().common.version != 2) {
      return Fail(Errc::kInternal, "the device did not move to root v2");
    }
    if (!next_run.FindTarget("rpi4/os-2.0.img")) return Fail(Errc::kNotFound, "os-2.0 not found");
    return Ok();
  };
  Status refreshed = refresh_device();
  ASSERT_TRUE(refreshed) << refreshed.error().ToString();
  Client fresh(ImageServe(), image_root_v1_, Now());
  ASSERT_TRUE(fresh.updater.Refresh());
  EXPECT_TRUE(fresh.updater.FindTarget("rpi4/os-2.0.img"));

  // Later releases are published under the new keys.
  Release("rpi4/os-3.0.img", "os image 3.0");
  ASSERT_TRUE(image_->UploadTargets(OfflineTargets()));
  Client later(ImageServe(), image_root_v1_, Now());
  ASSERT_TRUE(later.updater.Refresh());
  EXPECT_TRUE(later.updater.FindTarget("rpi4/os-3.0.img"));
}

TEST_F(KeyRotationTest, ARootNamingNeitherPairIsRefusedNamingBoth) {
  PublishRelease();
  auto next = image_->StageKeyRotation();
  ASSERT_TRUE(next);
  const ImageOnlineKeys stranger{offline_.NewKey(), offline_.NewKey()};
  Status s = image_->UploadRoot(RootNaming(stranger));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(s.error().message().find(keys_.image_timestamp.KeyId()), std::string::npos);
  EXPECT_NE(s.error().message().find(next->timestamp.KeyId()), std::string::npos);
  EXPECT_EQ(image_->File("2.root.json").error().code(), Errc::kNotFound);
}

TEST_F(KeyRotationTest, AStagedKeyMayNotSignRootOrTargets) {
  PublishRelease();
  auto next = image_->StageKeyRotation();
  ASSERT_TRUE(next);
  offline_.AddRoleKey("targets", next->snapshot);
  offline_.root.common.version += 1;
  Status s = image_->UploadRoot(SignedRoot());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("offline"), std::string::npos) << s.error().message();
}

TEST_F(KeyRotationTest, AStagedPairSurvivesARestart) {
  PublishRelease();
  auto next = image_->StageKeyRotation();
  ASSERT_TRUE(next);
  ImageRepository restarted(*store_, keys_, clock_, Lifetimes{}, &*rotation_);
  ASSERT_TRUE(restarted.ResumeKeyRotation());
  const auto pairs = restarted.OnlineKeyPairs();
  ASSERT_TRUE(pairs.next);
  EXPECT_EQ(pairs.next->timestamp.KeyId(), next->timestamp.KeyId());
  EXPECT_EQ(pairs.current.timestamp.KeyId(), keys_.image_timestamp.KeyId());
}

TEST_F(KeyRotationTest, ACrashAfterPublishingTheRootIsFinishedAtTheNextStart) {
  PublishRelease();
  // The state a crash between the store's commit and the file renames leaves: the root
  // naming the staged pair is published, the key files are still staged.
  auto staged = rotation_->StageNext();
  ASSERT_TRUE(staged);
  const Bytes root = RootNaming(*staged);
  auto parsed = md::ParseRoot(root);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(store_->Put(kImageRepo, {MetadataWrite{"root", 2, root, parsed->content.common.expires,
                                                     true}}));

  ImageRepository restarted(*store_, keys_, clock_, Lifetimes{}, &*rotation_);
  ASSERT_TRUE(restarted.ResumeKeyRotation());
  const auto pairs = restarted.OnlineKeyPairs();
  EXPECT_EQ(pairs.current.timestamp.KeyId(), staged->timestamp.KeyId());
  EXPECT_FALSE(pairs.next);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "secrets" / "image-snapshot.next.pem"));
}

TEST_F(KeyRotationTest, AnInterruptedFileSwitchIsCompletedBeforeKeysAreLoaded) {
  auto staged = rotation_->StageNext();
  ASSERT_TRUE(staged);
  // The crash came between PromoteNext's two renames.
  ASSERT_TRUE(platform::posix::RenameDurably(dir_ / "secrets" / "image-timestamp.next.pem",
                                             dir_ / "secrets" / "image-timestamp.pem"));
  EXPECT_EQ(rotation_->LoadNext().error().code(), Errc::kCorrupt);
  ASSERT_EQ(rotation_->FinishInterruptedPromotion(), true);
  EXPECT_EQ(rotation_->FinishInterruptedPromotion(), false);
  auto keys = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->image_snapshot.KeyId(), staged->snapshot.KeyId());
  EXPECT_EQ(keys->image_timestamp.KeyId(), staged->timestamp.KeyId());
  auto left = rotation_->LoadNext();
  ASSERT_TRUE(left);
  EXPECT_FALSE(*left);
}

TEST_F(KeyRotationTest, AnUnfinishedStagingIsIgnoredAndReplaced) {
  auto staged = rotation_->StageNext();
  ASSERT_TRUE(staged);
  // The crash came between the two key files of StageNext (timestamp is written first).
  std::filesystem::remove(dir_ / "secrets" / "image-snapshot.next.pem");
  auto loaded = rotation_->LoadNext();
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(*loaded);
  auto again = rotation_->StageNext();
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_NE(again->timestamp.KeyId(), staged->timestamp.KeyId());
}

}  // namespace
}  // namespace aloft::server::repo
