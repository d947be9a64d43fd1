#include "server/devices/last_seen.hpp"

#include <gtest/gtest.h>

#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::devices {
namespace {

class LastSeenRecorderTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    // A short busy timeout: one test holds the write lock on purpose.
    platform::sqlite::Options options;
    options.busy_timeout = std::chrono::milliseconds(50);
    pool_ = std::move(*platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", options, 1));
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    store_.emplace(*pool_);
    for (const char* id : {"dev-1", "dev-2"}) {
      store::DeviceRow row;
      row.id = id;
      row.hardware_id = "rpi4";
      row.public_key = core::codec::Json::Object{{"keytype", std::string("ed25519")}};
      row.key_id = std::string("key-") + id;
      row.created_at = row.updated_at = T("2030-01-01T00:00:00Z");
      ASSERT_TRUE(store_->InsertDevice(row));
    }
  }
  static Timestamp T(const char* text) { return *aloft::ParseTimestamp(text); }
  std::optional<Timestamp> LastSeen(const char* id) { return store_->GetDevice(id)->last_seen_at; }

  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<store::sqlite::SqliteDeviceStore> store_;
};

TEST_F(LastSeenRecorderTest, NothingReachesTheDatabaseBeforeFlush) {
  LastSeenRecorder recorder(*store_);
  recorder.Record("dev-1", T("2030-01-01T00:01:00Z"));
  EXPECT_EQ(recorder.Pending(), 1u);
  EXPECT_FALSE(LastSeen("dev-1").has_value());
  ASSERT_TRUE(recorder.Flush());
  EXPECT_EQ(LastSeen("dev-1"), T("2030-01-01T00:01:00Z"));
  EXPECT_FALSE(LastSeen("dev-2").has_value());
  EXPECT_EQ(recorder.Pending(), 0u);
}

TEST_F(LastSeenRecorderTest, TheLatestTimeWinsAndEveryDeviceIsWrittenInOneFlush) {
  LastSeenRecorder recorder(*store_);
  recorder.Record("dev-1", T("2030-01-01T00:02:00Z"));
  recorder.Record("dev-1", T("2030-01-01T00:01:00Z"));  // out of order: ignored
  recorder.Record("dev-2", T("2030-01-01T00:03:00Z"));
  ASSERT_TRUE(recorder.Flush());
  EXPECT_EQ(LastSeen("dev-1"), T("2030-01-01T00:02:00Z"));
  EXPECT_EQ(LastSeen("dev-2"), T("2030-01-01T00:03:00Z"));
}

TEST_F(LastSeenRecorderTest, AnUnknownDeviceIsSkippedNotAnError) {
  LastSeenRecorder recorder(*store_);
  recorder.Record("gone", T("2030-01-01T00:01:00Z"));
  recorder.Record("dev-2", T("2030-01-01T00:01:00Z"));
  ASSERT_TRUE(recorder.Flush());
  EXPECT_EQ(LastSeen("dev-2"), T("2030-01-01T00:01:00Z"));
  EXPECT_TRUE(recorder.Flush()) << "an empty flush is fine";
}

TEST_F(LastSeenRecorderTest, AFailedFlushKeepsTheRecordsForTheNext) {
  LastSeenRecorder recorder(*store_);
  recorder.Record("dev-1", T("2030-01-01T00:01:00Z"));
  {
    // Another connection holds the write lock, so the flush cannot write.
    auto other = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 1);
    ASSERT_TRUE(other);
    auto lease = (*other)->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    auto tx = platform::sqlite::Transaction::Begin(**lease);
    ASSERT_TRUE(tx);
    EXPECT_FALSE(recorder.Flush());
    EXPECT_EQ(recorder.Pending(), 1u);
  }
  ASSERT_TRUE(recorder.Flush());
  EXPECT_EQ(LastSeen("dev-1"), T("2030-01-01T00:01:00Z"));
}

}  // namespace
}  // namespace aloft::server::devices
