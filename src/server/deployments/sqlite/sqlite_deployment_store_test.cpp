#include "server/deployments/sqlite/sqlite_deployment_store.hpp"

#include <gtest/gtest.h>

#include "server/deployments/deployment_test_fixture.hpp"

namespace aloft::server::deployments::sqlite {
namespace {

class SqliteDeploymentStoreTest : public DeploymentDbTest {
 protected:
  Deployment Make(std::string id, DeploymentState state = DeploymentState::kActive) {
    Deployment d;
    d.id = std::move(id);
    d.release = "rpi4-os-2.0.img";
    d.release_version = "2.0";
    d.target.length = 1234;
    d.target.hashes = {{"sha256", Sha('a')}, {"sha512", std::string(128, 'b')}};
    d.hardware_ids = {"rpi4", "rpi4-lite"};
    d.image_sha256 = Sha('c');
    d.selector =
        Selector{{"dev-1", "dev-2"}, {"canary"}, "rpi4", {{"site", "berlin"}}, "1.9", "lab"};
    d.phases = {{10, 600, T("2030-01-01T00:00:00Z")}, {100, 0, std::nullopt}};
    d.failure_threshold_percent = 25;
    d.min_devices_for_threshold = 3;
    d.phase_deadline_seconds = 7200;
    d.maintenance_window = MaintenanceWindow{22 * 60, 4 * 60};
    d.state = state;
    d.created = d.updated = T("2030-01-01T00:00:00Z");
    d.created_by = "alice";
    return d;
  }
  DeviceRollout Row(std::string deployment, std::string device, RolloutState state,
                    bool assigned = false, const char* deadline = "2030-01-01T01:00:00Z") {
    DeviceRollout r;
    r.deployment_id = std::move(deployment);
    r.device_id = std::move(device);
    r.phase = 0;
    r.state = state;
    r.director_assigned = assigned;
    r.assigned_at = r.updated_at = T("2030-01-01T00:00:00Z");
    r.deadline = T(deadline);
    return r;
  }
  std::int64_t Insert(const Deployment& d) {
    auto seq = store_->InsertDeployment(d);
    EXPECT_TRUE(seq) << seq.error().ToString();
    return seq ? *seq : 0;
  }
};

TEST_F(SqliteDeploymentStoreTest, MigrationRunsAfterTheServerSchemaAndIsIdempotent) {
  auto lease = pool_->Acquire(std::chrono::seconds(1));
  ASSERT_TRUE(lease);
  const auto migrations = MigrationsWithDeployments();
  auto again = platform::sqlite::Migrator(migrations).Migrate(**lease);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(again->applied.empty());
  EXPECT_EQ(again->to_version, static_cast<std::int64_t>(migrations.size()));
}

TEST_F(SqliteDeploymentStoreTest, DeploymentRoundTripsEveryField) {
  Deployment d = Make("dep-1");
  d.chunks_sha256 = std::string(64, 'c');
  d.seq = Insert(d);
  auto back = store_->GetDeployment("dep-1");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->seq, d.seq);
  EXPECT_EQ(back->release, d.release);
  EXPECT_EQ(back->release_version, d.release_version);
  EXPECT_EQ(back->target.length, d.target.length);
  EXPECT_EQ(back->target.hashes, d.target.hashes);
  EXPECT_EQ(back->chunks_sha256, d.chunks_sha256);
  EXPECT_EQ(back->hardware_ids, d.hardware_ids);
  EXPECT_EQ(back->image_sha256, d.image_sha256);
  EXPECT_EQ(back->selector, d.selector);
  EXPECT_EQ(back->phases, d.phases);
  EXPECT_EQ(back->failure_threshold_percent, 25);
  EXPECT_EQ(back->min_devices_for_threshold, 3);
  EXPECT_EQ(back->phase_deadline_seconds, 7200);
  EXPECT_EQ(back->maintenance_window, d.maintenance_window);
  EXPECT_EQ(back->state, DeploymentState::kActive);
  EXPECT_EQ(back->created, d.created);
  EXPECT_EQ(back->created_by, "alice");

  EXPECT_EQ(store_->InsertDeployment(d).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(store_->GetDeployment("dep-nope").error().code(), Errc::kNotFound);

  Deployment no_window = Make("dep-2");
  no_window.maintenance_window.reset();
  Insert(no_window);
  EXPECT_FALSE(store_->GetDeployment("dep-2")->maintenance_window);
  EXPECT_EQ(store_->GetDeployment("dep-2")->chunks_sha256, "");  // a release without chunks
}

TEST_F(SqliteDeploymentStoreTest, ListsNewestFirstFilteredAndLimited) {
  const std::int64_t a = Insert(Make("dep-b"));
  const std::int64_t b = Insert(Make("dep-a", DeploymentState::kCancelled));
  const std::int64_t c = Insert(Make("dep-c"));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  auto all = store_->ListDeployments(std::nullopt, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "dep-c");
  EXPECT_EQ((*all)[1].id, "dep-a");
  EXPECT_EQ((*all)[2].id, "dep-b");
  auto active = store_->ListDeployments(DeploymentState::kActive, 10);
  ASSERT_TRUE(active);
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].id, "dep-c");
  EXPECT_EQ(store_->ListDeployments(std::nullopt, 1)->size(), 1u);
}

TEST_F(SqliteDeploymentStoreTest, UpdatesAreAllOrNothing) {
  Insert(Make("dep-1"));
  Deployment d = *store_->GetDeployment("dep-1");
  d.state = DeploymentState::kPaused;
  d.paused_reason = "smoke";
  d.current_phase = 1;
  d.phases[1].started = T("2030-01-02T00:00:00Z");
  d.acknowledged_failures = 4;
  d.updated = T("2030-01-02T00:00:00Z");
  Deployment missing = Make("dep-missing");
  std::vector<Deployment> both = {d, missing};
  EXPECT_EQ(store_->UpdateDeployments(both).error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->GetDeployment("dep-1")->state, DeploymentState::kActive) << "rolled back";

  ASSERT_TRUE(store_->UpdateDeployments(std::span(&d, 1)));
  auto back = store_->GetDeployment("dep-1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, DeploymentState::kPaused);
  EXPECT_EQ(back->paused_reason, "smoke");
  EXPECT_EQ(back->current_phase, 1u);
  EXPECT_EQ(back->phases, d.phases);
  EXPECT_EQ(back->acknowledged_failures, 4);
  EXPECT_EQ(back->updated, T("2030-01-02T00:00:00Z"));
}

TEST_F(SqliteDeploymentStoreTest, RolloutsUpsertCountAndPage) {
  Insert(Make("dep-1"));
  std::vector<DeviceRollout> rows;
  for (int i = 0; i < 5; ++i) {
    rows.push_back(Row("dep-1", "dev-" + std::to_string(i), RolloutState::kPending));
  }
  rows[3].phase = 1;
  ASSERT_TRUE(store_->PutRollouts(rows));
  EXPECT_FALSE(*store_->GetRollout("dep-1", "dev-9"));

  DeviceRollout r = **store_->GetRollout("dep-1", "dev-1");
  EXPECT_EQ(r, rows[1]);
  r.state = RolloutState::kFailed;
  r.message = "flash error";
  r.log_tail = "line 1\nline 2";
  ASSERT_TRUE(store_->PutRollouts(std::span(&r, 1)));
  EXPECT_EQ(**store_->GetRollout("dep-1", "dev-1"), r);

  auto counts = store_->CountRollouts("dep-1");
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].phase, 0);
  EXPECT_EQ((*counts)[0].state, RolloutState::kFailed);
  EXPECT_EQ((*counts)[0].count, 1);
  EXPECT_EQ((*counts)[1].state, RolloutState::kPending);
  EXPECT_EQ((*counts)[1].count, 3);
  EXPECT_EQ((*counts)[2].phase, 1);
  EXPECT_EQ((*counts)[2].count, 1);
  EXPECT_TRUE(store_->CountRollouts("dep-other")->empty());

  auto page = store_->ListRollouts("dep-1", "", 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].device_id, "dev-0");
  EXPECT_EQ((*page)[1].device_id, "dev-1");
  auto next = store_->ListRollouts("dep-1", (*page)[1].device_id, 10);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 3u);
  EXPECT_EQ((*next)[0].device_id, "dev-2");
}

TEST_F(SqliteDeploymentStoreTest, OneAssignedRowPerDeviceAndKnownDeploymentsOnly) {
  Insert(Make("dep-1"));
  Insert(Make("dep-2"));
  DeviceRollout first = Row("dep-1", "dev-1", RolloutState::kSucceeded, true);
  ASSERT_TRUE(store_->PutRollouts(std::span(&first, 1)));

  DeviceRollout second = Row("dep-2", "dev-1", RolloutState::kPending, true);
  auto clash = store_->PutRollouts(std::span(&second, 1));
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(*store_->GetRollout("dep-2", "dev-1")) << "nothing written";

  // Handing the assignment over in one call, losing row first, works.
  first.director_assigned = false;
  std::vector<DeviceRollout> handover = {first, second};
  ASSERT_TRUE(store_->PutRollouts(handover));
  EXPECT_FALSE((*store_->GetRollout("dep-1", "dev-1"))->director_assigned);
  EXPECT_TRUE((*store_->GetRollout("dep-2", "dev-1"))->director_assigned);

  DeviceRollout orphan = Row("dep-unknown", "dev-1", RolloutState::kPending);
  EXPECT_EQ(store_->PutRollouts(std::span(&orphan, 1)).error().code(), Errc::kInvalidArgument);
}

TEST_F(SqliteDeploymentStoreTest, HistoryIsNewestDeploymentFirst) {
  Insert(Make("dep-old", DeploymentState::kCompleted));
  Insert(Make("dep-new", DeploymentState::kCancelled));
  std::vector<DeviceRollout> rows = {Row("dep-old", "dev-1", RolloutState::kSucceeded),
                                     Row("dep-new", "dev-1", RolloutState::kPending),
                                     Row("dep-new", "dev-2", RolloutState::kPending)};
  ASSERT_TRUE(store_->PutRollouts(rows));
  auto history = store_->DeviceHistory("dev-1");
  ASSERT_TRUE(history) << history.error().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].rollout.deployment_id, "dep-new");
  EXPECT_EQ((*history)[0].deployment_state, DeploymentState::kCancelled);
  EXPECT_EQ((*history)[1].rollout.deployment_id, "dep-old");
  EXPECT_GT((*history)[0].deployment_seq, (*history)[1].deployment_seq);
  EXPECT_TRUE(store_->DeviceHistory("dev-none")->empty());
}

TEST_F(SqliteDeploymentStoreTest, FailOverdueTouchesOnlyLateUnfinishedRowsOfLiveDeployments) {
  Insert(Make("dep-active"));
  Insert(Make("dep-paused", DeploymentState::kPaused));
  Insert(Make("dep-cancelled", DeploymentState::kCancelled));
  std::vector<DeviceRollout> rows = {
      Row("dep-active", "late-pending", RolloutState::kPending),
      Row("dep-active", "late-installing", RolloutState::kInstalling),
      Row("dep-active", "late-succeeded", RolloutState::kSucceeded),
      Row("dep-active", "on-time", RolloutState::kDownloading, false, "2030-01-01T05:00:00Z"),
      Row("dep-paused", "late-paused", RolloutState::kRebooting),
      Row("dep-cancelled", "late-cancelled", RolloutState::kPending),
  };
  ASSERT_TRUE(store_->PutRollouts(rows));
  auto failed = store_->FailOverdue(T("2030-01-01T01:00:00Z"), "too late");
  ASSERT_TRUE(failed) << failed.error().ToString();
  EXPECT_EQ(*failed, 3);
  auto state = [&](const char* dep, const char* dev) {
    return (*store_->GetRollout(dep, dev))->state;
  };
  EXPECT_EQ(state("dep-active", "late-pending"), RolloutState::kFailed);
  EXPECT_EQ((*store_->GetRollout("dep-active", "late-pending"))->message, "too late");
  EXPECT_EQ(state("dep-active", "late-installing"), RolloutState::kFailed);
  EXPECT_EQ(state("dep-active", "late-succeeded"), RolloutState::kSucceeded);
  EXPECT_EQ(state("dep-active", "on-time"), RolloutState::kDownloading);
  EXPECT_EQ(state("dep-paused", "late-paused"), RolloutState::kFailed);
  EXPECT_EQ(state("dep-cancelled", "late-cancelled"), RolloutState::kPending);
  EXPECT_EQ(*store_->FailOverdue(T("2030-01-01T01:00:00Z"), "too late"), 0);
}

}  // namespace
}  // namespace aloft::server::deployments::sqlite
