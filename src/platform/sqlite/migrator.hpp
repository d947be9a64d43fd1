#pragma once

// Forward-only schema migrations, applied at startup.
//
// Each migration runs in its own transaction (BEGIN IMMEDIATE) together with the insert of its
// row in schema_migrations(version, name, applied_at, sha256), so a crash leaves the database
// at the previous version or the next one, never between. Two processes migrating the same
// file at once serialize on the write lock; the loser finds the work done.
//
// Startup refuses (kCorrupt) rather than guessing when:
//   - the database records a version the code does not know (it was migrated by a newer
//     release: running old code on it could corrupt data, so downgrades are refused), or
//   - a recorded migration's SHA-256 differs from the code's SQL (a shipped migration was
//     edited: databases migrated before and after the edit would differ silently), or
//   - the recorded versions have a gap.
// A migration list that is not numbered 1, 2, 3, ... is a bug in the code: kInternal.
//
// Migration SQL runs inside a transaction, so it must not contain BEGIN/COMMIT or
// PRAGMA foreign_keys (which is ignored inside a transaction); use
// PRAGMA defer_foreign_keys=ON when a table is rebuilt.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "platform/sqlite/database.hpp"

namespace aloft::platform::sqlite {

struct Migration {
  std::int64_t version = 0;  // 1, 2, 3, ... in order
  std::string_view name;     // a short label for logs, e.g. "create_blobs"
  std::string_view up_sql;   // one or more statements; its SHA-256 is recorded
};

// What Migrate() did.
struct MigrationReport {
  std::int64_t from_version = 0;  // the schema version found (0 for a new database)
  std::int64_t to_version = 0;    // the schema version now
  std::vector<std::int64_t> applied;
};

// Holds a list of migrations (the views must outlive the Migrator; normally they point at
// string literals). Stateless otherwise, so one Migrator may serve many databases.
class Migrator {
 public:
  explicit Migrator(std::span<const Migration> migrations) : migrations_(migrations) {}

  // Brings `db` up to the latest version. Idempotent: a second run applies nothing.
  Result<MigrationReport> Migrate(Database& db) const;

  // The latest version recorded in `db` (0 when none), without checking anything.
  static Result<std::int64_t> CurrentVersion(Database& db);

 private:
  Status CheckList() const;
  // Verifies the recorded rows against the code and returns the current version.
  Result<std::int64_t> CheckRecorded(Database& db) const;

  std::span<const Migration> migrations_;
};

}  // namespace aloft::platform::sqlite
