// Deployments that target a static group: membership is read when the device checks in, so
// members are admitted, non-members are not, a device added to the group after the rollout
// started is admitted at its next check-in, and nothing is written per device up front.

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "server/deployments/deployment_json.hpp"
#include "server/deployments/deployment_service.hpp"
#include "server/deployments/deployment_test_fixture.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::server::deployments {
namespace {

// Groups in memory, counting how often admission asked.
class FakeGroups final : public GroupMembership {
 public:
  void Add(const std::string& group, const std::string& device) {
    std::lock_guard lock(mutex_);
    members_[group].insert(device);
  }
  void Remove(const std::string& group, const std::string& device) {
    std::lock_guard lock(mutex_);
    members_[group].erase(device);
  }
  Result<bool> Exists(std::string_view group) override {
    std::lock_guard lock(mutex_);
    return members_.contains(std::string(group));
  }
  Result<std::vector<std::string>> GroupsOf(std::string_view device_id) override {
    std::lock_guard lock(mutex_);
    ++lookups_;
    if (fail_) return Fail(Errc::kUnavailable, "group store busy");
    std::vector<std::string> out;
    for (const auto& [group, devices] : members_) {
      if (devices.contains(std::string(device_id))) out.push_back(group);
    }
    return out;
  }
  int lookups() {
    std::lock_guard lock(mutex_);
    return lookups_;
  }
  void FailLookups(bool fail) {
    std::lock_guard lock(mutex_);
    fail_ = fail;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> members_;
  int lookups_ = 0;
  bool fail_ = false;
};

class GroupAdmissionTest : public DeploymentDbTest {
 protected:
  void SetUp() override {
    DeploymentDbTest::SetUp();
    catalog_.Add(MakeRelease("os-2.0.img", "2.0", {"rpi4"}, Sha('2')));
    service_ = std::make_unique<DeploymentService>(*store_, catalog_, assigner_, clock_, &groups_);
    groups_.Add("lab", "dev-member");
    groups_.Add("field", "dev-other");
  }

  static DeploymentSpec GroupSpec(std::string group) {
    DeploymentSpec spec;
    spec.release = "os-2.0.img";
    spec.selector.group = std::move(group);
    spec.phases = {{100, 0, std::nullopt}};
    return spec;
  }

  static DeviceView Device(std::string id) {
    DeviceView d;
    d.id = std::move(id);
    d.hardware_id = "rpi4";
    d.image_sha256 = Sha('1');
    d.image_version = "1.0";
    return d;
  }

  CheckInDecision CheckIn(const std::string& id) {
    auto decision = service_->CheckIn(Device(id));
    EXPECT_TRUE(decision) << decision.error().ToString();
    return decision ? *decision : CheckInDecision{};
  }

  testing::FakeClock clock_{T("2030-01-01T12:00:00Z")};
  FakeReleaseCatalog catalog_;
  RecordingAssigner assigner_;
  FakeGroups groups_;
  std::unique_ptr<DeploymentService> service_;
};

TEST_F(GroupAdmissionTest, AMemberIsAdmittedANonMemberIsNot) {
  auto view = service_->Create(GroupSpec("lab"), "alice");
  ASSERT_TRUE(view) << view.error().ToString();
  const std::string id = view->deployment.id;
  EXPECT_EQ(view->deployment.selector.group, "lab");
  EXPECT_EQ(view->counts.Total(), 0) << "nothing is written per device up front";

  CheckInDecision member = CheckIn("dev-member");
  EXPECT_TRUE(member.update_available);
  EXPECT_EQ(member.deployment_id, id);
  EXPECT_EQ(member.change, CheckInDecision::DirectorChange::kAssigned);

  for (const char* outsider : {"dev-other", "dev-stranger"}) {
    CheckInDecision d = CheckIn(outsider);
    EXPECT_FALSE(d.update_available) << outsider;
    EXPECT_EQ(d.change, CheckInDecision::DirectorChange::kNone) << outsider;
  }
  EXPECT_EQ(assigner_.Calls().size(), 1u);
  EXPECT_EQ(service_->Get(id)->counts.Total(), 1);
}

TEST_F(GroupAdmissionTest, ADeviceAddedAfterTheStartIsAdmittedAtItsNextCheckIn) {
  auto view = service_->Create(GroupSpec("lab"), "alice");
  ASSERT_TRUE(view);
  EXPECT_FALSE(CheckIn("dev-late").update_available);
  groups_.Add("lab", "dev-late");
  CheckInDecision later = CheckIn("dev-late");
  EXPECT_TRUE(later.update_available);
  EXPECT_EQ(later.deployment_id, view->deployment.id);
  // Once admitted, leaving the group does not pull the image from under an install.
  groups_.Remove("lab", "dev-late");
  EXPECT_TRUE(CheckIn("dev-late").update_available);
}

TEST_F(GroupAdmissionTest, GroupsAreAnotherCriterionAndedWithTheRest) {
  DeploymentSpec spec = GroupSpec("lab");
  spec.selector.image_version = "9.9";  // dev-member runs 1.0
  ASSERT_TRUE(service_->Create(spec, "alice"));
  EXPECT_FALSE(CheckIn("dev-member").update_available);
}

TEST_F(GroupAdmissionTest, MembershipIsReadOnlyWhenADeploymentNamesAGroup) {
  DeploymentSpec plain = GroupSpec("");
  plain.selector.devices = {"dev-plain"};
  ASSERT_TRUE(service_->Create(plain, "alice"));
  EXPECT_TRUE(CheckIn("dev-plain").update_available);
  EXPECT_FALSE(CheckIn("dev-member").update_available);
  EXPECT_EQ(groups_.lookups(), 0) << "check-ins against group-less deployments cost no lookup";
  ASSERT_TRUE(service_->Create(GroupSpec("lab"), "alice"));
  EXPECT_TRUE(CheckIn("dev-member").update_available);
  EXPECT_EQ(groups_.lookups(), 1);
}

TEST_F(GroupAdmissionTest, AFailedLookupFailsTheCheckInWithoutAdmitting) {
  ASSERT_TRUE(service_->Create(GroupSpec("lab"), "alice"));
  groups_.FailLookups(true);
  auto decision = service_->CheckIn(Device("dev-member"));
  ASSERT_FALSE(decision);
  EXPECT_EQ(decision.error().code(), Errc::kUnavailable);
  EXPECT_TRUE(assigner_.Calls().empty());
  groups_.FailLookups(false);
  EXPECT_TRUE(CheckIn("dev-member").update_available) << "the next check-in retries";
}

TEST_F(GroupAdmissionTest, CreateRefusesAnUnknownOrMalformedGroup) {
  auto unknown = service_->Create(GroupSpec("nope"), "alice");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::kNotFound);
  auto malformed = service_->Create(GroupSpec("../etc"), "alice");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), Errc::kInvalidArgument);
  DeploymentService without_groups(*store_, catalog_, assigner_, clock_);
  EXPECT_EQ(without_groups.Create(GroupSpec("lab"), "alice").error().code(), Errc::kUnsupported);
}

TEST_F(GroupAdmissionTest, TargetingGroupListsActiveAndPausedDeploymentsOnly) {
  auto a = service_->Create(GroupSpec("lab"), "alice");
  auto b = service_->Create(GroupSpec("lab"), "alice");
  auto c = service_->Create(GroupSpec("field"), "alice");
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(service_->Pause(b->deployment.id, "hold"));
  EXPECT_EQ(service_->TargetingGroup("lab")->size(), 2u);
  ASSERT_TRUE(service_->Cancel(a->deployment.id));
  ASSERT_TRUE(service_->Cancel(b->deployment.id));
  EXPECT_TRUE(service_->TargetingGroup("lab")->empty());
  EXPECT_EQ(*service_->TargetingGroup("field"), (std::vector<std::string>{c->deployment.id}));
}

// A complete POST /api/v1/deployments body around `selector`.
std::string SpecJson(const std::string& selector) {
  return R"({"release":"os-2.0.img","selector":)" + selector +
         R"(,"phases":[{"percent":100,"wait_seconds":0}],"failure_threshold_percent":10,)"
         R"("min_devices_for_threshold":1,"phase_deadline_seconds":3600})";
}

TEST_F(GroupAdmissionTest, TheGroupRoundTripsThroughJsonAndTheStore) {
  auto spec = ParseDeploymentSpec(*core::codec::ParseJson(SpecJson(R"({"group":"lab"})")));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->selector.group, "lab");
  auto view = service_->Create(*spec, "alice");
  ASSERT_TRUE(view);
  auto stored = store_->GetDeployment(view->deployment.id);
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_EQ(stored->selector.group, "lab");
  EXPECT_EQ(ToJson(stored->selector).Find("group")->AsString(), "lab");
  EXPECT_FALSE(ParseDeploymentSpec(*core::codec::ParseJson(SpecJson(R"({"group":""})"))));
  EXPECT_FALSE(ParseDeploymentSpec(*core::codec::ParseJson(SpecJson(R"({"group":7})"))));
}

}  // namespace
}  // namespace aloft::server::deployments
