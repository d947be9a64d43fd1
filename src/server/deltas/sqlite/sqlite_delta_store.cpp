#include "server/deltas/sqlite/sqlite_delta_store.hpp"

#include <algorithm>
#include <chrono>
#include <initializer_list>

namespace aloft::server::deltas::sqlite {
namespace {

using platform::sqlite::Statement;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};

constexpr std::string_view kColumns =
    "SELECT to_target, from_sha256, state, source_target, artifact_sha256, artifact_length,"
    " from_length, to_sha256, to_length, error, requested_at, updated_at FROM server_deltas";

Status All(std::initializer_list<Status> binds) {
  for (const Status& b : binds) {
    if (!b) return b;
  }
  return Ok();
}

Result<ServerDelta> ReadRow(const Statement& s) {
  ServerDelta d;
  d.to_target = s.ColumnText(0);
  d.from_sha256 = s.ColumnText(1);
  auto state = ParseBuildState(s.ColumnText(2));
  auto requested = ParseTimestamp(s.ColumnText(10));
  auto updated = ParseTimestamp(s.ColumnText(11));
  if (!state || !requested || !updated) {
    return Fail(Errc::kCorrupt, "stored server delta for " + d.to_target + " is unreadable");
  }
  d.state = *state;
  d.source_target = s.ColumnText(3);
  d.artifact_sha256 = s.ColumnText(4);
  d.artifact_length = s.ColumnInt64(5);
  d.from_length = s.ColumnInt64(6);
  d.to_sha256 = s.ColumnText(7);
  d.to_length = s.ColumnInt64(8);
  d.error = s.ColumnText(9);
  d.requested_at = *requested;
  d.updated_at = *updated;
  return d;
}

Result<std::vector<ServerDelta>> ReadRows(Statement& s) {
  std::vector<ServerDelta> out;
  while (true) {
    auto row = s.Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    auto d = ReadRow(s);
    if (!d) return Fail(d.error());
    out.push_back(std::move(*d));
  }
}

Result<std::optional<ServerDelta>> First(Statement& s) {
  auto rows = ReadRows(s);
  if (!rows) return Fail(rows.error());
  if (rows->empty()) return std::optional<ServerDelta>{};
  return std::optional<ServerDelta>{std::move(rows->front())};
}

}  // namespace

Result<std::optional<ServerDelta>> SqliteDeltaStore::Get(std::string_view to_target,
                                                         std::string_view from_sha256) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(std::string(kColumns) +
                                " WHERE to_target = :to AND from_sha256 = :from");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":to", to_target), s->BindText(":from", from_sha256)}); !b) {
    return Fail(b.error());
  }
  return First(*s);
}

Result<bool> SqliteDeltaStore::Request(std::string_view to_target, std::string_view from_sha256,
                                       Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO server_deltas (to_target, from_sha256, state, requested_at, updated_at)"
      " VALUES (:to, :from, 'queued', :at, :at) ON CONFLICT DO NOTHING");
  if (!s) return Fail(s.error());
  const std::string at = FormatTimestamp(now);
  if (Status b = All({s->BindText(":to", to_target), s->BindText(":from", from_sha256),
                      s->BindText(":at", at)});
      !b) {
    return Fail(b.error());
  }
  if (Status r = s->Run(); !r) return Fail(r.error());
  return (*db)->Changes() > 0;
}

Result<std::optional<ServerDelta>> SqliteDeltaStore::NextQueued() {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(std::string(kColumns) +
                                " WHERE state = 'queued' ORDER BY requested_at LIMIT 1");
  if (!s) return Fail(s.error());
  return First(*s);
}

Status SqliteDeltaStore::Update(const ServerDelta& d) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE server_deltas SET state = :state, source_target = :source,"
      " artifact_sha256 = :artifact, artifact_length = :artifact_length,"
      " from_length = :from_length, to_sha256 = :to_sha256, to_length = :to_length,"
      " error = :error, updated_at = :updated WHERE to_target = :to AND from_sha256 = :from");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":state", BuildStateName(d.state)),
                      s->BindText(":source", d.source_target),
                      s->BindText(":artifact", d.artifact_sha256),
                      s->BindInt64(":artifact_length", d.artifact_length),
                      s->BindInt64(":from_length", d.from_length),
                      s->BindText(":to_sha256", d.to_sha256),
                      s->BindInt64(":to_length", d.to_length), s->BindText(":error", d.error),
                      s->BindText(":updated", FormatTimestamp(d.updated_at)),
                      s->BindText(":to", d.to_target), s->BindText(":from", d.from_sha256)});
      !b) {
    return b;
  }
  if (Status r = s->Run(); !r) return r;
  if ((*db)->Changes() == 0) {
    return Fail(Errc::kNotFound, "no server delta for " + d.to_target + " from " +
                                     d.from_sha256.substr(0, 16));
  }
  return Ok();
}

Result<std::vector<ServerDelta>> SqliteDeltaStore::List(std::size_t limit) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(std::string(kColumns) +
                                " ORDER BY updated_at DESC, to_target, from_sha256 LIMIT :limit");
  if (!s) return Fail(s.error());
  const auto capped = static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 1000));
  if (Status b = s->BindInt64(":limit", capped); !b) return Fail(b.error());
  return ReadRows(*s);
}

}  // namespace aloft::server::deltas::sqlite
