#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/deployments/deployment_store.hpp"

namespace aloft::server::deployments::sqlite {

// Deployments and rollout rows in SQLite (tables of migration 5 in server/store/sqlite/migrations.cpp). Each call leases
// one connection from the pool for its duration; multi-row writes run in one transaction
// (BEGIN IMMEDIATE). The pool's database must be migrated before use. `pool` must outlive the
// store.
class SqliteDeploymentStore final : public DeploymentStore {
 public:
  explicit SqliteDeploymentStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Result<std::int64_t> InsertDeployment(const Deployment& deployment) override;
  Result<Deployment> GetDeployment(std::string_view id) override;
  Result<std::vector<Deployment>> ListDeployments(std::optional<DeploymentState> state,
                                                  std::size_t limit) override;
  Status UpdateDeployments(std::span<const Deployment> deployments) override;

  Result<std::optional<DeviceRollout>> GetRollout(std::string_view deployment_id,
                                                  std::string_view device_id) override;
  Result<std::vector<DeviceHistoryEntry>> DeviceHistory(std::string_view device_id) override;
  Status PutRollouts(std::span<const DeviceRollout> rows) override;
  Result<std::int64_t> FailOverdue(Timestamp now, std::string_view message) override;
  Result<std::vector<RolloutCount>> CountRollouts(std::string_view deployment_id) override;
  Result<std::vector<DeviceRollout>> ListRollouts(std::string_view deployment_id,
                                                  std::string_view after_device_id,
                                                  std::size_t limit) override;

 private:
  Result<platform::sqlite::ConnectionPool::Lease> Lease();
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::deployments::sqlite
