#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::store::sqlite {

// The fleet history in SQLite: one row per sample (so an empty fleet is a sample too) and one
// per (sample, version). The pool's database must be migrated (ServerMigrations) before use.
class SqliteFleetHistoryStore final : public FleetHistoryStore {
 public:
  explicit SqliteFleetHistoryStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Status AddSample(const FleetSample& sample, Timestamp keep_after) override;
  Result<std::optional<Timestamp>> LatestSampleAt() override;
  Result<std::vector<FleetSample>> SamplesSince(Timestamp since) override;

 private:
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::store::sqlite
