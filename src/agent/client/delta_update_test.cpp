// Delta updates through the whole loop, against the fake aloftd: the device runs v2 (installed
// and committed), v3 is released with a delta from v2, and the Director points at it. The
// agent applies the delta from the running slot, or falls back to the full image by itself
// (and says so) when the delta is corrupt, its base is wrong, or it is not signed.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/client/agent_runtime.hpp"
#include "agent/client/fake_aloftd_test_fixture.hpp"
#include "agent/client/update_client.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/update/update_record.hpp"
#include "core/delta/patch.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::client {
namespace {

using namespace std::chrono_literals;
using slots::SlotId;
using testing::FakeAloftd;
using testing::MakeImage;
using testing::Release;
namespace posix = platform::posix;

constexpr std::size_t kImageBytes = 200 * 1000;

Bytes MakePatch(ByteView from, ByteView to) {
  core::io::BytesWriter out(std::size_t{64} << 20);
  EXPECT_TRUE(core::delta::CreatePatch(from, to, out));
  return std::move(out).bytes();
}

class DeltaUpdateTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    clock_.Set(aloft::testing::RepoBuilder::DefaultNow() + std::chrono::hours(1));
    server_ = std::make_unique<FakeAloftd>(clock_);
    auto device = testing::PrepareDevice(*server_, dir_);
    ASSERT_TRUE(device) << device.error().ToString();
    config_ = std::move(*device);
    config_.download.retries = 1;
    config_.download.progress_interval = 0s;
    auto boot = slots::SimulatedBootloader::Open(config_.bootloader.env);
    ASSERT_TRUE(boot) << boot.error().ToString();
    boot_ = std::move(*boot);

    v2_.path = "rootfs-2.0.img.zst";
    v2_.version = "2.0";
    v2_.image = MakeImage("healthy v2", kImageBytes, 1);
    v3_.path = "rootfs-3.0.img.zst";
    v3_.version = "3.0";
    v3_.image = v2_.image;
    // A few changed regions and a little growth: what a point release looks like.
    for (std::size_t at : {std::size_t{1000}, kImageBytes / 3, kImageBytes - 500}) {
      for (std::size_t i = 0; i < 300; ++i)
        v3_.image[at + i] = static_cast<std::uint8_t>('A' + i % 26);
    }
    const Bytes tail = MakeImage("", 20000, 9);
    v3_.image.insert(v3_.image.end(), tail.begin(), tail.end());

    // The device runs v2, committed.
    server_->ReleaseImage(v2_);
    server_->Assign(v2_, "dep-2");
    ASSERT_EQ(Check().outcome, Outcome::kRebootRequested);
    ASSERT_EQ(boot_->SimulateReboot()->booted, SlotId::kB);
    ASSERT_EQ(Check().outcome, Outcome::kCommitted);
    ASSERT_EQ(Record().installed.sha256, core::crypto::Sha256Hex(v2_.image));
    server_->ReleaseImage(v3_);
  }

  std::unique_ptr<AgentRuntime> Agent() {
    RuntimeOptions options;
    options.clock = &clock_;
    options.sleep = [this](std::chrono::milliseconds d) {
      clock_.Advance(d);
      return true;
    };
    options.log = [this](std::string_view line) { log_.emplace_back(line); };
    auto runtime = AgentRuntime::Create(config_, std::move(options));
    EXPECT_TRUE(runtime) << runtime.error().ToString();
    return runtime ? std::move(*runtime) : nullptr;
  }
  CheckResult Check() {
    auto agent = Agent();
    if (!agent) return {};
    auto started = agent->client().Start();
    EXPECT_TRUE(started) << started.error().ToString();
    if (started && *started) return **started;
    auto checked = agent->client().CheckOnce();
    EXPECT_TRUE(checked) << checked.error().ToString();
    return checked ? *checked : CheckResult{};
  }
  update::UpdateRecord Record() {
    auto record = update::UpdateRecordFile(config_.data_dir).Load();
    EXPECT_TRUE(record) << record.error().ToString();
    return record ? *record : update::UpdateRecord{};
  }
  Bytes SlotA() {
    auto bytes = posix::ReadFile(config_.slots.a.device, 64 << 20);
    return bytes ? *bytes : Bytes{};
  }
  int Fetches(const std::string& target, ByteView artifact) {
    return server_->CountRequests(FakeAloftd::TargetPathOf(target, artifact));
  }
  // The reports whose message says the agent abandoned the delta.
  std::vector<std::string> Fallbacks() {
    std::vector<std::string> out;
    for (const auto& r : server_->reports()) {
      if (r.message.starts_with(core::uptane::kDeltaFallbackPrefix)) out.push_back(r.message);
    }
    return out;
  }
  // Installs v3 (offered with `delta`), reboots into it and commits.
  CheckResult InstallV3(const std::string& delta, std::optional<Bytes> delta_artifact = {}) {
    server_->Assign(v3_, "dep-3", std::nullopt, "rpi4", delta, std::move(delta_artifact));
    CheckResult installed = Check();
    EXPECT_EQ(installed.outcome, Outcome::kRebootRequested) << installed.message;
    EXPECT_EQ(SlotA(), v3_.image) << "slot a holds exactly the signed v3 image";
    EXPECT_EQ(boot_->SimulateReboot()->booted, SlotId::kA);
    EXPECT_EQ(Check().outcome, Outcome::kCommitted);
    EXPECT_EQ(Record().installed.sha256, core::crypto::Sha256Hex(v3_.image));
    return installed;
  }

  aloft::testing::FakeClock clock_;
  std::unique_ptr<FakeAloftd> server_;
  config::AgentConfig config_;
  std::unique_ptr<slots::SimulatedBootloader> boot_;
  Release v2_, v3_;
  std::vector<std::string> log_;
};

TEST_F(DeltaUpdateTest, InstallsByDeltaFromTheRunningSlot) {
  const Bytes patch = MakePatch(v2_.image, v3_.image);
  ASSERT_LT(patch.size() * 4, v3_.Artifact().size()) << "the delta is the cheaper download";
  const std::string delta = server_->ReleaseDelta(v3_, v2_.image, patch);

  CheckResult installed = InstallV3(delta);
  EXPECT_NE(installed.message.find("by delta"), std::string::npos) << installed.message;
  EXPECT_GE(Fetches(delta, patch), 1);
  EXPECT_EQ(Fetches(v3_.path, v3_.Artifact()), 0) << "the full image was never downloaded";
  EXPECT_TRUE(Fallbacks().empty());
  EXPECT_FALSE(std::filesystem::exists(config_.data_dir / "downloads" /
                                       (core::crypto::Sha256Hex(patch) + ".partial")));
}

TEST_F(DeltaUpdateTest, CorruptDeltaFallsBackToTheFullImageAndSaysSo) {
  // Signed by the Image repository as it is, so only the engine and the slot check can tell.
  Bytes corrupt = MakePatch(v2_.image, v3_.image);
  corrupt[corrupt.size() / 2] ^= 0x5a;
  const std::string delta = server_->ReleaseDelta(v3_, v2_.image, corrupt);

  CheckResult installed = InstallV3(delta);
  EXPECT_EQ(installed.message.find("by delta"), std::string::npos) << installed.message;
  EXPECT_GE(Fetches(delta, corrupt), 1);
  EXPECT_GE(Fetches(v3_.path, v3_.Artifact()), 1);
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("delta " + delta + " failed"), std::string::npos) << fallbacks[0];
  for (const auto& r : server_->reports()) {
    if (r.message == fallbacks[0]) {
      EXPECT_EQ(r.deployment_id, "dep-3");
    }
  }
}

TEST_F(DeltaUpdateTest, TamperedDeltaDownloadFallsBack) {
  const Bytes patch = MakePatch(v2_.image, v3_.image);
  const std::string delta = server_->ReleaseDelta(v3_, v2_.image, patch);
  Bytes tampered = patch;
  tampered[tampered.size() - 1] ^= 0x01;
  const std::string url = FakeAloftd::TargetPathOf(delta, patch);
  server_->SetTargetHook([&](const aloft::testing::TestHttpServer::Request& r)
                             -> std::optional<aloft::testing::TestHttpServer::Response> {
    if (r.path != url) return std::nullopt;
    aloft::testing::TestHttpServer::Response response;
    response.body = tampered;  // a mirror that altered the patch
    return response;
  });
  CheckResult installed = InstallV3(delta);
  EXPECT_EQ(installed.message.find("by delta"), std::string::npos) << installed.message;
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find(" failed: "), std::string::npos) << fallbacks[0];
}

TEST_F(DeltaUpdateTest, WrongBaseFallsBackWithoutDownloadingTheDelta) {
  const Bytes patch = MakePatch(v2_.image, v3_.image);
  const std::string delta = server_->ReleaseDelta(v3_, v2_.image, patch);
  // The running slot drifted from what the device verified when it installed it.
  auto running = posix::ReadFile(config_.slots.b.device, 64 << 20);
  ASSERT_TRUE(running);
  (*running)[running->size() / 2] ^= 0x01;
  ASSERT_TRUE(posix::AtomicWriteFile(config_.slots.b.device, *running));

  InstallV3(delta);
  EXPECT_EQ(Fetches(delta, patch), 0) << "the base is checked before anything is downloaded";
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("does not hold the image the delta starts from"), std::string::npos)
      << fallbacks[0];
}

TEST_F(DeltaUpdateTest, DeltaFromAnotherImageIsNotTried) {
  const Bytes other = MakeImage("healthy v1", kImageBytes, 7);
  // Never downloaded, so never applied: any signed bytes will do.
  const Bytes patch = ToBytes("a patch from another image");
  const std::string delta = server_->ReleaseDelta(v3_, other, patch);
  InstallV3(delta);
  EXPECT_EQ(Fetches(delta, patch), 0);
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("this device runs"), std::string::npos) << fallbacks[0];
}

TEST_F(DeltaUpdateTest, DeltaTheImageRepositoryNeverSignedIsIgnored) {
  // A compromised Director points at bytes of its choosing: the device never fetches them.
  const Bytes patch = MakePatch(v2_.image, v3_.image);
  InstallV3("rootfs-3.0.img.zst.from-evil", patch);
  EXPECT_EQ(Fetches("rootfs-3.0.img.zst.from-evil", patch), 0);
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("never signed"), std::string::npos) << fallbacks[0];
}

// Deltas aloftd built itself: signed by the Director alone, taken only as a transport for the
// Image-signed image.
TEST_F(DeltaUpdateTest, InstallsAServerBuiltDelta) {
  const Bytes patch = MakePatch(v2_.image, v3_.image);
  const std::string name = core::uptane::DeltaTargetName(v3_.path, core::crypto::Sha256Hex(v2_.image));
  server_->AssignServerBuilt(v3_, "dep-3", name, v2_.image, patch);
  CheckResult installed = Check();
  EXPECT_EQ(installed.outcome, Outcome::kRebootRequested) << installed.message;
  EXPECT_NE(installed.message.find("by delta"), std::string::npos) << installed.message;
  EXPECT_EQ(SlotA(), v3_.image);
  EXPECT_GE(Fetches(name, patch), 1);
  EXPECT_EQ(Fetches(v3_.path, v3_.Artifact()), 0) << "the full image was never downloaded";
  EXPECT_TRUE(Fallbacks().empty());
}

TEST_F(DeltaUpdateTest, AServerBuiltDeltaCannotInstallAnythingButTheSignedImage) {
  // A compromised server builds a patch to an image of its own and binds it to the release
  // the Image repository signed: the slot check refuses the result, the full image goes in.
  Bytes evil = v3_.image;
  evil[evil.size() / 2] ^= 0xff;
  const Bytes patch = MakePatch(v2_.image, evil);
  const std::string name = core::uptane::DeltaTargetName(v3_.path, core::crypto::Sha256Hex(v2_.image));
  server_->AssignServerBuilt(v3_, "dep-3", name, v2_.image, patch);
  CheckResult installed = Check();
  EXPECT_EQ(installed.outcome, Outcome::kRebootRequested) << installed.message;
  EXPECT_EQ(installed.message.find("by delta"), std::string::npos) << installed.message;
  EXPECT_EQ(SlotA(), v3_.image) << "slot a holds exactly the signed v3 image";
  EXPECT_GE(Fetches(v3_.path, v3_.Artifact()), 1);
  ASSERT_EQ(Fallbacks().size(), 1u);
}

TEST_F(DeltaUpdateTest, AServerBuiltBindingToAnotherImageIsRefusedBeforeAnyDownload) {
  Bytes evil = v3_.image;
  evil[evil.size() / 2] ^= 0xff;
  const Bytes patch = MakePatch(v2_.image, evil);
  const std::string name = core::uptane::DeltaTargetName(v3_.path, core::crypto::Sha256Hex(v2_.image));
  server_->AssignServerBuilt(v3_, "dep-3", name, v2_.image, patch, evil);
  CheckResult installed = Check();
  EXPECT_EQ(installed.outcome, Outcome::kRebootRequested) << installed.message;
  EXPECT_EQ(SlotA(), v3_.image);
  EXPECT_EQ(Fetches(name, patch), 0);
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("does not produce the signed image"), std::string::npos)
      << fallbacks[0];
}

TEST_F(DeltaUpdateTest, ServerBuiltDeltasCanBeRefusedByConfiguration) {
  config_.delta.accept_server_built = false;
  const Bytes patch = MakePatch(v2_.image, v3_.image);
  const std::string name = core::uptane::DeltaTargetName(v3_.path, core::crypto::Sha256Hex(v2_.image));
  server_->AssignServerBuilt(v3_, "dep-3", name, v2_.image, patch);
  CheckResult installed = Check();
  EXPECT_EQ(installed.outcome, Outcome::kRebootRequested) << installed.message;
  EXPECT_EQ(SlotA(), v3_.image);
  EXPECT_EQ(Fetches(name, patch), 0);
  const auto fallbacks = Fallbacks();
  ASSERT_EQ(fallbacks.size(), 1u);
  EXPECT_NE(fallbacks[0].find("accept_server_built"), std::string::npos) << fallbacks[0];
}

}  // namespace
}  // namespace aloft::agent::client
