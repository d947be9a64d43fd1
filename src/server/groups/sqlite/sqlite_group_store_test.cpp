// SqliteGroupStore over a real migrated database: groups, counts, paging, all-or-nothing
// membership changes, and the cascades of migration 7.

#include "server/groups/sqlite/sqlite_group_store.hpp"

#include <gtest/gtest.h>

#include "server/groups/group_test_fixture.hpp"

namespace aloft::server::groups::sqlite {
namespace {

using Ids = std::vector<std::string>;

class SqliteGroupStoreTest : public GroupDbTest {
 protected:
  void Make(const std::string& name) { ASSERT_TRUE(store_->InsertGroup({name, T0(), "alice", 0})); }
};

TEST_F(SqliteGroupStoreTest, GroupsAreListedByNameWithMemberCounts) {
  Make("lab");
  Make("field");
  EXPECT_EQ(store_->InsertGroup({"lab", T0(), "bob", 0}).error().code(), Errc::kAlreadyExists);
  ASSERT_TRUE(store_->AddMembers("lab", Ids{"dev-1", "dev-2"}, T0()));
  auto list = store_->ListGroups("", 10);
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "field");
  EXPECT_EQ((*list)[0].members, 0);
  EXPECT_EQ((*list)[1].name, "lab");
  EXPECT_EQ((*list)[1].members, 2);
  EXPECT_EQ((*list)[1].created_by, "alice");
  EXPECT_EQ((*list)[1].created_at, T0());
  auto page = store_->ListGroups("field", 10);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "lab");
  EXPECT_EQ(store_->GetGroup("lab")->members, 2);
  EXPECT_EQ(store_->GetGroup("nope").error().code(), Errc::kNotFound);
}

TEST_F(SqliteGroupStoreTest, AnUnknownDeviceRefusesTheWholeChange) {
  Make("lab");
  auto change = store_->AddMembers("lab", Ids{"dev-1", "ghost", "dev-2", "phantom"}, T0());
  ASSERT_TRUE(change) << change.error().ToString();
  EXPECT_EQ(change->unknown_devices, (Ids{"ghost", "phantom"}));
  EXPECT_EQ(change->changed, 0);
  EXPECT_EQ(store_->GetGroup("lab")->members, 0) << "nothing was added";
  EXPECT_EQ(store_->AddMembers("nope", Ids{"dev-1"}, T0()).error().code(), Errc::kNotFound);
}

TEST_F(SqliteGroupStoreTest, AddingTwiceAndRemovingNonMembersAreHarmless) {
  Make("lab");
  EXPECT_EQ(store_->AddMembers("lab", Ids{"dev-1", "dev-2"}, T0())->changed, 2);
  EXPECT_EQ(store_->AddMembers("lab", Ids{"dev-2", "dev-3", "dev-3"}, T0())->changed, 1);
  EXPECT_EQ(*store_->ListMembers("lab", "", 10), (Ids{"dev-1", "dev-2", "dev-3"}));
  EXPECT_EQ(*store_->ListMembers("lab", "dev-1", 1), (Ids{"dev-2"}));
  EXPECT_EQ(store_->RemoveMembers("lab", Ids{"dev-2", "dev-2"})->changed, 1);
  EXPECT_EQ(store_->RemoveMembers("lab", Ids{"dev-2"})->changed, 0);
  auto unknown = store_->RemoveMembers("lab", Ids{"dev-1", "ghost"});
  EXPECT_EQ(unknown->unknown_devices, (Ids{"ghost"}));
  EXPECT_EQ(*store_->ListMembers("lab", "", 10), (Ids{"dev-1", "dev-3"})) << "nothing removed";
  EXPECT_EQ(store_->ListMembers("nope", "", 10).error().code(), Errc::kNotFound);
}

TEST_F(SqliteGroupStoreTest, GroupsOfADevice) {
  Make("lab");
  Make("field");
  ASSERT_TRUE(store_->AddMembers("lab", Ids{"dev-1"}, T0()));
  ASSERT_TRUE(store_->AddMembers("field", Ids{"dev-1", "dev-2"}, T0()));
  EXPECT_EQ(*store_->GroupsOf("dev-1"), (Ids{"field", "lab"}));
  EXPECT_EQ(*store_->GroupsOf("dev-2"), (Ids{"field"}));
  EXPECT_TRUE(store_->GroupsOf("dev-3")->empty());
  EXPECT_TRUE(store_->GroupsOf("ghost")->empty());
}

TEST_F(SqliteGroupStoreTest, DeletingAGroupOrADeviceRemovesItsMemberships) {
  Make("lab");
  Make("field");
  ASSERT_TRUE(store_->AddMembers("lab", Ids{"dev-1", "dev-2"}, T0()));
  ASSERT_TRUE(store_->AddMembers("field", Ids{"dev-1"}, T0()));
  ASSERT_TRUE(store_->DeleteGroup("lab"));
  EXPECT_EQ(store_->DeleteGroup("lab").error().code(), Errc::kNotFound);
  EXPECT_EQ(*store_->GroupsOf("dev-1"), (Ids{"field"}));
  EXPECT_TRUE(store_->GroupsOf("dev-2")->empty());
  // Devices are not deleted by aloftd today (they are decommissioned), but the foreign key
  // keeps a later deletion from leaving dangling members.
  RawSql("DELETE FROM devices WHERE id = 'dev-1'");
  EXPECT_EQ(store_->GetGroup("field")->members, 0);
}

TEST_F(SqliteGroupStoreTest, NamesAreBoundParametersNeverSql) {
  const std::string nasty = "x'); DROP TABLE device_groups; --";
  ASSERT_TRUE(store_->InsertGroup({nasty, T0(), "alice", 0}));
  EXPECT_EQ(store_->GetGroup(nasty)->name, nasty);
  EXPECT_EQ(store_->AddMembers(nasty, Ids{"dev-1' OR '1'='1"}, T0())->unknown_devices.size(), 1u);
  ASSERT_TRUE(store_->DeleteGroup(nasty));
}

}  // namespace
}  // namespace aloft::server::groups::sqlite
