#pragma once

// A fixed set of connections to one database file, lent out one thread at a time. The server's
// worker threads each Acquire() a lease per request; SQLite's WAL mode lets the leased
// connections read concurrently while one of them writes.
//
// Thread-safety: Acquire() and the return of leases are safe from any thread. A leased
// Database belongs to the lease holder until the lease is destroyed. The pool must outlive its
// leases; it is neither movable nor copyable (leases point at it).
//
// A ReadScope pins one connection to the calling thread with a read snapshot open on it
// (Database::BeginReadSnapshot): until the scope ends, every Acquire() on that thread lends
// that same connection, so the reads of one request made by different stores see one state of
// the database and pay for one lock instead of one per statement. Writes inside the scope
// work as they would without it (they end the snapshot first).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core/base/result.hpp"
#include "platform/sqlite/database.hpp"

namespace aloft::platform::sqlite {

class ConnectionPool {
 public:
  // A borrowed connection, handed back when the lease is destroyed. A transaction left open by
  // the holder is rolled back on return. Movable, not copyable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), db_(std::exchange(other.db_, nullptr)) {}
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    Database& operator*() const noexcept { return *db_; }
    Database* operator->() const noexcept { return db_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, Database* db) noexcept : pool_(pool), db_(db) {}

    // Null for a lease of a connection pinned by a ReadScope, which the scope gives back.
    ConnectionPool* pool_ = nullptr;
    Database* db_ = nullptr;
  };

  // See the file comment. Not movable: it must end on the thread that began it. A scope begun
  // while another of the same pool is active on the thread joins it (and ends nothing).
  class ReadScope {
   public:
    ReadScope(const ReadScope&) = delete;
    ReadScope& operator=(const ReadScope&) = delete;
    ~ReadScope();

   private:
    friend class ConnectionPool;
    ReadScope() = default;

    std::optional<Lease> lease_;  // empty for a scope that joined an outer one
  };

  // Opens `size` (at least 1) connections to `path` with `options`. Fails as Database::Open
  // does. Run migrations on one lease before serving.
  static Result<std::unique_ptr<ConnectionPool>> Open(const std::filesystem::path& path,
                                                      const Options& options, std::size_t size);

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Waits up to `timeout` for a free connection; kUnavailable when none came free in time
  // (the caller should shed the request rather than queue without bound).
  Result<Lease> Acquire(std::chrono::milliseconds timeout);

  // Begins a ReadScope on the calling thread (see above). Fails as Acquire() does, or as
  // BeginReadSnapshot() does; the caller may then go on without one.
  Result<std::unique_ptr<ReadScope>> BeginReadScope(std::chrono::milliseconds timeout);

  std::size_t size() const noexcept { return all_.size(); }

 private:
  ConnectionPool() = default;
  void Return(Database* db) noexcept;

  std::vector<std::unique_ptr<Database>> all_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Database*> free_;  // guarded by mutex_
};

}  // namespace aloft::platform::sqlite
