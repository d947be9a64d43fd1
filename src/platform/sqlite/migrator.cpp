#include "platform/sqlite/migrator.hpp"

#include <utility>

#include "core/crypto/hash.hpp"

namespace aloft::platform::sqlite {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version    INTEGER PRIMARY KEY,"
    "  name       TEXT NOT NULL,"
    "  applied_at TEXT NOT NULL,"
    "  sha256     TEXT NOT NULL)";

std::string Label(const Migration& m) {
  return "migration " + std::to_string(m.version) + " (" + std::string(m.name) + ")";
}

}  // namespace

Status Migrator::CheckList() const {
  for (std::size_t i = 0; i < migrations_.size(); ++i) {
    if (migrations_[i].version != static_cast<std::int64_t>(i) + 1) {
      return Fail(Errc::kInternal, "migrations must be numbered 1, 2, 3, ...: entry " +
                                       std::to_string(i) + " is " + Label(migrations_[i]));
    }
  }
  return Ok();
}

Result<std::int64_t> Migrator::CurrentVersion(Database& db) {
  auto exists = db.Prepare(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
  if (!exists) return Fail(std::move(exists).error());
  auto row = exists->Step();
  if (!row) return Fail(std::move(row).error());
  if (exists->ColumnInt64(0) == 0) return std::int64_t{0};

  auto max = db.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!max) return Fail(std::move(max).error());
  row = max->Step();
  if (!row) return Fail(std::move(row).error());
  return max->ColumnInt64(0);
}

Result<std::int64_t> Migrator::CheckRecorded(Database& db) const {
  auto rows = db.Prepare("SELECT version, name, sha256 FROM schema_migrations ORDER BY version");
  if (!rows) return Fail(std::move(rows).error());
  std::int64_t expected = 1;
  for (;;) {
    auto row = rows->Step();
    if (!row) return Fail(std::move(row).error());
    if (!*row) break;
    const std::int64_t version = rows->ColumnInt64(0);
    const std::string name = rows->ColumnText(1);
    if (version > static_cast<std::int64_t>(migrations_.size())) {
      return Fail(Errc::kCorrupt,
                  "the database is at schema version " + std::to_string(version) + " (" + name +
                      "), newer than this program knows (" + std::to_string(migrations_.size()) +
                      "); it was written by a newer release, and downgrades are refused: run "
                      "that release or restore a backup taken before the upgrade");
    }
    if (version != expected) {
      return Fail(Errc::kCorrupt, "schema_migrations is missing version " +
                                      std::to_string(expected) + " but records version " +
                                      std::to_string(version));
    }
    const Migration& m = migrations_[static_cast<std::size_t>(version - 1)];
    if (rows->ColumnText(2) != core::crypto::Sha256Hex(AsBytes(m.up_sql))) {
      return Fail(Errc::kCorrupt,
                  Label(m) +
                      " was applied with different SQL than this program ships (its "
                      "SHA-256 differs): a released migration was edited; restore the "
                      "original and add a new migration instead");
    }
    ++expected;
  }
  return expected - 1;
}

Result<MigrationReport> Migrator::Migrate(Database& db) const {
  if (Status s = CheckList(); !s) return Fail(std::move(s).error());

  MigrationReport report;
  {
    auto txn = Transaction::Begin(db);
    if (!txn) return Fail(std::move(txn).error().WithContext("migrate"));
    if (Status s = db.Exec(kCreateTable); !s) {
      return Fail(std::move(s).error().WithContext("migrate"));
    }
    auto current = CheckRecorded(db);
    if (!current) return Fail(std::move(current).error().WithContext("migrate"));
    if (Status s = txn->Commit(); !s) return Fail(std::move(s).error().WithContext("migrate"));
    report.from_version = report.to_version = *current;
  }

  for (const Migration& m : migrations_) {
    if (m.version <= report.to_version) continue;
    auto txn = Transaction::Begin(db);
    if (!txn) return Fail(std::move(txn).error().WithContext(Label(m)));
    // Another process may have applied it between our transactions; re-read under the lock.
    auto current = CurrentVersion(db);
    if (!current) return Fail(std::move(current).error().WithContext(Label(m)));
    if (*current >= m.version) {
      report.to_version = *current;
      continue;
    }
    if (Status s = db.Exec(m.up_sql); !s) return Fail(std::move(s).error().WithContext(Label(m)));
    // applied_at comes from SQLite's clock: it is an audit note for operators, never read by
    // the program, so it does not need the injected Clock.
    auto record = db.Prepare(
        "INSERT INTO schema_migrations (version, name, applied_at, sha256) "
        "VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?3)");
    if (!record) return Fail(std::move(record).error().WithContext(Label(m)));
    Status s = record->BindInt64(1, m.version);
    if (s) s = record->BindText(2, m.name);
    if (s) s = record->BindText(3, core::crypto::Sha256Hex(AsBytes(m.up_sql)));
    if (s) s = record->Run();
    if (s) s = txn->Commit();
    if (!s) return Fail(std::move(s).error().WithContext(Label(m)));
    report.to_version = m.version;
    report.applied.push_back(m.version);
  }
  return report;
}

}  // namespace aloft::platform::sqlite
