#pragma once

// store::ReadScopes over a ConnectionPool's ReadScope: the stores built on the same pool lend
// the scope's connection, with its read snapshot, to the thread that began it.

#include <memory>

#include "platform/sqlite/connection_pool.hpp"
#include "server/store/read_scopes.hpp"

namespace aloft::server::store::sqlite {

class SqliteReadScopes final : public ReadScopes {
 public:
  explicit SqliteReadScopes(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}
  std::unique_ptr<ReadScope> Begin() override;

 private:
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::store::sqlite
