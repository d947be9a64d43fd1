#include "server/store/sqlite/sqlite_fleet_history_store.hpp"

#include <chrono>

namespace aloft::server::store::sqlite {
namespace {

constexpr std::chrono::milliseconds kLeaseTimeout{5000};

}  // namespace

Status SqliteFleetHistoryStore::AddSample(const FleetSample& sample, Timestamp keep_after) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto tx = platform::sqlite::Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  const std::string at = FormatTimestamp(sample.at);
  auto head = (*db)->PrepareCached("INSERT INTO fleet_samples (at) VALUES (:at)");
  if (!head) return Fail(head.error());
  if (Status b = head->BindText(":at", at); !b) return b;
  if (Status r = head->Run(); !r) return r;
  auto row = (*db)->PrepareCached(
      "INSERT INTO fleet_sample_versions (at, image_version, devices) VALUES (:at, :v, :n)");
  if (!row) return Fail(row.error());
  for (const VersionCount& v : sample.versions) {
    row->Reset();  // one statement, rebound for each version
    for (Status b : {row->BindText(":at", at), row->BindText(":v", v.image_version),
                     row->BindInt64(":n", v.devices)}) {
      if (!b) return b;
    }
    if (Status r = row->Run(); !r) return r;
  }
  // Retention: the versions go with their sample (ON DELETE CASCADE).
  auto prune = (*db)->PrepareCached("DELETE FROM fleet_samples WHERE at < :keep_after");
  if (!prune) return Fail(prune.error());
  if (Status b = prune->BindText(":keep_after", FormatTimestamp(keep_after)); !b) return b;
  if (Status r = prune->Run(); !r) return r;
  return tx->Commit();
}

Result<std::optional<Timestamp>> SqliteFleetHistoryStore::LatestSampleAt() {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT max(at) FROM fleet_samples");
  if (!s) return Fail(s.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row || s->IsNull(0)) return std::optional<Timestamp>();
  auto at = ParseTimestamp(s->ColumnText(0));
  if (!at) return Fail(Errc::kCorrupt, "fleet_samples.at holds an unreadable time");
  return std::optional<Timestamp>(*at);
}

Result<std::vector<FleetSample>> SqliteFleetHistoryStore::SamplesSince(Timestamp since) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // Times are fixed-width RFC 3339 UTC text, so text order is time order.
  auto s = (*db)->PrepareCached(
      "SELECT s.at, v.image_version, v.devices FROM fleet_samples s"
      " LEFT JOIN fleet_sample_versions v ON v.at = s.at"
      " WHERE s.at >= :since ORDER BY s.at, v.image_version");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":since", FormatTimestamp(since)); !b) return Fail(b.error());
  std::vector<FleetSample> out;
  std::string last_at;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    std::string at_text = s->ColumnText(0);
    if (out.empty() || at_text != last_at) {
      auto at = ParseTimestamp(at_text);
      if (!at) return Fail(Errc::kCorrupt, "fleet_samples.at holds an unreadable time");
      out.push_back(FleetSample{*at, {}});
      last_at = std::move(at_text);
    }
    if (!s->IsNull(1)) out.back().versions.push_back(VersionCount{s->ColumnText(1), s->ColumnInt64(2)});
  }
  return out;
}

}  // namespace aloft::server::store::sqlite
