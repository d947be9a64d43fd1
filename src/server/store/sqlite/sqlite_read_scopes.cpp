#include "server/store/sqlite/sqlite_read_scopes.hpp"

#include <chrono>
#include <utility>

namespace aloft::server::store::sqlite {
namespace {

// Waiting for a free connection here would only delay the request: without a scope, the reads
// wait for (and may get) a connection one at a time, as they always could.
constexpr std::chrono::milliseconds kNoWait{0};

class PooledReadScope final : public ReadScope {
 public:
  explicit PooledReadScope(std::unique_ptr<platform::sqlite::ConnectionPool::ReadScope> scope)
      : scope_(std::move(scope)) {}

 private:
  std::unique_ptr<platform::sqlite::ConnectionPool::ReadScope> scope_;
};

}  // namespace

std::unique_ptr<ReadScope> SqliteReadScopes::Begin() {
  auto scope = pool_.BeginReadScope(kNoWait);
  if (!scope) return nullptr;
  return std::make_unique<PooledReadScope>(std::move(*scope));
}

}  // namespace aloft::server::store::sqlite
