#pragma once

// Groups the reads one request makes through several stores (device, rollouts, Director
// metadata) into one consistent read: they all see the same state of the database, and on
// SQLite they share one lock acquisition instead of paying one per statement. Writes inside a
// scope work as they would without one, and reads after a write see it. A PostgreSQL backend
// would map a scope to one REPEATABLE READ transaction on one pooled connection.

#include <memory>

namespace aloft::server::store {

// Held for the reads it groups; ending it (destruction) releases the snapshot. Must be
// destroyed on the thread that began it.
class ReadScope {
 public:
  virtual ~ReadScope() = default;
};

class ReadScopes {
 public:
  virtual ~ReadScopes() = default;
  // A scope for the calling thread's reads until it is destroyed; null when none could be
  // begun (the reads then run one by one, as correct and a little slower).
  virtual std::unique_ptr<ReadScope> Begin() = 0;
};

}  // namespace aloft::server::store
