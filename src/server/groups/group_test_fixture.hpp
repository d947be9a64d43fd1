#pragma once

// Shared by the groups tests: a migrated SQLite database in a temporary directory with a few
// devices, a SqliteGroupStore over it, and a way to run raw SQL. For tests only.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/groups/sqlite/sqlite_group_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::groups {

class GroupDbTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 3);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    auto migrated = platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease);
    ASSERT_TRUE(migrated) << migrated.error().ToString();
    devices_.emplace(*pool_);
    store_.emplace(*pool_);
    for (const char* id : {"dev-1", "dev-2", "dev-3"}) AddDevice(id);
  }

  void AddDevice(const std::string& id) {
    store::DeviceRow d;
    d.id = id;
    d.hardware_id = "rpi4";
    d.public_key = core::codec::Json::Object{{"keytype", "ed25519"}};
    d.key_id = "key-" + id;
    d.created_at = d.updated_at = T0();
    ASSERT_TRUE(devices_->InsertDevice(d));
  }

  // Runs raw SQL on the database, as a test (or an attacker with file access) could.
  void RawSql(const std::string& sql) {
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    Status s = (*lease)->Exec(sql);
    ASSERT_TRUE(s) << s.error().ToString();
  }

  static Timestamp T0() { return *aloft::ParseTimestamp("2030-01-01T00:00:00Z"); }

  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<store::sqlite::SqliteDeviceStore> devices_;
  std::optional<sqlite::SqliteGroupStore> store_;
};

}  // namespace aloft::server::groups
