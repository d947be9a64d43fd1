#include "server/devices/fleet_history.hpp"

#include <gtest/gtest.h>

#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "server/store/sqlite/sqlite_fleet_history_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::devices {
namespace {

using core::wire::EnrollmentStatus;
using std::chrono::hours;
using std::chrono::minutes;

class FleetHistoryTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    pool_ = std::move(*platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 1));
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    devices_.emplace(*pool_);
    samples_.emplace(*pool_);
  }
  static Timestamp T(const char* text) { return *aloft::ParseTimestamp(text); }

  void AddDevice(const std::string& id, const std::string& hw, const std::string& version,
                 EnrollmentStatus status) {
    store::DeviceRow row;
    row.id = id;
    row.hardware_id = hw;
    row.public_key = core::codec::Json::Object{{"keytype", std::string("ed25519")}};
    row.key_id = "key-" + id;
    row.status = status;
    row.created_at = row.updated_at = clock_.Now();
    ASSERT_TRUE(devices_->InsertDevice(row));
    core::wire::Inventory inventory;
    inventory.hardware_id = hw;
    inventory.image_version = version;
    ASSERT_TRUE(devices_->RecordInventory(id, inventory, clock_.Now()));
  }

  testing::FakeClock clock_{T("2030-01-01T10:20:00Z")};
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<store::sqlite::SqliteDeviceStore> devices_;
  std::optional<store::sqlite::SqliteFleetHistoryStore> samples_;
};

TEST_F(FleetHistoryTest, OneSamplePerIntervalAtItsBoundaryCountingAcceptedDevicesPerVersion) {
  AddDevice("a", "rpi4", "v1", EnrollmentStatus::kAccepted);
  AddDevice("b", "imx8", "v1", EnrollmentStatus::kAccepted);  // other hardware, same version
  AddDevice("c", "rpi4", "v2", EnrollmentStatus::kAccepted);
  AddDevice("d", "rpi4", "v3", EnrollmentStatus::kPending);   // not part of the fleet yet
  FleetHistory history(*devices_, *samples_, clock_, hours(1));

  ASSERT_EQ(history.SampleIfDue(), true);
  clock_.Advance(minutes(30));
  EXPECT_EQ(history.SampleIfDue(), false);  // 10:50: the 10:00 sample stands

  ASSERT_TRUE(devices_->SetDeviceStatus("d", EnrollmentStatus::kAccepted, clock_.Now()));
  clock_.Advance(minutes(15));  // 11:05
  ASSERT_EQ(history.SampleIfDue(), true);

  auto samples = history.Recent(hours(24));
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].at, T("2030-01-01T10:00:00Z"));
  ASSERT_EQ((*samples)[0].versions.size(), 2u);
  EXPECT_EQ((*samples)[0].versions[0].image_version, "v1");
  EXPECT_EQ((*samples)[0].versions[0].devices, 2);
  EXPECT_EQ((*samples)[0].versions[1].image_version, "v2");
  EXPECT_EQ((*samples)[0].versions[1].devices, 1);
  EXPECT_EQ((*samples)[1].at, T("2030-01-01T11:00:00Z"));
  ASSERT_EQ((*samples)[1].versions.size(), 3u);
  EXPECT_EQ((*samples)[1].versions[2].image_version, "v3");

  // A shorter span leaves the older sample out.
  auto recent = history.Recent(minutes(30));
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ(recent->front().at, T("2030-01-01T11:00:00Z"));
}

TEST_F(FleetHistoryTest, AnEmptyFleetIsStillASample) {
  FleetHistory history(*devices_, *samples_, clock_, hours(1));
  ASSERT_EQ(history.SampleIfDue(), true);
  EXPECT_EQ(history.SampleIfDue(), false);
  auto samples = history.Recent(hours(1));
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->size(), 1u);
  EXPECT_TRUE(samples->front().versions.empty());
}

TEST_F(FleetHistoryTest, SamplesPastTheRetentionAreDropped) {
  AddDevice("a", "rpi4", "v1", EnrollmentStatus::kAccepted);
  FleetHistory history(*devices_, *samples_, clock_, hours(24));
  ASSERT_EQ(history.SampleIfDue(), true);
  clock_.Advance(FleetHistory::kRetention + hours(24));
  ASSERT_EQ(history.SampleIfDue(), true);
  auto samples = history.Recent(FleetHistory::kRetention * 2);
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->size(), 1u);  // the first one is gone
}

TEST_F(FleetHistoryTest, ASecondServerSharingTheDatabaseDoesNotDoubleTheSample) {
  AddDevice("a", "rpi4", "v1", EnrollmentStatus::kAccepted);
  FleetHistory one(*devices_, *samples_, clock_, hours(1));
  store::sqlite::SqliteFleetHistoryStore other_store(*pool_);
  FleetHistory two(*devices_, other_store, clock_, hours(1));
  ASSERT_EQ(one.SampleIfDue(), true);
  EXPECT_EQ(two.SampleIfDue(), false);
  // Both racing past the check: the store's key settles it.
  EXPECT_EQ(other_store.AddSample({T("2030-01-01T10:00:00Z"), {}}, T("2029-01-01T00:00:00Z"))
                .error()
                .code(),
            Errc::kAlreadyExists);
}

TEST_F(FleetHistoryTest, NotSeenCountsAcceptedDevicesSeenBeforeTheCutOffOrNever) {
  AddDevice("a", "rpi4", "v1", EnrollmentStatus::kAccepted);  // seen at 10:20 (inventory)
  AddDevice("b", "rpi4", "v1", EnrollmentStatus::kPending);
  clock_.Advance(hours(25));
  AddDevice("c", "rpi4", "v1", EnrollmentStatus::kAccepted);  // seen now
  EXPECT_EQ(devices_->CountAcceptedNotSeenSince(clock_.Now() - hours(24)), 1);
  EXPECT_EQ(devices_->CountAcceptedNotSeenSince(clock_.Now() + hours(1)), 2);
}

}  // namespace
}  // namespace aloft::server::devices
