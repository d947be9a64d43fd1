#pragma once

// Where server-built deltas are recorded (server_delta.hpp). The SQLite implementation lives
// in sqlite/; a PostgreSQL one plugs in behind the same interface.
//
// Thread-safety: every method may be called from any thread.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/deltas/server_delta.hpp"

namespace aloft::server::deltas {

class DeltaStore {
 public:
  virtual ~DeltaStore() = default;

  virtual Result<std::optional<ServerDelta>> Get(std::string_view to_target,
                                                 std::string_view from_sha256) = 0;
  // Records a queued request unless one (in any state) exists; true when it was new.
  virtual Result<bool> Request(std::string_view to_target, std::string_view from_sha256,
                               Timestamp now) = 0;
  // The oldest queued request, if any.
  virtual Result<std::optional<ServerDelta>> NextQueued() = 0;
  // Overwrites the row of (to_target, from_sha256). kNotFound when there is none.
  virtual Status Update(const ServerDelta& delta) = 0;
  // Newest first, at most `limit` (1..1000).
  virtual Result<std::vector<ServerDelta>> List(std::size_t limit) = 0;
};

}  // namespace aloft::server::deltas
