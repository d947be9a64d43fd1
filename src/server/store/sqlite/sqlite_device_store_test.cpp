#include "server/store/sqlite/sqlite_device_store.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include "server/store/sqlite/migrations.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::store::sqlite {
namespace {

namespace wire = core::wire;
Timestamp T(const char* s) { return *aloft::ParseTimestamp(s); }

class SqliteDeviceStoreTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    ASSERT_TRUE(platform::sqlite::Migrator(ServerMigrations()).Migrate(**lease));
    store_.emplace(*pool_);
  }
  DeviceRow Device(std::string id, std::string key_id) {
    DeviceRow d;
    d.id = std::move(id);
    d.hardware_id = "rpi4";
    d.public_key = core::codec::Json::Object{{"keytype", "ed25519"}};
    d.key_id = std::move(key_id);
    d.status = wire::EnrollmentStatus::kPending;
    d.created_at = d.updated_at = T("2030-01-01T00:00:00Z");
    return d;
  }
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<SqliteDeviceStore> store_;
};

TEST_F(SqliteDeviceStoreTest, DeviceLifecycle) {
  ASSERT_TRUE(store_->InsertDevice(Device("dev-1", "k1")));
  EXPECT_EQ(store_->InsertDevice(Device("dev-1", "k2")).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(store_->InsertDevice(Device("dev-2", "k1")).error().code(), Errc::kAlreadyExists)
      << "one key, one device";
  ASSERT_TRUE(store_->SetDeviceStatus("dev-1", wire::EnrollmentStatus::kAccepted,
                                      T("2030-01-01T00:01:00Z")));
  wire::Inventory inv{"rpi4", std::string(64, 'a'), "2.0", "0.1", 4, {{"site", "lab"}}};
  ASSERT_TRUE(store_->RecordInventory("dev-1", inv, T("2030-01-01T00:02:00Z")));
  auto d = store_->GetDevice("dev-1");
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->status, wire::EnrollmentStatus::kAccepted);
  EXPECT_EQ(d->inventory.image_version, "2.0");
  EXPECT_EQ(d->inventory.security_counter, 4);
  EXPECT_EQ(d->inventory.attributes.at("site"), "lab");
  EXPECT_EQ(*d->last_seen_at, T("2030-01-01T00:02:00Z"));
  EXPECT_EQ(store_->GetDevice("nope").error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->SetDeviceStatus("nope", wire::EnrollmentStatus::kAccepted,
                                    T("2030-01-01T00:00:00Z")).error().code(),
            Errc::kNotFound);
}

TEST_F(SqliteDeviceStoreTest, DeviceStateIsTheDeviceNarrowed) {
  ASSERT_TRUE(store_->InsertDevice(Device("dev-1", "k1")));
  ASSERT_TRUE(store_->SetDeviceStatus("dev-1", wire::EnrollmentStatus::kAccepted,
                                      T("2030-01-01T00:01:00Z")));
  wire::Inventory inv{"rpi4", std::string(64, 'b'), "3.1", "0.2", 7, {{"tags", "lab,eu"}}};
  ASSERT_TRUE(store_->RecordInventory("dev-1", inv, T("2030-01-01T00:02:00Z")));
  auto full = store_->GetDevice("dev-1");
  auto state = store_->GetDeviceState("dev-1");
  ASSERT_TRUE(full && state) << state.error().ToString();
  EXPECT_EQ(state->id, "dev-1");
  EXPECT_EQ(state->hardware_id, full->hardware_id);
  EXPECT_EQ(state->status, wire::EnrollmentStatus::kAccepted);
  EXPECT_EQ(state->inventory.hardware_id, "rpi4");
  EXPECT_EQ(state->inventory.image_sha256, inv.image_sha256);
  EXPECT_EQ(state->inventory.image_version, "3.1");
  EXPECT_EQ(state->inventory.agent_version, "0.2");
  EXPECT_EQ(state->inventory.security_counter, 7);
  EXPECT_EQ(state->inventory.attributes, full->inventory.attributes);
  EXPECT_EQ(store_->GetDeviceState("nope").error().code(), Errc::kNotFound);
}

TEST_F(SqliteDeviceStoreTest, LastSeenTimesMoveAndUnknownIdsAreSkipped) {
  ASSERT_TRUE(store_->InsertDevice(Device("dev-1", "k1")));
  ASSERT_TRUE(store_->InsertDevice(Device("dev-2", "k2")));
  for (const char* id : {"dev-1", "dev-2"}) {
    ASSERT_TRUE(store_->SetDeviceStatus(id, wire::EnrollmentStatus::kAccepted,
                                        T("2030-01-01T00:00:00Z")));
  }
  EXPECT_FALSE(store_->GetDevice("dev-1")->last_seen_at) << "never seen";
  EXPECT_EQ(store_->CountAcceptedNotSeenSince(T("2030-01-01T00:00:00Z")), 2);

  ASSERT_TRUE(store_->TouchDevice("dev-1", T("2030-01-01T01:00:00Z")));
  EXPECT_EQ(store_->TouchDevice("nope", T("2030-01-01T01:00:00Z")).error().code(),
            Errc::kNotFound);
  // A batch with an id that has no device still records the others.
  ASSERT_TRUE(store_->TouchDevices({{"dev-2", T("2030-01-01T02:00:00Z")},
                                    {"gone", T("2030-01-01T02:00:00Z")},
                                    {"dev-1", T("2030-01-01T03:00:00Z")}}));
  EXPECT_EQ(*store_->GetDevice("dev-1")->last_seen_at, T("2030-01-01T03:00:00Z"));
  EXPECT_EQ(*store_->GetDevice("dev-2")->last_seen_at, T("2030-01-01T02:00:00Z"));
  EXPECT_EQ(store_->CountAcceptedNotSeenSince(T("2030-01-01T02:30:00Z")), 1);
  EXPECT_EQ(store_->CountAcceptedNotSeenSince(T("2030-01-01T02:00:00Z")), 0);
  auto page = store_->ListDevices({});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(*(*page)[1].last_seen_at, T("2030-01-01T02:00:00Z"));
}

// Migration 9 moves last-seen times out of `devices`: a database written by version 8 keeps
// them, and the per-(status, hardware, version) counts read the new index alone.
using SqliteDeviceStoreMigrationTest = testing::TempDirTest;

TEST_F(SqliteDeviceStoreMigrationTest, Version9KeepsLastSeenTimesAndCountsFromAnIndex) {
  auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 1);
  ASSERT_TRUE(pool) << pool.error().ToString();
  {
    auto lease = (*pool)->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    ASSERT_TRUE(platform::sqlite::Migrator(ServerMigrations().first(8)).Migrate(**lease));
    ASSERT_TRUE((*lease)->Exec(
        "INSERT INTO devices (id, hardware_id, public_key, key_id, status, created_at,"
        " updated_at, last_seen_at) VALUES"
        " ('seen', 'rpi4', '{}', 'k1', 'accepted', '2030-01-01T00:00:00Z',"
        "  '2030-01-01T00:00:00Z', '2030-01-02T03:04:05Z'),"
        " ('never', 'rpi4', '{}', 'k2', 'accepted', '2030-01-01T00:00:00Z',"
        "  '2030-01-01T00:00:00Z', NULL)"));
    auto report = platform::sqlite::Migrator(ServerMigrations()).Migrate(**lease);
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_EQ(report->applied, std::vector<std::int64_t>{9});
    auto plan = (*lease)->Prepare(
        "EXPLAIN QUERY PLAN SELECT status, hardware_id, image_version, COUNT(*) FROM devices"
        " GROUP BY status, hardware_id, image_version ORDER BY status, hardware_id, image_version");
    ASSERT_TRUE(plan);
    std::string details;
    while (*plan->Step()) details += plan->ColumnText(3) + "\n";
    EXPECT_EQ(details, "SCAN devices USING COVERING INDEX devices_by_status_hardware_version\n");
  }
  SqliteDeviceStore store(**pool);
  EXPECT_EQ(*store.GetDevice("seen")->last_seen_at, T("2030-01-02T03:04:05Z"));
  EXPECT_FALSE(store.GetDevice("never")->last_seen_at);
  auto counts = store.CountDevices();
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].count, 2);
}

TEST_F(SqliteDeviceStoreTest, ListingFiltersAndPagesByKey) {
  for (int i = 0; i < 25; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "dev-%02d", i);
    ASSERT_TRUE(store_->InsertDevice(Device(id, std::string("k") + id)));
    if (i % 5 == 0) {
      ASSERT_TRUE(store_->SetDeviceStatus(id, wire::EnrollmentStatus::kAccepted,
                                          T("2030-01-01T00:00:00Z")));
    }
  }
  DeviceFilter page;
  page.limit = 10;
  auto first = store_->ListDevices(page);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 10u);
  page.after_id = first->back().id;
  auto second = store_->ListDevices(page);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->front().id, "dev-10");
  DeviceFilter accepted;
  accepted.status = wire::EnrollmentStatus::kAccepted;
  EXPECT_EQ(store_->ListDevices(accepted)->size(), 5u);
  DeviceFilter hostile;
  hostile.hardware_id = "rpi4' OR '1'='1";
  EXPECT_TRUE(store_->ListDevices(hostile)->empty()) << "filters are bound, never spliced";

  core::wire::Inventory tagged;
  tagged.hardware_id = "rpi4";
  tagged.attributes["tags"] = "canary,lab";
  ASSERT_TRUE(store_->RecordInventory("dev-03", tagged, T("2030-01-01T00:00:00Z")));
  DeviceFilter by_tag;
  by_tag.tag = "lab";
  ASSERT_EQ(store_->ListDevices(by_tag)->size(), 1u);
  by_tag.tag = "la";
  EXPECT_TRUE(store_->ListDevices(by_tag)->empty()) << "whole tags only";
  by_tag.tag = "%";
  EXPECT_TRUE(store_->ListDevices(by_tag)->empty());

  auto counts = store_->CountDevices();
  ASSERT_TRUE(counts) << counts.error().ToString();
  std::int64_t accepted_count = 0, pending_count = 0;
  for (const auto& c : *counts) {
    if (c.status == wire::EnrollmentStatus::kAccepted) accepted_count += c.count;
    if (c.status == wire::EnrollmentStatus::kPending) pending_count += c.count;
  }
  EXPECT_EQ(accepted_count, 5);
  EXPECT_EQ(pending_count, 20);
}

TEST_F(SqliteDeviceStoreTest, CommonImagesOfAcceptedDevicesMostCommonFirst) {
  const std::string a(64, 'a'), b(64, 'b');
  int n = 0;
  for (const auto& [image, accepted, hardware] :
       {std::tuple{b, true, "rpi4"}, std::tuple{a, true, "rpi4"}, std::tuple{a, true, "rpi4"},
        std::tuple{b, false, "rpi4"}, std::tuple{b, false, "rpi4"}, std::tuple{a, true, "rpi3"},
        std::tuple{std::string(), true, "rpi4"}}) {
    const std::string id = "dev-" + std::to_string(++n);
    DeviceRow d = Device(id, "k" + id);
    d.hardware_id = hardware;
    ASSERT_TRUE(store_->InsertDevice(d));
    if (accepted) {
      ASSERT_TRUE(store_->SetDeviceStatus(id, wire::EnrollmentStatus::kAccepted,
                                          T("2030-01-01T00:00:00Z")));
    }
    wire::Inventory inv{hardware, image, "1.0", "0.1", 0, {}};
    ASSERT_TRUE(store_->RecordInventory(id, inv, T("2030-01-01T00:01:00Z")));
  }
  auto images = store_->CommonImages("rpi4", 8);
  ASSERT_TRUE(images) << images.error().ToString();
  // a: two accepted rpi4 devices; b: one (pending ones do not count); no empty digest.
  EXPECT_EQ(*images, (std::vector<std::string>{a, b}));
  EXPECT_EQ(store_->CommonImages("rpi4", 1)->size(), 1u);
  EXPECT_TRUE(store_->CommonImages("none", 8)->empty());
}

TEST_F(SqliteDeviceStoreTest, TokensAreUsedAtomicallyAndExpire) {
  ASSERT_TRUE(store_->InsertToken({"t1", "hash1", T("2030-01-02T00:00:00Z"), 2}));
  Timestamp now = T("2030-01-01T00:00:00Z");
  EXPECT_TRUE(store_->ConsumeToken("hash1", now));
  EXPECT_TRUE(store_->ConsumeToken("hash1", now));
  EXPECT_EQ(store_->ConsumeToken("hash1", now).error().code(), Errc::kExpired) << "used up";
  ASSERT_TRUE(store_->InsertToken({"t2", "hash2", T("2030-01-02T00:00:00Z"), 5}));
  EXPECT_EQ(store_->ConsumeToken("hash2", T("2030-01-02T00:00:00Z")).error().code(),
            Errc::kExpired);
  EXPECT_EQ(store_->ConsumeToken("nope", now).error().code(), Errc::kNotFound);
}

TEST_F(SqliteDeviceStoreTest, PreauthorizedKeys) {
  ASSERT_TRUE(store_->Preauthorize({"k1", "dev-1", "rpi4", T("2030-01-01T00:00:00Z")}));
  EXPECT_EQ(store_->FindPreauthorized("k1")->device_id, "dev-1");
  EXPECT_EQ(store_->FindPreauthorized("k2").error().code(), Errc::kNotFound);
}

TEST_F(SqliteDeviceStoreTest, ReportsAreIdempotentPerDevice) {
  ASSERT_TRUE(store_->InsertDevice(Device("dev-1", "k1")));
  ASSERT_TRUE(store_->InsertDevice(Device("dev-2", "k2")));
  wire::Report r{"r-1", "dep-1", wire::UpdateState::kInstalling, 5, 10, "", "",
                 T("2030-01-01T00:00:00Z")};
  EXPECT_TRUE(*store_->AddReport("dev-1", r, T("2030-01-01T00:00:01Z")));
  EXPECT_FALSE(*store_->AddReport("dev-1", r, T("2030-01-01T00:00:02Z"))) << "a resend";
  EXPECT_TRUE(*store_->AddReport("dev-2", r, T("2030-01-01T00:00:02Z")))
      << "another device's ids are its own";
  r.id = "r-2";
  r.state = wire::UpdateState::kSucceeded;
  EXPECT_TRUE(*store_->AddReport("dev-1", r, T("2030-01-01T00:00:03Z")));
  auto recent = store_->RecentReports("dev-1", 10);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ(recent->front().state, wire::UpdateState::kSucceeded);
  EXPECT_FALSE(store_->AddReport("ghost", r, T("2030-01-01T00:00:03Z")))
      << "reports need an enrolled device";
}

}  // namespace
}  // namespace aloft::server::store::sqlite
