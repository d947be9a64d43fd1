#include "server/deployments/sqlite/sqlite_deployment_store.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "server/deployments/deployment_json.hpp"

namespace aloft::server::deployments::sqlite {
namespace {

using core::codec::Json;
using platform::sqlite::Database;
using platform::sqlite::Statement;
using platform::sqlite::Transaction;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};

constexpr std::string_view kDeploymentColumns =
    "seq, id, release, release_version, target, hardware_ids, image_sha256, selector, phases,"
    " failure_threshold_percent, min_devices_for_threshold, phase_deadline_seconds,"
    " window_start_minute, window_end_minute, state, paused_reason, current_phase,"
    " acknowledged_failures, created_at, created_by, updated_at";

constexpr std::string_view kRolloutColumns =
    "deployment_id, device_id, phase, state, director_assigned, assigned_at, updated_at,"
    " deadline, message, log_tail";

// A stored value that does not parse means the database was changed behind our back.
Error Corrupt(std::string_view what, std::string_view id) {
  return Error(Errc::kCorrupt, "stored " + std::string(what) + " of deployment " + std::string(id) +
                                   " is unreadable");
}

std::string Time(Timestamp t) { return FormatTimestamp(t); }

std::int64_t Limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(
      limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

Status BindAll(std::initializer_list<Status> binds) {
  for (const Status& b : binds) {
    if (!b) return b;
  }
  return Ok();
}

// The assigned target: length, hashes and (since the chunk digests) the digest of its chunk
// list, in one JSON column; rows written before that have none.
std::string TargetJson(const Deployment& d) {
  Json::Object hashes;
  for (const auto& [alg, hex] : d.target.hashes) hashes.emplace(alg, hex);
  Json json = Json::Object{{"hashes", std::move(hashes)}, {"length", d.target.length}};
  if (!d.chunks_sha256.empty()) json["chunksSha256"] = d.chunks_sha256;
  return core::codec::CanonicalJson(json);
}

Status ParseTarget(std::string_view text, Deployment& d) {
  auto json = core::codec::ParseJson(text);
  if (!json) return Fail(json.error());
  auto length = core::codec::GetInt(*json, "length");
  auto hashes = core::codec::GetObject(*json, "hashes");
  if (!length || !hashes) return Fail(Errc::kCorrupt, "target");
  d.target.length = *length;
  for (const auto& [alg, hex] : **hashes) {
    if (!hex.IsString()) return Fail(Errc::kCorrupt, "target");
    d.target.hashes.emplace(alg, hex.AsString());
  }
  if (const Json* chunks = json->Find("chunksSha256")) {
    if (!chunks->IsString()) return Fail(Errc::kCorrupt, "target");
    d.chunks_sha256 = chunks->AsString();
  }
  return Ok();
}

std::string StringsJson(const std::vector<std::string>& values) {
  Json::Array out(values.begin(), values.end());
  return core::codec::CanonicalJson(Json(std::move(out)));
}

Result<std::vector<std::string>> ParseStrings(std::string_view text) {
  auto json = core::codec::ParseJson(text);
  if (!json || !json->IsArray()) return Fail(Errc::kCorrupt, "strings");
  std::vector<std::string> out;
  for (const Json& v : json->AsArray()) {
    if (!v.IsString()) return Fail(Errc::kCorrupt, "strings");
    out.push_back(v.AsString());
  }
  return out;
}

Result<Deployment> ReadDeployment(const Statement& s) {
  Deployment d;
  d.seq = s.ColumnInt64(0);
  d.id = s.ColumnText(1);
  d.release = s.ColumnText(2);
  d.release_version = s.ColumnText(3);
  if (Status target = ParseTarget(s.ColumnText(4), d); !target) {
    return Fail(Corrupt("target", d.id));
  }
  auto hardware = ParseStrings(s.ColumnText(5));
  if (!hardware) return Fail(Corrupt("hardware ids", d.id));
  d.hardware_ids = std::move(*hardware);
  d.image_sha256 = s.ColumnText(6);
  auto selector_json = core::codec::ParseJson(s.ColumnText(7));
  if (!selector_json) return Fail(Corrupt("selector", d.id));
  auto selector = ParseSelector(*selector_json);
  if (!selector) return Fail(Corrupt("selector", d.id));
  d.selector = std::move(*selector);
  auto phases_json = core::codec::ParseJson(s.ColumnText(8));
  if (!phases_json) return Fail(Corrupt("phases", d.id));
  auto phases = ParsePhases(*phases_json, /*with_started=*/true);
  if (!phases) return Fail(Corrupt("phases", d.id));
  d.phases = std::move(*phases);
  d.failure_threshold_percent = s.ColumnInt64(9);
  d.min_devices_for_threshold = s.ColumnInt64(10);
  d.phase_deadline_seconds = s.ColumnInt64(11);
  if (!s.IsNull(12)) {
    d.maintenance_window =
        MaintenanceWindow{static_cast<int>(s.ColumnInt64(12)), static_cast<int>(s.ColumnInt64(13))};
  }
  auto state = ParseDeploymentState(s.ColumnText(14));
  if (!state) return Fail(Corrupt("state", d.id));
  d.state = *state;
  d.paused_reason = s.ColumnText(15);
  const std::int64_t current_phase = s.ColumnInt64(16);
  if (current_phase < 0 || static_cast<std::size_t>(current_phase) >= d.phases.size()) {
    return Fail(Corrupt("current phase", d.id));
  }
  d.current_phase = static_cast<std::size_t>(current_phase);
  d.acknowledged_failures = s.ColumnInt64(17);
  auto created = ParseTimestamp(s.ColumnText(18));
  auto updated = ParseTimestamp(s.ColumnText(20));
  if (!created || !updated) return Fail(Corrupt("timestamps", d.id));
  d.created = *created;
  d.created_by = s.ColumnText(19);
  d.updated = *updated;
  return d;
}

// Reads kRolloutColumns starting at column `first`.
Result<DeviceRollout> ReadRollout(const Statement& s, int first = 0) {
  DeviceRollout r;
  r.deployment_id = s.ColumnText(first);
  r.device_id = s.ColumnText(first + 1);
  r.phase = s.ColumnInt64(first + 2);
  auto state = ParseRolloutState(s.ColumnText(first + 3));
  if (!state) return Fail(Corrupt("rollout state", r.deployment_id));
  r.state = *state;
  r.director_assigned = s.ColumnInt64(first + 4) != 0;
  auto assigned = ParseTimestamp(s.ColumnText(first + 5));
  auto updated = ParseTimestamp(s.ColumnText(first + 6));
  auto deadline = ParseTimestamp(s.ColumnText(first + 7));
  if (!assigned || !updated || !deadline) {
    return Fail(Corrupt("rollout timestamps", r.deployment_id));
  }
  r.assigned_at = *assigned;
  r.updated_at = *updated;
  r.deadline = *deadline;
  r.message = s.ColumnText(first + 8);
  r.log_tail = s.ColumnText(first + 9);
  return r;
}

// Steps `s` to the end, reading each row with `read`.
template <class T, class Read>
Result<std::vector<T>> ReadAll(Statement& s, Read read) {
  std::vector<T> out;
  while (true) {
    auto row = s.Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    auto value = read(s);
    if (!value) return Fail(value.error());
    out.push_back(std::move(*value));
  }
}

}  // namespace

Result<platform::sqlite::ConnectionPool::Lease> SqliteDeploymentStore::Lease() {
  return pool_.Acquire(kLeaseTimeout);
}

Result<std::int64_t> SqliteDeploymentStore::InsertDeployment(const Deployment& d) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO deployments (id, release, release_version, target, hardware_ids,"
      " image_sha256, selector, phases, failure_threshold_percent, min_devices_for_threshold,"
      " phase_deadline_seconds, window_start_minute, window_end_minute, state, paused_reason,"
      " current_phase, acknowledged_failures, created_at, created_by, updated_at)"
      " VALUES (:id, :release, :version, :target, :hardware, :sha, :selector, :phases,"
      " :threshold, :min_devices, :deadline, :window_start, :window_end, :state, :reason,"
      " :phase, :acknowledged, :created, :created_by, :updated)");
  if (!s) return Fail(s.error());
  const auto& w = d.maintenance_window;
  if (Status b = BindAll({
          s->BindText(":id", d.id),
          s->BindText(":release", d.release),
          s->BindText(":version", d.release_version),
          s->BindText(":target", TargetJson(d)),
          s->BindText(":hardware", StringsJson(d.hardware_ids)),
          s->BindText(":sha", d.image_sha256),
          s->BindText(":selector", core::codec::CanonicalJson(ToJson(d.selector))),
          s->BindText(":phases", core::codec::CanonicalJson(ToJson(d.phases))),
          s->BindInt64(":threshold", d.failure_threshold_percent),
          s->BindInt64(":min_devices", d.min_devices_for_threshold),
          s->BindInt64(":deadline", d.phase_deadline_seconds),
          w ? s->BindInt64(":window_start", w->start_minute) : s->BindNull(":window_start"),
          w ? s->BindInt64(":window_end", w->end_minute) : s->BindNull(":window_end"),
          s->BindText(":state", DeploymentStateName(d.state)),
          s->BindText(":reason", d.paused_reason),
          s->BindInt64(":phase", static_cast<std::int64_t>(d.current_phase)),
          s->BindInt64(":acknowledged", d.acknowledged_failures),
          s->BindText(":created", Time(d.created)),
          s->BindText(":created_by", d.created_by),
          s->BindText(":updated", Time(d.updated)),
      });
      !b) {
    return Fail(b.error());
  }
  if (Status r = s->Run(); !r) {
    if (r.error().code() == Errc::kAlreadyExists) {
      return Fail(Errc::kAlreadyExists, "a deployment with id " + d.id + " already exists");
    }
    return Fail(r.error());
  }
  return (*db)->LastInsertRowId();
}

Result<Deployment> SqliteDeploymentStore::GetDeployment(std::string_view id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kDeploymentColumns) +
                                " FROM deployments WHERE id = :id");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":id", id); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) {
    return Fail(Errc::kNotFound, "deployment '" + std::string(id.substr(0, 64)) + "' not found");
  }
  return ReadDeployment(*s);
}

Result<std::vector<Deployment>> SqliteDeploymentStore::ListDeployments(
    std::optional<DeploymentState> state, std::size_t limit) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kDeploymentColumns) +
                                " FROM deployments WHERE (:state IS NULL OR state = :state)"
                                " ORDER BY seq DESC LIMIT :limit");
  if (!s) return Fail(s.error());
  if (Status b = BindAll(
          {state ? s->BindText(":state", DeploymentStateName(*state)) : s->BindNull(":state"),
           s->BindInt64(":limit", Limit(limit))});
      !b) {
    return Fail(b.error());
  }
  return ReadAll<Deployment>(*s, ReadDeployment);
}

Status SqliteDeploymentStore::UpdateDeployments(std::span<const Deployment> deployments) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto tx = Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  for (const Deployment& d : deployments) {
    auto s = (*db)->PrepareCached(
        "UPDATE deployments SET state = :state, paused_reason = :reason, current_phase = :phase,"
        " phases = :phases, acknowledged_failures = :acknowledged, updated_at = :updated"
        " WHERE id = :id");
    if (!s) return Fail(s.error());
    if (Status b = BindAll({
            s->BindText(":state", DeploymentStateName(d.state)),
            s->BindText(":reason", d.paused_reason),
            s->BindInt64(":phase", static_cast<std::int64_t>(d.current_phase)),
            s->BindText(":phases", core::codec::CanonicalJson(ToJson(d.phases))),
            s->BindInt64(":acknowledged", d.acknowledged_failures),
            s->BindText(":updated", Time(d.updated)),
            s->BindText(":id", d.id),
        });
        !b) {
      return b;
    }
    if (Status r = s->Run(); !r) return r;
    if ((*db)->Changes() == 0) {
      return Fail(Errc::kNotFound, "deployment '" + d.id + "' not found");
    }
  }
  return tx->Commit();
}

Result<std::optional<DeviceRollout>> SqliteDeploymentStore::GetRollout(
    std::string_view deployment_id, std::string_view device_id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kRolloutColumns) +
                                " FROM deployment_devices"
                                " WHERE deployment_id = :deployment AND device_id = :device");
  if (!s) return Fail(s.error());
  if (Status b =
          BindAll({s->BindText(":deployment", deployment_id), s->BindText(":device", device_id)});
      !b) {
    return Fail(b.error());
  }
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<DeviceRollout>();
  auto rollout = ReadRollout(*s);
  if (!rollout) return Fail(rollout.error());
  return std::optional<DeviceRollout>(std::move(*rollout));
}

Result<std::vector<DeviceHistoryEntry>> SqliteDeploymentStore::DeviceHistory(
    std::string_view device_id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT r.deployment_id, r.device_id, r.phase, r.state, r.director_assigned,"
      " r.assigned_at, r.updated_at, r.deadline, r.message, r.log_tail, d.seq, d.state"
      " FROM deployment_devices r JOIN deployments d ON d.id = r.deployment_id"
      " WHERE r.device_id = :device");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":device", device_id); !b) return Fail(b.error());
  // Sorted here rather than by ORDER BY: a device has a handful of rows, most have none, and
  // SQLite set up a sorter (a 4 KiB allocation) for every check-in even when no row came.
  auto entries =
      ReadAll<DeviceHistoryEntry>(*s, [](const Statement& st) -> Result<DeviceHistoryEntry> {
        DeviceHistoryEntry e;
        auto rollout = ReadRollout(st);
        if (!rollout) return Fail(rollout.error());
        e.rollout = std::move(*rollout);
        e.deployment_seq = st.ColumnInt64(10);
        auto state = ParseDeploymentState(st.ColumnText(11));
        if (!state) return Fail(Corrupt("state", e.rollout.deployment_id));
        e.deployment_state = *state;
        return e;
      });
  if (entries) {
    std::sort(entries->begin(), entries->end(),
              [](const auto& a, const auto& b) { return a.deployment_seq > b.deployment_seq; });
  }
  return entries;
}

Status SqliteDeploymentStore::PutRollouts(std::span<const DeviceRollout> rows) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto tx = Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  for (const DeviceRollout& r : rows) {
    auto s = (*db)->PrepareCached(
        "INSERT INTO deployment_devices (" + std::string(kRolloutColumns) +
        ") VALUES (:deployment, :device, :phase, :state, :assigned, :assigned_at, :updated,"
        " :deadline, :message, :log_tail)"
        " ON CONFLICT (deployment_id, device_id) DO UPDATE SET phase = excluded.phase,"
        " state = excluded.state, director_assigned = excluded.director_assigned,"
        " assigned_at = excluded.assigned_at, updated_at = excluded.updated_at,"
        " deadline = excluded.deadline, message = excluded.message,"
        " log_tail = excluded.log_tail");
    if (!s) return Fail(s.error());
    if (Status b = BindAll({
            s->BindText(":deployment", r.deployment_id),
            s->BindText(":device", r.device_id),
            s->BindInt64(":phase", r.phase),
            s->BindText(":state", RolloutStateName(r.state)),
            s->BindInt64(":assigned", r.director_assigned ? 1 : 0),
            s->BindText(":assigned_at", Time(r.assigned_at)),
            s->BindText(":updated", Time(r.updated_at)),
            s->BindText(":deadline", Time(r.deadline)),
            s->BindText(":message", r.message),
            s->BindText(":log_tail", r.log_tail),
        });
        !b) {
      return b;
    }
    if (Status run = s->Run(); !run) {
      // The only UNIQUE constraint an upsert can still break is one assigned row per device;
      // foreign keys (unknown deployment) already come back as kInvalidArgument.
      if (run.error().code() == Errc::kAlreadyExists) {
        return Fail(Errc::kInvalidArgument,
                    "device " + r.device_id + " would be assigned by two deployments");
      }
      return run;
    }
  }
  return tx->Commit();
}

Result<std::int64_t> SqliteDeploymentStore::FailOverdue(Timestamp now, std::string_view message) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE deployment_devices SET state = 'failed', message = :message, updated_at = :now"
      " WHERE state IN ('pending', 'downloading', 'installing', 'rebooting')"
      " AND deadline <= :now"
      " AND deployment_id IN (SELECT id FROM deployments WHERE state IN ('active', 'paused'))");
  if (!s) return Fail(s.error());
  if (Status b = BindAll({s->BindText(":message", message), s->BindText(":now", Time(now))}); !b) {
    return Fail(b.error());
  }
  if (Status r = s->Run(); !r) return Fail(r.error());
  return (*db)->Changes();
}

Result<std::vector<RolloutCount>> SqliteDeploymentStore::CountRollouts(
    std::string_view deployment_id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT phase, state, COUNT(*) FROM deployment_devices WHERE deployment_id = :deployment"
      " GROUP BY phase, state ORDER BY phase, state");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":deployment", deployment_id); !b) return Fail(b.error());
  return ReadAll<RolloutCount>(*s, [&](const Statement& st) -> Result<RolloutCount> {
    auto state = ParseRolloutState(st.ColumnText(1));
    if (!state) return Fail(Corrupt("rollout state", deployment_id));
    return RolloutCount{st.ColumnInt64(0), *state, st.ColumnInt64(2)};
  });
}

Result<std::vector<DeviceRollout>> SqliteDeploymentStore::ListRollouts(
    std::string_view deployment_id, std::string_view after_device_id, std::size_t limit) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached("SELECT " + std::string(kRolloutColumns) +
                                " FROM deployment_devices WHERE deployment_id = :deployment"
                                " AND device_id > :after ORDER BY device_id LIMIT :limit");
  if (!s) return Fail(s.error());
  if (Status b =
          BindAll({s->BindText(":deployment", deployment_id),
                   s->BindText(":after", after_device_id), s->BindInt64(":limit", Limit(limit))});
      !b) {
    return Fail(b.error());
  }
  return ReadAll<DeviceRollout>(*s, [](const Statement& st) { return ReadRollout(st); });
}

}  // namespace aloft::server::deployments::sqlite
