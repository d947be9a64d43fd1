#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/repo/repo_store.hpp"

namespace aloft::server::repo::sqlite {

// RepoStore over the repo_metadata table (migration 2, "repositories"). Each call leases one
// connection for its duration; Put runs in one BEGIN IMMEDIATE transaction, so concurrent
// writers serialise and the version check and the inserts see the same state.
class SqliteRepoStore final : public RepoStore {
 public:
  // `pool` must outlive the store and its database must be migrated (ServerMigrations).
  explicit SqliteRepoStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Status Put(std::string_view repo, const std::vector<MetadataWrite>& writes) override;
  Result<std::optional<StoredMetadata>> GetLatest(std::string_view repo,
                                                  std::string_view role) override;
  Result<std::int64_t> LatestVersion(std::string_view repo, std::string_view role) override;
  Result<std::optional<StoredMetadata>> Get(std::string_view repo, std::string_view role,
                                            std::int64_t version) override;

 private:
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::repo::sqlite
