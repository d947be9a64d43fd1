// The check-in decision with deltas: a device that reports image H is pointed at the Image
// repository's delta from H to the deployed release, any other device gets the full image
// only, and a delta is never deployable on its own. A device's fallback to the full image
// stays visible on its row.

#include <gtest/gtest.h>

#include "core/uptane/target_custom.hpp"
#include "server/deployments/deployment_service.hpp"
#include "server/deployments/deployment_test_fixture.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::server::deployments {
namespace {

using core::wire::UpdateState;

constexpr const char* kFull = "os-2.0.img";

class DeltaSelectionTest : public DeploymentDbTest {
 protected:
  void SetUp() override {
    DeploymentDbTest::SetUp();
    catalog_.Add(MakeRelease(kFull, "2.0", {"rpi4"}, Sha('2')));
    catalog_.Add(Delta(Sha('1'), kFull, Sha('2')));
    service_ = std::make_unique<DeploymentService>(*store_, catalog_, assigner_, clock_);
    auto view = service_->Create(Spec(kFull), "alice");
    ASSERT_TRUE(view) << view.error().ToString();
    deployment_ = view->deployment.id;
  }

  // The delta target the offline `release create --delta-from` stages.
  static Release Delta(const std::string& from, const std::string& to_target,
                       const std::string& to_sha) {
    Release r =
        MakeRelease(core::uptane::DeltaTargetName(to_target, from), "2.0", {"rpi4"}, Sha('d'));
    r.target_file.length = 77;
    core::uptane::ImageCustom custom;
    custom.version = "2.0";
    custom.hardware_ids = {"rpi4"};
    custom.delta = core::uptane::DeltaInfo{from, 1000, to_target, to_sha, 1234};
    r.target_file.custom = core::uptane::ToJson(custom);
    return r;
  }
  static DeploymentSpec Spec(std::string release) {
    DeploymentSpec spec;
    spec.release = std::move(release);
    spec.phases = {{100, 0, std::nullopt}};
    spec.failure_threshold_percent = 50;
    spec.min_devices_for_threshold = 1;
    spec.phase_deadline_seconds = 3600;
    return spec;
  }
  static DeviceView Device(std::string id, std::string sha) {
    DeviceView d;
    d.id = std::move(id);
    d.hardware_id = "rpi4";
    d.image_sha256 = std::move(sha);
    return d;
  }
  std::optional<repo::AssignedImage> Assigned(const DeviceView& device) {
    auto decision = service_->CheckIn(device);
    EXPECT_TRUE(decision) << decision.error().ToString();
    if (!decision) return std::nullopt;
    EXPECT_TRUE(decision->update_available);
    return decision->assigned;
  }

  testing::FakeClock clock_{T("2030-01-01T12:00:00Z")};
  FakeReleaseCatalog catalog_;
  RecordingAssigner assigner_;
  std::unique_ptr<DeploymentService> service_;
  std::string deployment_;
  int seq_ = 0;
};

TEST_F(DeltaSelectionTest, DeviceOnTheDeltaBaseGetsTheDelta) {
  auto image = Assigned(Device("dev-h", Sha('1')));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->target_path, kFull);  // the Director still names the full image
  EXPECT_EQ(image->target.hashes.at("sha256"), Sha('2'));
  ASSERT_TRUE(image->delta);
  EXPECT_EQ(image->delta->target, core::uptane::DeltaTargetName(kFull, Sha('1')));
  EXPECT_EQ(image->delta->file.length, 77);
  EXPECT_EQ(image->delta->file.hashes.at("sha256"), Sha('d'));
  // What the Director was told is what the decision says.
  auto calls = assigner_.CallsFor("dev-h");
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_TRUE(calls[0].image && calls[0].image->delta);
}

TEST_F(DeltaSelectionTest, DeviceOnAnotherImageGetsTheFullImageOnly) {
  auto image = Assigned(Device("dev-other", Sha('7')));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->target_path, kFull);
  EXPECT_FALSE(image->delta);
  auto unknown = Assigned(Device("dev-new", ""));  // never reported an inventory
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->delta);
}

TEST_F(DeltaSelectionTest, UppercaseReportedDigestStillMatches) {
  auto image = Assigned(Device("dev-upper", std::string(64, 'A')));
  EXPECT_FALSE(image && image->delta);  // digest of A..., no delta from it
  catalog_.Add(Delta(Sha('a'), kFull, Sha('2')));
  auto again = Assigned(Device("dev-upper2", std::string(64, 'A')));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->delta);
}

TEST_F(DeltaSelectionTest, ADeltaWhoseSignedBindingDisagreesIsNotOffered) {
  // Found under the right name, but signed as producing another image: not offered.
  Release wrong = Delta(Sha('5'), kFull, Sha('9'));
  catalog_.Add(wrong);
  auto image = Assigned(Device("dev-5", Sha('5')));
  ASSERT_TRUE(image);
  EXPECT_FALSE(image->delta);
  // For other hardware: not offered either.
  Release other_hw = Delta(Sha('6'), kFull, Sha('2'));
  core::uptane::ImageCustom custom = *core::uptane::ParseImageCustom(other_hw.target_file.custom);
  custom.hardware_ids = {"rpi3"};
  other_hw.target_file.custom = core::uptane::ToJson(custom);
  catalog_.Add(other_hw);
  auto image6 = Assigned(Device("dev-6", Sha('6')));
  ASSERT_TRUE(image6);
  EXPECT_FALSE(image6->delta);
}

// Stands in for server/deltas: records what admission asked, answers with a pointer.
class FakeBuiltDeltas final : public BuiltDeltas {
 public:
  std::optional<core::uptane::DeltaRef> Offer(std::string_view release,
                                              std::string_view image_sha256,
                                              std::string_view from_sha256) override {
    asked.push_back(std::string(release) + " " + std::string(image_sha256) + " " +
                    std::string(from_sha256));
    core::uptane::DeltaRef ref;
    ref.target = core::uptane::DeltaTargetName(release, from_sha256);
    ref.file.length = 42;
    ref.file.hashes = {{"sha256", Sha('b')}};
    ref.server_built = core::uptane::DeltaInfo{std::string(from_sha256), 1000, "",
                                               std::string(image_sha256), 1234};
    return ref;
  }
  void Prepare(std::string_view release, std::string_view image_sha256,
               const std::vector<std::string>& hardware_ids) override {
    std::string hw;
    for (const auto& h : hardware_ids) hw += h + ",";
    prepared.push_back(std::string(release) + " " + std::string(image_sha256) + " " + hw);
  }
  std::vector<std::string> asked;
  std::vector<std::string> prepared;
};

TEST_F(DeltaSelectionTest, WithoutASignedDeltaTheServerBuiltOneIsOffered) {
  FakeBuiltDeltas built;
  service_ = std::make_unique<DeploymentService>(*store_, catalog_, assigner_, clock_, nullptr,
                                                 &built);
  // A signed delta exists from Sha('1'): the server's own is not even asked for.
  auto signed_delta = Assigned(Device("dev-h", Sha('1')));
  ASSERT_TRUE(signed_delta && signed_delta->delta);
  EXPECT_FALSE(signed_delta->delta->server_built);
  EXPECT_TRUE(built.asked.empty());

  // Creating a deployment asks for deltas to be prepared for its hardware.
  ASSERT_TRUE(service_->Create(Spec(kFull), "alice"));
  ASSERT_EQ(built.prepared.size(), 1u);
  EXPECT_EQ(built.prepared[0], std::string(kFull) + " " + Sha('2') + " rpi4,");

  auto image = Assigned(Device("dev-3", Sha('3')));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->target_path, kFull);  // still the full image
  ASSERT_TRUE(image->delta);
  ASSERT_TRUE(image->delta->server_built);
  EXPECT_EQ(image->delta->server_built->from_sha256, Sha('3'));
  ASSERT_EQ(built.asked.size(), 1u);
  EXPECT_EQ(built.asked[0], std::string(kFull) + " " + Sha('2') + " " + Sha('3'));
}

TEST_F(DeltaSelectionTest, ADeltaCannotBeDeployedByItself) {
  auto view = service_->Create(Spec(core::uptane::DeltaTargetName(kFull, Sha('1'))), "alice");
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(view.error().message().find("is a delta"), std::string::npos);
}

TEST_F(DeltaSelectionTest, FallbackToTheFullImageStaysOnTheRow) {
  ASSERT_TRUE(Assigned(Device("dev-h", Sha('1'))));
  auto report = [&](UpdateState state, std::string message) {
    core::wire::Report r;
    r.id = "r-" + std::to_string(++seq_);
    r.deployment_id = deployment_;
    r.state = state;
    r.message = std::move(message);
    r.at = clock_.Now();
    auto applied = service_->OnReport("dev-h", r);
    ASSERT_TRUE(applied) << applied.error().ToString();
  };
  report(UpdateState::kDownloading, std::string(core::uptane::kDeltaFallbackPrefix) +
                                        "corrupt patch; downloading the full image");
  report(UpdateState::kDownloading, "downloaded 40%");
  report(UpdateState::kRebooting, "rebooting into slot b");
  report(UpdateState::kSucceeded, "committed version 2.0");
  auto row = store_->GetRollout(deployment_, "dev-h");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, RolloutState::kSucceeded);
  EXPECT_EQ((*row)->message,
            "committed version 2.0 | delta fallback: corrupt patch; downloading the full image");
}

TEST_F(DeltaSelectionTest, RowsWithoutFallbackKeepTheirMessage) {
  ASSERT_TRUE(Assigned(Device("dev-h", Sha('1'))));
  core::wire::Report r;
  r.id = "r-1";
  r.deployment_id = deployment_;
  r.state = UpdateState::kSucceeded;
  r.message = "committed version 2.0";
  r.at = clock_.Now();
  ASSERT_TRUE(service_->OnReport("dev-h", r));
  auto row = store_->GetRollout(deployment_, "dev-h");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->message, "committed version 2.0");
}

}  // namespace
}  // namespace aloft::server::deployments
