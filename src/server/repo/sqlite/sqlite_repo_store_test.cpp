#include "server/repo/sqlite/sqlite_repo_store.hpp"

#include <gtest/gtest.h>

#include "platform/sqlite/migrator.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::repo::sqlite {
namespace {

class SqliteRepoStoreTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    pool_ = std::move(*platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2));
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
  }
  static MetadataWrite Write(std::string role, std::int64_t version, bool keep = true) {
    return MetadataWrite{std::move(role), version, ToBytes("v" + std::to_string(version)),
                         Timestamp(std::chrono::seconds(1'900'000'000)), keep};
  }
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
};

TEST_F(SqliteRepoStoreTest, PutThenGet) {
  SqliteRepoStore store(*pool_);
  EXPECT_FALSE(*store.GetLatest("image", "targets"));
  ASSERT_TRUE(store.Put("image", {Write("targets", 1), Write("snapshot", 1)}));
  ASSERT_TRUE(store.Put("image", {Write("targets", 3)}));
  auto latest = store.GetLatest("image", "targets");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->version, 3);
  EXPECT_EQ(ToString((*latest)->bytes), "v3");
  EXPECT_EQ((*latest)->expires, Timestamp(std::chrono::seconds(1'900'000'000)));
  EXPECT_TRUE(*store.Get("image", "targets", 1));
  EXPECT_FALSE(*store.Get("image", "targets", 2));
  EXPECT_FALSE(*store.GetLatest("director/x", "targets"));  // repositories are separate
  EXPECT_EQ(*store.LatestVersion("image", "targets"), 3);
  EXPECT_EQ(*store.LatestVersion("image", "snapshot"), 1);
  EXPECT_EQ(*store.LatestVersion("director/x", "targets"), 0);
}

TEST_F(SqliteRepoStoreTest, VersionsOnlyGrowAndPutIsAllOrNothing) {
  SqliteRepoStore store(*pool_);
  ASSERT_TRUE(store.Put("image", {Write("targets", 2)}));
  Status s = store.Put("image", {Write("snapshot", 1), Write("targets", 2)});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kAlreadyExists);
  EXPECT_FALSE(*store.GetLatest("image", "snapshot"));  // rolled back with the rest
  EXPECT_FALSE(store.Put("image", {Write("targets", 1)}));
}

TEST_F(SqliteRepoStoreTest, WritesWithoutHistoryReplaceOlderVersions) {
  SqliteRepoStore store(*pool_);
  ASSERT_TRUE(store.Put("image", {Write("timestamp", 1, false)}));
  ASSERT_TRUE(store.Put("image", {Write("timestamp", 2, false)}));
  EXPECT_FALSE(*store.Get("image", "timestamp", 1));
  EXPECT_TRUE(*store.Get("image", "timestamp", 2));
  EXPECT_FALSE(store.Put("image", {Write("timestamp", 2, false)}));
}

}  // namespace
}  // namespace aloft::server::repo::sqlite
