// Acceptance: what aloftctl makes offline is what aloftd's Image repository accepts and what the
// agent's installer installs. Both run in-process here (the server's own ImageRepository over
// SQLite, the agent's plan + installer into file slots), so a drift in either contract fails
// this test before any end-to-end run.

#include <gtest/gtest.h>

#include "agent/install/installer.hpp"
#include "agent/install/plan.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "cli/aloftctl/keys/ceremony.hpp"
#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/release/artifact.hpp"
#include "cli/aloftctl/release/staging.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/repo/image_repository.hpp"
#include "server/repo/online_keys.hpp"
#include "server/repo/sqlite/sqlite_repo_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/fake_clock.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::release {
namespace {

namespace md = core::metadata;
namespace posix = platform::posix;

constexpr std::string_view kPassphrase = "correct horse battery";

class AcceptanceTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(lease);
      ASSERT_TRUE(
          platform::sqlite::Migrator(server::store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    store_.emplace(*pool_);
    auto online = server::repo::OnlineKeys::Generate();
    ASSERT_TRUE(online);
    online_ = std::move(*online);
    image_repo_.emplace(*store_, online_, clock_);
  }

  keys::InitResult Init(keys::RoleSpec targets) {
    keys::InitOptions options;
    options.root = {2, 2};
    options.targets = targets;
    auto init = keys::InitRepository(
        dir_ / "repo", options,
        keys::OnlinePublicKeys{online_.image_snapshot.Public(), online_.image_timestamp.Public()},
        kPassphrase, Now());
    EXPECT_TRUE(init) << init.error().ToString();
    repo_.emplace(*repo::OfflineRepo::Open(dir_ / "repo"));
    return init ? *init : keys::InitResult{};
  }

  std::vector<core::crypto::PrivateKey> Keys(const keys::InitResult& init, std::string_view role) {
    std::vector<core::crypto::PrivateKey> out;
    for (const auto& file : init.keys) {
      if (file.role == role) out.push_back(*keys::LoadKey(file.path, kPassphrase));
    }
    return out;
  }

  Timestamp Now() const { return std::chrono::floor<std::chrono::seconds>(clock_.Now()); }

  testing::FakeClock clock_{testing::RepoBuilder::DefaultNow()};
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<server::repo::sqlite::SqliteRepoStore> store_;
  server::repo::OnlineKeys online_;
  std::optional<server::repo::ImageRepository> image_repo_;
  std::optional<repo::OfflineRepo> repo_;
};

TEST_F(AcceptanceTest, ServerAcceptsTheRepositoryAndTheAgentInstallsTheRelease) {
  const keys::InitResult init = Init({3, 2});
  Status root = image_repo_->UploadRoot(*repo_->ReadMetadata("root", 1));
  ASSERT_TRUE(root) << root.error().ToString();

  Bytes image(2 * 1024 * 1024);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<std::uint8_t>(i * 7 / 13);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "rootfs.ext4", image));
  auto artifact = CompressImage(dir_ / "rootfs.ext4", repo_->artifacts_dir(), {.level = 3});
  ASSERT_TRUE(artifact) << artifact.error().ToString();
  const ReleaseSpec spec{"rootfs-2.0.0.ext4.zst", "2.0.0", {"rpi4"}, 4, "notes"};
  ASSERT_TRUE(StageRelease(*repo_, spec, *artifact, std::chrono::days(90), Now()));

  // One of two required targets signatures: the server refuses, as a device would.
  const auto targets_keys = Keys(init, "targets");
  ASSERT_TRUE(repo::SignStaged(*repo_, targets_keys[0]));
  Status partial = image_repo_->UploadTargets(*repo_->ReadMetadata("targets", 1));
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error().code(), Errc::kVerificationFailed) << partial.error().ToString();
  ASSERT_TRUE(repo::SignStaged(*repo_, targets_keys[2]));
  Status accepted = image_repo_->UploadTargets(*repo_->ReadMetadata("targets", 1));
  ASSERT_TRUE(accepted) << accepted.error().ToString();

  // The device side: the published target, planned and installed by the agent's code.
  auto current = image_repo_->CurrentTargets();
  ASSERT_TRUE(current);
  const md::TargetFile& target = current->targets.at(spec.name);
  auto custom = core::uptane::ParseImageCustom(target.custom);
  ASSERT_TRUE(custom) << custom.error().ToString();
  agent::slots::SlotPair slots;
  slots.a = {agent::slots::SlotId::kA, agent::slots::SlotKind::kFile, dir_ / "slot_a"};
  slots.b = {agent::slots::SlotId::kB, agent::slots::SlotKind::kFile, dir_ / "slot_b"};
  ASSERT_TRUE(posix::AtomicWriteFile(slots.a.device, AsBytes("running system")));
  auto plan = agent::install::MakeInstallPlan(target, custom->payload, custom->chunks, slots,
                                              agent::slots::SlotId::kA);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->compression, agent::install::Compression::kZstd);
  auto boot = agent::slots::SimulatedBootloader::Open(dir_ / "boot.json");
  ASSERT_TRUE(boot);
  auto artifact_bytes = posix::ReadFile(artifact->path, 64 << 20);
  ASSERT_TRUE(artifact_bytes);
  agent::install::Installer installer(**boot);
  Status installed =
      installer.Run(*plan, [&](core::io::Writer& sink) { return sink.Write(*artifact_bytes); });
  ASSERT_TRUE(installed) << installed.error().ToString();
  auto slot_b = posix::ReadFile(slots.b.device, 64 << 20);
  ASSERT_TRUE(slot_b);
  EXPECT_EQ(*slot_b, image);
}

TEST_F(AcceptanceTest, ServerAcceptsRotationsMadeOffline) {
  const keys::InitResult init = Init({1, 1});
  ASSERT_TRUE(image_repo_->UploadRoot(*repo_->ReadMetadata("root", 1)));

  // Root keys: 2 new keys, signed by both old ones.
  keys::RotateOptions rotate;
  rotate.role = keys::RotatedRole::kRoot;
  rotate.signers = Keys(init, "root");
  auto rotated = keys::RotateKeys(*repo_, rotate, kPassphrase, Now());
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  Status v2 = image_repo_->UploadRoot(*repo_->ReadMetadata("root", 2));
  ASSERT_TRUE(v2) << v2.error().ToString();

  // Online keys: the server moved to new snapshot/timestamp keys; the new root lists them.
  auto fresh = server::repo::OnlineKeys::Generate();
  ASSERT_TRUE(fresh);
  keys::RotateOptions online;
  online.role = keys::RotatedRole::kOnline;
  online.online =
      keys::OnlinePublicKeys{fresh->image_snapshot.Public(), fresh->image_timestamp.Public()};
  for (const auto& file : rotated->new_keys) {
    online.signers.push_back(*keys::LoadKey(file.path, kPassphrase));
  }
  ASSERT_TRUE(keys::RotateKeys(*repo_, online, kPassphrase, Now()));
  // This server still holds the old online keys and says so: the root names other keys.
  Status v3 = image_repo_->UploadRoot(*repo_->ReadMetadata("root", 3));
  ASSERT_FALSE(v3);
  EXPECT_EQ(v3.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(v3.error().message().find(online_.image_snapshot.KeyId()), std::string::npos);
}

}  // namespace
}  // namespace aloft::cli::aloftctl::release
