#include "server/repo/sqlite/sqlite_repo_store.hpp"

#include <chrono>
#include <string>

namespace aloft::server::repo::sqlite {
namespace {

using platform::sqlite::Statement;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};

Result<std::optional<StoredMetadata>> ReadOne(Statement& s) {
  auto row = s.Step();
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<StoredMetadata>();
  StoredMetadata m;
  m.version = s.ColumnInt64(0);
  m.bytes = s.ColumnBlob(1);
  auto expires = ParseTimestamp(s.ColumnText(2));
  if (!expires) return Fail(Errc::kCorrupt, "stored metadata expiry is unreadable");
  m.expires = *expires;
  return std::optional<StoredMetadata>(std::move(m));
}

}  // namespace

Status SqliteRepoStore::Put(std::string_view repo, const std::vector<MetadataWrite>& writes) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto tx = platform::sqlite::Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  for (const MetadataWrite& w : writes) {
    auto latest = (*db)->PrepareCached(
        "SELECT MAX(version) FROM repo_metadata WHERE repo = :repo AND role = :role");
    if (!latest) return Fail(latest.error());
    for (Status b : {latest->BindText(":repo", repo), latest->BindText(":role", w.role)}) {
      if (!b) return b;
    }
    auto row = latest->Step();
    if (!row) return Fail(row.error());
    if (*row && !latest->IsNull(0) && latest->ColumnInt64(0) >= w.version) {
      return Fail(Errc::kAlreadyExists, w.role + " version " + std::to_string(w.version) +
                                            " is not above the stored version " +
                                            std::to_string(latest->ColumnInt64(0)));
    }
    latest->Reset();
    if (!w.keep_history) {
      auto prune =
          (*db)->PrepareCached("DELETE FROM repo_metadata WHERE repo = :repo AND role = :role");
      if (!prune) return Fail(prune.error());
      for (Status b : {prune->BindText(":repo", repo), prune->BindText(":role", w.role)}) {
        if (!b) return b;
      }
      if (Status r = prune->Run(); !r) return r;
    }
    auto insert = (*db)->PrepareCached(
        "INSERT INTO repo_metadata (repo, role, version, bytes, expires)"
        " VALUES (:repo, :role, :version, :bytes, :expires)");
    if (!insert) return Fail(insert.error());
    for (Status b : {insert->BindText(":repo", repo), insert->BindText(":role", w.role),
                     insert->BindInt64(":version", w.version), insert->BindBlob(":bytes", w.bytes),
                     insert->BindText(":expires", FormatTimestamp(w.expires))}) {
      if (!b) return b;
    }
    if (Status r = insert->Run(); !r) return r;
  }
  return tx->Commit();
}

Result<std::optional<StoredMetadata>> SqliteRepoStore::GetLatest(std::string_view repo,
                                                                 std::string_view role) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT version, bytes, expires FROM repo_metadata WHERE repo = :repo AND role = :role"
      " ORDER BY version DESC LIMIT 1");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":repo", repo), s->BindText(":role", role)}) {
    if (!b) return Fail(b.error());
  }
  return ReadOne(*s);
}

Result<std::int64_t> SqliteRepoStore::LatestVersion(std::string_view repo, std::string_view role) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // max() over the (repo, role, version) key reads one index entry, never the document.
  auto s = (*db)->PrepareCached(
      "SELECT coalesce(max(version), 0) FROM repo_metadata WHERE repo = :repo AND role = :role");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":repo", repo), s->BindText(":role", role)}) {
    if (!b) return Fail(b.error());
  }
  auto row = s->Step();
  if (!row) return Fail(row.error());
  return *row ? s->ColumnInt64(0) : 0;
}

Result<std::optional<StoredMetadata>> SqliteRepoStore::Get(std::string_view repo,
                                                           std::string_view role,
                                                           std::int64_t version) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT version, bytes, expires FROM repo_metadata"
      " WHERE repo = :repo AND role = :role AND version = :version");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":repo", repo), s->BindText(":role", role),
                   s->BindInt64(":version", version)}) {
    if (!b) return Fail(b.error());
  }
  return ReadOne(*s);
}

}  // namespace aloft::server::repo::sqlite
