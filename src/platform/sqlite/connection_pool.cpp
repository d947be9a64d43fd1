#include "platform/sqlite/connection_pool.hpp"

#include <utility>

namespace aloft::platform::sqlite {
namespace {

// The connection a ReadScope pinned on this thread, and its pool (one scope per thread at a
// time; a scope of another pool begun inside it is refused and its reads go unscoped).
struct Pin {
  const ConnectionPool* pool = nullptr;
  Database* db = nullptr;
};
thread_local Pin pinned;

}  // namespace

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
  if (pinned.pool == this) return Lease(nullptr, pinned.db);
  std::unique_lock lock(mutex_);
  if (!available_.wait_for(lock, timeout, [this] { return !free_.empty(); })) {
    return Fail(Errc::kUnavailable,
                "all " + std::to_string(all_.size()) + " database connections are busy");
  }
  Database* db = free_.back();
  free_.pop_back();
  return Lease(this, db);
}

Result<std::unique_ptr<ConnectionPool::ReadScope>> ConnectionPool::BeginReadScope(
    std::chrono::milliseconds timeout) {
  std::unique_ptr<ReadScope> scope(new ReadScope());
  if (pinned.pool == this) return scope;  // joins the scope already open on this thread
  if (pinned.pool != nullptr) {
    return Fail(Errc::kInternal, "a read scope of another pool is open on this thread");
  }
  auto lease = Acquire(timeout);
  if (!lease) return Fail(std::move(lease).error());
  if (Status s = (*lease)->BeginReadSnapshot(); !s) return Fail(std::move(s).error());
  pinned = Pin{this, &**lease};
  scope->lease_.emplace(std::move(*lease));
  return scope;
}

ConnectionPool::ReadScope::~ReadScope() {
  if (!lease_) return;
  pinned = Pin{};
  (*lease_)->EndReadSnapshot();
}  // the lease gives the connection back

void ConnectionPool::Return(Database* db) noexcept {
  // A holder that returned early on an error may have left a transaction open (e.g. a failed
  // statement inside a Transaction that was moved elsewhere); never lend that state out.
  db->EndReadSnapshot();
  if (db->InTransaction()) (void)db->Exec("ROLLBACK");
  {
    std::lock_guard lock(mutex_);
    free_.push_back(db);
  }
  available_.notify_one();
}

}  // namespace aloft::platform::sqlite
