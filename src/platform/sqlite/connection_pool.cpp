#include "platform/sqlite/connection_pool.hpp"

#include <utility>

namespace aloft::platform::sqlite {

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr) pool_->Return(db_);
    pool_ = std::exchange(other.pool_, nullptr);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(db_);
}

Result<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(const std::filesystem::path& path,
                                                             const Options& options,
                                                             std::size_t size) {
  if (size == 0) {
    return Fail(Errc::kInvalidArgument, "a connection pool needs at least 1 connection");
  }
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool());
  for (std::size_t i = 0; i < size; ++i) {
    auto db = Database::Open(path, options);
    if (!db) return Fail(std::move(db).error());
    pool->all_.push_back(std::make_unique<Database>(std::move(*db)));
    pool->free_.push_back(pool->all_.back().get());
  }
  return pool;
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!available_.wait_for(lock, timeout, [this] { return !free_.empty(); })) {
    return Fail(Errc::kUnavailable,
                "all " + std::to_string(all_.size()) + " database connections are busy");
  }
  Database* db = free_.back();
  free_.pop_back();
  return Lease(this, db);
}

void ConnectionPool::Return(Database* db) noexcept {
  // A holder that returned early on an error may have left a transaction open (e.g. a failed
  // statement inside a Transaction that was moved elsewhere); never lend that state out.
  if (db->InTransaction()) (void)db->Exec("ROLLBACK");
  {
    std::lock_guard lock(mutex_);
    free_.push_back(db);
  }
  available_.notify_one();
}

}  // namespace aloft::platform::sqlite
