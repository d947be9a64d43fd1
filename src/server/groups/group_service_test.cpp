// GroupService over the real SQLite stores: validation, all-or-nothing membership changes,
// the delete-while-targeted rule, and the audit record each change leaves.

#include "server/groups/group_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "server/audit/sqlite/sqlite_audit_log.hpp"
#include "server/groups/group_test_fixture.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::server::groups {
namespace {

using Ids = std::vector<std::string>;

class GroupServiceTest : public GroupDbTest {
 protected:
  void SetUp() override {
    GroupDbTest::SetUp();
    audit_.emplace(*pool_, clock_);
    service_.emplace(*store_, *audit_, clock_, [this](std::string_view name) {
      return Result<std::vector<std::string>>(name == targeted_ ? Ids{"dep-1"} : Ids{});
    });
  }

  std::vector<audit::AuditRecord> Records() {
    auto records = audit_->List(0, 1000);
    EXPECT_TRUE(records) << records.error().ToString();
    return records ? *records : std::vector<audit::AuditRecord>{};
  }
  bool Audited(std::string_view action, audit::Outcome outcome, std::string_view target) {
    auto records = Records();
    return std::any_of(records.begin(), records.end(), [&](const audit::AuditRecord& r) {
      return r.action == action && r.outcome == outcome && r.target == target && r.actor == "alice";
    });
  }

  aloft::testing::FakeClock clock_;
  std::optional<audit::sqlite::SqliteAuditLog> audit_;
  std::optional<GroupService> service_;
  std::string targeted_;  // the group the fake deployments target
};

TEST_F(GroupServiceTest, CreateListGetDelete) {
  auto created = service_->Create("alice", "lab-rack.2");
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_EQ(created->name, "lab-rack.2");
  EXPECT_EQ(created->created_by, "alice");
  EXPECT_EQ(created->created_at, clock_.Now());
  EXPECT_EQ(service_->Create("alice", "lab-rack.2").error().code(), Errc::kAlreadyExists);
  ASSERT_TRUE(service_->AddMembers("alice", "lab-rack.2", Ids{"dev-2", "dev-1"}));
  auto list = service_->List("", 100);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].members, 2);
  auto page = service_->Get("lab-rack.2", "", 1);
  ASSERT_TRUE(page) << page.error().ToString();
  EXPECT_EQ(page->devices, (Ids{"dev-1"}));
  EXPECT_EQ(page->next_after, "dev-1");
  EXPECT_EQ(service_->Get("lab-rack.2", page->next_after, 1)->devices, (Ids{"dev-2"}));
  EXPECT_EQ(service_->Get("lab-rack.2", "", 10)->next_after, "");
  ASSERT_TRUE(service_->Delete("alice", "lab-rack.2"));
  EXPECT_EQ(service_->Get("lab-rack.2", "", 10).error().code(), Errc::kNotFound);
  EXPECT_EQ(service_->Delete("alice", "lab-rack.2").error().code(), Errc::kNotFound);
  EXPECT_TRUE(Audited(kActionCreate, audit::Outcome::kSuccess, "lab-rack.2"));
  EXPECT_TRUE(Audited(kActionCreate, audit::Outcome::kFailure, "lab-rack.2"));
  EXPECT_TRUE(Audited(kActionMembersAdd, audit::Outcome::kSuccess, "lab-rack.2"));
  EXPECT_TRUE(Audited(kActionDelete, audit::Outcome::kSuccess, "lab-rack.2"));
}

TEST_F(GroupServiceTest, NamesAreShortLowerCaseAndNeverTraverse) {
  for (const char* bad : {"", "..", ".hidden", "-x", "a/b", "a..b", "Lab", "a b", "ü",
                          "x'; DROP TABLE device_groups; --", "%2e%2e"}) {
    auto created = service_->Create("alice", bad);
    ASSERT_FALSE(created) << bad;
    EXPECT_EQ(created.error().code(), Errc::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(service_->Create("alice", std::string(65, 'a')));
  EXPECT_TRUE(service_->Create("alice", std::string(64, 'a')));
  EXPECT_TRUE(service_->Create("alice", "0_x-y.z"));
  EXPECT_EQ(store_->ListGroups("", 100)->size(), 2u);
}

TEST_F(GroupServiceTest, UnknownDevicesAreListedAndNothingChanges) {
  ASSERT_TRUE(service_->Create("alice", "lab"));
  ASSERT_TRUE(service_->AddMembers("alice", "lab", Ids{"dev-1"}));
  auto added = service_->AddMembers("alice", "lab", Ids{"dev-2", "ghost-1", "ghost-2"});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(added.error().message().find("ghost-1, ghost-2"), std::string::npos)
      << added.error().message();
  EXPECT_EQ(*store_->ListMembers("lab", "", 10), (Ids{"dev-1"}));
  auto removed = service_->RemoveMembers("alice", "lab", Ids{"dev-1", "ghost-3"});
  ASSERT_FALSE(removed);
  EXPECT_NE(removed.error().message().find("ghost-3"), std::string::npos);
  EXPECT_EQ(*store_->ListMembers("lab", "", 10), (Ids{"dev-1"}));
  EXPECT_TRUE(Audited(kActionMembersAdd, audit::Outcome::kFailure, "lab"));
  EXPECT_TRUE(Audited(kActionMembersRemove, audit::Outcome::kFailure, "lab"));
}

TEST_F(GroupServiceTest, DeviceListsAreBounded) {
  ASSERT_TRUE(service_->Create("alice", "lab"));
  EXPECT_EQ(service_->AddMembers("alice", "lab", Ids{}).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(service_->AddMembers("alice", "lab", Ids{"bad id"}).error().code(),
            Errc::kInvalidArgument);
  Ids many(kMaxMembersPerChange + 1, "dev-1");
  EXPECT_EQ(service_->AddMembers("alice", "lab", many).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(service_->AddMembers("alice", "nope", Ids{"dev-1"}).error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->GetGroup("lab")->members, 0);
}

TEST_F(GroupServiceTest, AGroupADeploymentTargetsCannotBeDeleted) {
  ASSERT_TRUE(service_->Create("alice", "lab"));
  ASSERT_TRUE(service_->AddMembers("alice", "lab", Ids{"dev-1"}));
  targeted_ = "lab";
  Status deleted = service_->Delete("alice", "lab");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code(), Errc::kAlreadyExists);
  EXPECT_NE(deleted.error().message().find("dep-1"), std::string::npos);
  EXPECT_EQ(store_->GetGroup("lab")->members, 1) << "nothing changed";
  EXPECT_TRUE(Audited(kActionDelete, audit::Outcome::kFailure, "lab"));
  targeted_.clear();  // the deployment completed or was cancelled
  EXPECT_TRUE(service_->Delete("alice", "lab"));
}

TEST_F(GroupServiceTest, RemovingMembers) {
  ASSERT_TRUE(service_->Create("alice", "lab"));
  ASSERT_TRUE(service_->AddMembers("alice", "lab", Ids{"dev-1", "dev-2", "dev-3"}));
  auto removed = service_->RemoveMembers("alice", "lab", Ids{"dev-2", "dev-3"});
  ASSERT_TRUE(removed) << removed.error().ToString();
  EXPECT_EQ(removed->changed, 2);
  EXPECT_EQ(*store_->ListMembers("lab", "", 10), (Ids{"dev-1"}));
  EXPECT_TRUE(Audited(kActionMembersRemove, audit::Outcome::kSuccess, "lab"));
}

}  // namespace
}  // namespace aloft::server::groups
