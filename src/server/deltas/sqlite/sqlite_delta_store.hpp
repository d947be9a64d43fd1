#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/deltas/delta_store.hpp"

namespace aloft::server::deltas::sqlite {

// Server-built deltas in aloftd's SQLite database (migration 8: server_deltas). Each call
// leases one connection; only bound parameters reach SQL. The pool must outlive the store and
// its database must be migrated (store::sqlite::ServerMigrations).
class SqliteDeltaStore final : public DeltaStore {
 public:
  explicit SqliteDeltaStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Result<std::optional<ServerDelta>> Get(std::string_view to_target,
                                         std::string_view from_sha256) override;
  Result<bool> Request(std::string_view to_target, std::string_view from_sha256,
                       Timestamp now) override;
  Result<std::optional<ServerDelta>> NextQueued() override;
  Status Update(const ServerDelta& delta) override;
  Result<std::vector<ServerDelta>> List(std::size_t limit) override;

 private:
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::deltas::sqlite
