#include "platform/sqlite/migrator.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::sqlite {
namespace {

using MigratorTest = testing::TempDirTest;

constexpr Migration kV1[] = {
    {1, "create_devices", "CREATE TABLE devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"},
};
constexpr Migration kV3[] = {
    kV1[0],
    {2, "add_serial",
     "ALTER TABLE devices ADD COLUMN serial TEXT;"
     "CREATE UNIQUE INDEX devices_serial ON devices(serial);"},
    {3, "create_blobs", "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL);"},
};

Database OpenOrDie(const std::filesystem::path& path) {
  auto db = Database::Open(path);
  EXPECT_TRUE(db) << db.error().ToString();
  return std::move(*db);
}

TEST_F(MigratorTest, AppliesOnceAndRerunIsANoOp) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  auto first = Migrator(kV3).Migrate(db);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->from_version, 0);
  EXPECT_EQ(first->to_version, 3);
  EXPECT_EQ(first->applied, (std::vector<std::int64_t>{1, 2, 3}));
  ASSERT_TRUE(db.Exec("INSERT INTO devices (name, serial) VALUES ('a', 's1')"));

  auto again = Migrator(kV3).Migrate(db);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->from_version, 3);
  EXPECT_EQ(again->to_version, 3);
  EXPECT_TRUE(again->applied.empty());

  auto rows = db.Prepare("SELECT version, name, sha256, applied_at FROM schema_migrations");
  ASSERT_TRUE(rows);
  int count = 0;
  while (*rows->Step()) {
    ++count;
    EXPECT_EQ(rows->ColumnText(2).size(), 64u);
    EXPECT_EQ(rows->ColumnText(3).size(), 20u);  // 2024-01-01T00:00:00Z
  }
  EXPECT_EQ(count, 3);
  auto version = Migrator::CurrentVersion(db);
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, 3);
}

TEST_F(MigratorTest, UpgradesStepByStep) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  auto v1 = Migrator(kV1).Migrate(db);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->to_version, 1);
  ASSERT_TRUE(db.Exec("INSERT INTO devices (name) VALUES ('kept')"));
  auto v3 = Migrator(kV3).Migrate(db);
  ASSERT_TRUE(v3) << v3.error().ToString();
  EXPECT_EQ(v3->from_version, 1);
  EXPECT_EQ(v3->applied, (std::vector<std::int64_t>{2, 3}));
  auto rows = db.Prepare("SELECT name FROM devices");
  ASSERT_TRUE(rows && *rows->Step());
  EXPECT_EQ(rows->ColumnText(0), "kept");
}

TEST_F(MigratorTest, NewerDatabaseIsRefused) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(Migrator(kV3).Migrate(db));
  auto old_code = Migrator(kV1).Migrate(db);
  ASSERT_FALSE(old_code);
  EXPECT_EQ(old_code.error().code(), Errc::kCorrupt);
  EXPECT_NE(old_code.error().message().find("newer"), std::string::npos)
      << old_code.error().message();
}

TEST_F(MigratorTest, EditedMigrationIsRefused) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(Migrator(kV3).Migrate(db));
  const Migration edited[] = {
      kV1[0],
      {2, "add_serial", "ALTER TABLE devices ADD COLUMN serial TEXT;"},
      kV3[2],
  };
  auto result = Migrator(edited).Migrate(db);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kCorrupt);
  EXPECT_NE(result.error().message().find("migration 2 (add_serial)"), std::string::npos)
      << result.error().message();
}

TEST_F(MigratorTest, GapInRecordedVersionsIsRefused) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  ASSERT_TRUE(Migrator(kV3).Migrate(db));
  ASSERT_TRUE(db.Exec("DELETE FROM schema_migrations WHERE version = 2"));
  auto result = Migrator(kV3).Migrate(db);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kCorrupt);
}

TEST_F(MigratorTest, FailingMigrationLeavesThePreviousVersion) {
  auto db = OpenOrDie(dir_ / "db.sqlite");
  const Migration broken[] = {
      kV1[0],
      {2, "half_broken", "CREATE TABLE extra (x); INSERT INTO nowhere VALUES (1);"},
  };
  auto result = Migrator(broken).Migrate(db);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("migration 2 (half_broken)"), std::string::npos);
  auto version = Migrator::CurrentVersion(db);
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, 1);
  auto extra = db.Prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'");
  ASSERT_TRUE(extra && *extra->Step());
  EXPECT_EQ(extra->ColumnInt64(0), 0);  // the first statement was rolled back too
}

TEST_F(MigratorTest, BadlyNumberedListIsABug) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db);
  const Migration skipped[] = {kV1[0], kV3[2]};
  auto result = Migrator(skipped).Migrate(*db);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kInternal);
}

TEST_F(MigratorTest, ConcurrentStartupsMigrateOnce) {
  const auto path = dir_ / "db.sqlite";
  { auto db = OpenOrDie(path); }
  std::vector<std::thread> threads;
  std::vector<std::size_t> applied(4);
  for (std::size_t i = 0; i < applied.size(); ++i) {
    threads.emplace_back([&, i] {
      auto db = OpenOrDie(path);
      auto result = Migrator(kV3).Migrate(db);
      ASSERT_TRUE(result) << result.error().ToString();
      EXPECT_EQ(result->to_version, 3);
      applied[i] = result->applied.size();
    });
  }
  for (auto& t : threads) t.join();
  std::size_t total = 0;
  for (std::size_t n : applied) total += n;
  EXPECT_EQ(total, 3u);
}

}  // namespace
}  // namespace aloft::platform::sqlite
