#include "server/store/sqlite/sqlite_device_store.hpp"

#include <algorithm>
#include <chrono>

namespace aloft::server::store::sqlite {
namespace {

using core::codec::Json;
using platform::sqlite::Statement;
namespace wire = core::wire;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};
constexpr std::size_t kMaxPage = 1000;

constexpr std::string_view kDeviceColumns =
    "id, hardware_id, public_key, key_id, status, created_at, updated_at,"
    " (SELECT seen_at FROM device_last_seen WHERE device_id = devices.id),"
    " image_sha256, image_version, agent_version, security_counter, attributes";

// A device's first last-seen time (unix seconds), or a move of it if another connection
// recorded one meanwhile. Bound: :id, :at. The SELECT skips an id with no device (the foreign
// key would otherwise fail the whole batch).
constexpr std::string_view kInsertLastSeen =
    "INSERT INTO device_last_seen (device_id, seen_at)"
    " SELECT :id, :at WHERE EXISTS (SELECT 1 FROM devices WHERE id = :id)"
    " ON CONFLICT (device_id) DO UPDATE SET seen_at = excluded.seen_at";

std::int64_t UnixSeconds(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Time(Timestamp t) { return FormatTimestamp(t); }

// A stored value that does not parse means the database was changed behind our back.
Error CorruptRow(std::string_view what) {
  return Error(Errc::kCorrupt, "stored " + std::string(what) + " is unreadable");
}

// The columns image_sha256, image_version, agent_version, security_counter, attributes, from
// index `first` on.
Status ReadInventory(const Statement& s, int first, const std::string& hardware_id,
                     wire::Inventory& inventory) {
  inventory.hardware_id = hardware_id;
  inventory.image_sha256 = s.ColumnText(first);
  inventory.image_version = s.ColumnText(first + 1);
  inventory.agent_version = s.ColumnText(first + 2);
  inventory.security_counter = s.ColumnInt64(first + 3);
  auto attrs = core::codec::ParseJson(s.ColumnText(first + 4));
  if (!attrs || !attrs->IsObject()) return Fail(CorruptRow("device attributes"));
  for (const auto& [k, v] : attrs->AsObject()) {
    if (v.IsString()) inventory.attributes.emplace(k, v.AsString());
  }
  return Ok();
}

Result<DeviceRow> ReadDevice(const Statement& s) {
  DeviceRow d;
  d.id = s.ColumnText(0);
  d.hardware_id = s.ColumnText(1);
  auto key = core::codec::ParseJson(s.ColumnText(2));
  if (!key) return Fail(CorruptRow("device key"));
  d.public_key = std::move(*key);
  d.key_id = s.ColumnText(3);
  auto status = wire::ParseEnrollmentStatus(s.ColumnText(4));
  if (!status) return Fail(CorruptRow("device status"));
  d.status = *status;
  auto created = ParseTimestamp(s.ColumnText(5));
  auto updated = ParseTimestamp(s.ColumnText(6));
  if (!created || !updated) return Fail(CorruptRow("device timestamps"));
  d.created_at = *created;
  d.updated_at = *updated;
  if (!s.IsNull(7)) d.last_seen_at = Timestamp(std::chrono::seconds(s.ColumnInt64(7)));
  if (Status inv = ReadInventory(s, 8, d.hardware_id, d.inventory); !inv) return Fail(inv.error());
  return d;
}

// Runs a statement that must change exactly one row; kNotFound otherwise.
Status RunOne(platform::sqlite::Database& db, Statement& s, std::string_view what) {
  if (Status r = s.Run(); !r) return r;
  if (db.Changes() == 0) return Fail(Errc::kNotFound, std::string(what) + " not found");
  return Ok();
}

// Moves a device's last-seen time, or records its first; false when there is no such device.
// The common case, a device seen before, is one UPDATE of the narrow table: the existence
// check against `devices` runs only for a first sighting.
Result<bool> RecordLastSeen(platform::sqlite::Database& db, std::string_view id, Timestamp at) {
  for (std::string_view sql :
       {std::string_view("UPDATE device_last_seen SET seen_at = :at WHERE device_id = :id"),
        kInsertLastSeen}) {
    auto s = db.PrepareCached(sql);
    if (!s) return Fail(s.error());
    for (Status b : {s->BindText(":id", id), s->BindInt64(":at", UnixSeconds(at))}) {
      if (!b) return Fail(b.error());
    }
    if (Status r = s->Run(); !r) return Fail(r.error());
    if (db.Changes() > 0) return true;
  }
  return false;
}

}  // namespace

Result<platform::sqlite::ConnectionPool::Lease> SqliteDeviceStore::Lease() {
  return pool_.Acquire(kLeaseTimeout);
}

Result<DeviceRow> SqliteDeviceStore::GetDevice(std::string_view id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  // Built once: this runs on every authenticated device request.
  static const std::string kSql =
      "SELECT " + std::string(kDeviceColumns) + " FROM devices WHERE id = :id";
  auto s = (*db)->PrepareCached(kSql);
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":id", id); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Errc::kNotFound, "device not found");
  return ReadDevice(*s);
}

Result<DeviceState> SqliteDeviceStore::GetDeviceState(std::string_view id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT hardware_id, status, image_sha256, image_version, agent_version, security_counter,"
      " attributes FROM devices WHERE id = :id");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":id", id); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Errc::kNotFound, "device not found");
  DeviceState d;
  d.id = std::string(id);
  d.hardware_id = s->ColumnText(0);
  auto status = wire::ParseEnrollmentStatus(s->ColumnText(1));
  if (!status) return Fail(CorruptRow("device status"));
  d.status = *status;
  if (Status inv = ReadInventory(*s, 2, d.hardware_id, d.inventory); !inv) return Fail(inv.error());
  return d;
}

Status SqliteDeviceStore::InsertDevice(const DeviceRow& d) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO devices (id, hardware_id, public_key, key_id, status, created_at, updated_at)"
      " VALUES (:id, :hw, :key, :key_id, :status, :now, :now)");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":id", d.id), s->BindText(":hw", d.hardware_id),
                   s->BindText(":key", core::codec::CanonicalJson(d.public_key)),
                   s->BindText(":key_id", d.key_id),
                   s->BindText(":status", wire::EnrollmentStatusName(d.status)),
                   s->BindText(":now", Time(d.created_at))}) {
    if (!b) return b;
  }
  if (Status r = s->Run(); !r) {
    if (r.error().code() == Errc::kAlreadyExists) {
      return Fail(Errc::kAlreadyExists, "a device with this id or key is already enrolled");
    }
    return r;
  }
  return Ok();
}

Status SqliteDeviceStore::SetDeviceStatus(std::string_view id, wire::EnrollmentStatus status,
                                          Timestamp now) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "UPDATE devices SET status = :status, updated_at = :now WHERE id = :id");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":status", wire::EnrollmentStatusName(status)),
                   s->BindText(":now", Time(now)), s->BindText(":id", id)}) {
    if (!b) return b;
  }
  return RunOne(**db, *s, "device");
}

Status SqliteDeviceStore::RecordInventory(std::string_view id, const wire::Inventory& inv,
                                          Timestamp now) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  Json::Object attrs;
  for (const auto& [k, v] : inv.attributes) attrs.emplace(k, v);
  auto tx = platform::sqlite::Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  auto s = (*db)->PrepareCached(
      "UPDATE devices SET image_sha256 = :sha, image_version = :version, agent_version = :agent,"
      " security_counter = :counter, attributes = :attrs, updated_at = :now WHERE id = :id");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":sha", inv.image_sha256),
                   s->BindText(":version", inv.image_version),
                   s->BindText(":agent", inv.agent_version),
                   s->BindInt64(":counter", inv.security_counter),
                   s->BindText(":attrs", core::codec::CanonicalJson(Json(std::move(attrs)))),
                   s->BindText(":now", Time(now)), s->BindText(":id", id)}) {
    if (!b) return b;
  }
  if (Status r = RunOne(**db, *s, "device"); !r) return r;
  if (auto r = RecordLastSeen(**db, id, now); !r) return Fail(r.error());
  return tx->Commit();
}

Status SqliteDeviceStore::TouchDevice(std::string_view id, Timestamp now) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto recorded = RecordLastSeen(**db, id, now);
  if (!recorded) return Fail(recorded.error());
  if (!*recorded) return Fail(Errc::kNotFound, "device not found");
  return Ok();
}

Status SqliteDeviceStore::TouchDevices(const std::vector<DeviceSeen>& seen) {
  if (seen.empty()) return Ok();
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto tx = platform::sqlite::Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  for (const DeviceSeen& d : seen) {
    if (auto r = RecordLastSeen(**db, d.id, d.at); !r) return Fail(r.error());
  }
  return tx->Commit();
}

Result<std::vector<DeviceRow>> SqliteDeviceStore::ListDevices(const DeviceFilter& f) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  // Fixed SQL with optional filters (":x IS NULL OR col = :x"), so every filter is a bound
  // parameter and the statement is cached once.
  auto s = (*db)->PrepareCached(
      "SELECT " + std::string(kDeviceColumns) +
      " FROM devices WHERE id > :after"
      " AND (:status IS NULL OR status = :status)"
      " AND (:hw IS NULL OR hardware_id = :hw)"
      " AND (:version IS NULL OR image_version = :version)"
      // Whole-tag match inside ",a,b,": instr, not LIKE, so the tag needs no escaping.
      " AND (:tag IS NULL OR instr(',' || coalesce(json_extract(attributes, '$.tags'), '') || ',',"
      "                            ',' || :tag || ',') > 0)"
      " ORDER BY id LIMIT :limit");
  if (!s) return Fail(s.error());
  auto bind_opt = [&](const char* name, const std::optional<std::string>& v) {
    return v ? s->BindText(name, *v) : s->BindNull(name);
  };
  std::optional<std::string> status;
  if (f.status) status = std::string(wire::EnrollmentStatusName(*f.status));
  for (Status b : {s->BindText(":after", f.after_id), bind_opt(":status", status),
                   bind_opt(":hw", f.hardware_id), bind_opt(":version", f.image_version),
                   bind_opt(":tag", f.tag),
                   s->BindInt64(":limit", static_cast<std::int64_t>(std::min(f.limit, kMaxPage)))}) {
    if (!b) return Fail(b.error());
  }
  std::vector<DeviceRow> out;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto d = ReadDevice(*s);
    if (!d) return Fail(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

Result<std::vector<DeviceCount>> SqliteDeviceStore::CountDevices() {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT status, hardware_id, image_version, COUNT(*) FROM devices"
      " GROUP BY status, hardware_id, image_version ORDER BY status, hardware_id, image_version");
  if (!s) return Fail(s.error());
  std::vector<DeviceCount> out;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto status = wire::ParseEnrollmentStatus(s->ColumnText(0));
    if (!status) return Fail(Errc::kCorrupt, "devices.status holds an unknown value");
    out.push_back(DeviceCount{*status, s->ColumnText(1), s->ColumnText(2), s->ColumnInt64(3)});
  }
  return out;
}

Result<std::int64_t> SqliteDeviceStore::CountAcceptedNotSeenSince(Timestamp since) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  // devices_by_status narrows to accepted devices; a device never seen has no row.
  auto s = (*db)->PrepareCached(
      "SELECT COUNT(*) FROM devices LEFT JOIN device_last_seen ON device_id = id"
      " WHERE status = 'accepted' AND (seen_at IS NULL OR seen_at < :since)");
  if (!s) return Fail(s.error());
  if (Status b = s->BindInt64(":since", UnixSeconds(since)); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  return *row ? s->ColumnInt64(0) : 0;
}

Result<std::vector<std::string>> SqliteDeviceStore::CommonImages(std::string_view hardware_id,
                                                                 std::size_t limit) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  // devices_by_hardware narrows to the hardware; one pass over its devices, at deployment
  // creation only.
  auto s = (*db)->PrepareCached(
      "SELECT image_sha256 FROM devices WHERE hardware_id = :hw AND status = 'accepted'"
      " AND image_sha256 != '' GROUP BY image_sha256 ORDER BY COUNT(*) DESC, image_sha256"
      " LIMIT :limit");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":hw", hardware_id),
                   s->BindInt64(":limit", static_cast<std::int64_t>(std::min<std::size_t>(
                                              limit, 1000)))}) {
    if (!b) return Fail(b.error());
  }
  std::vector<std::string> out;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    out.push_back(s->ColumnText(0));
  }
}

Status SqliteDeviceStore::Preauthorize(const PreauthorizedKey& key) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO preauthorized_keys (key_id, device_id, hardware_id, created_at)"
      " VALUES (:key_id, :device, :hw, :now)");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":key_id", key.key_id), s->BindText(":device", key.device_id),
                   s->BindText(":hw", key.hardware_id), s->BindText(":now", Time(key.created_at))}) {
    if (!b) return b;
  }
  return s->Run();
}

Result<PreauthorizedKey> SqliteDeviceStore::FindPreauthorized(std::string_view key_id) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT key_id, device_id, hardware_id, created_at FROM preauthorized_keys"
      " WHERE key_id = :key_id");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":key_id", key_id); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Errc::kNotFound, "key is not preauthorized");
  auto created = ParseTimestamp(s->ColumnText(3));
  if (!created) return Fail(CorruptRow("preauthorization time"));
  return PreauthorizedKey{s->ColumnText(0), s->ColumnText(1), s->ColumnText(2), *created};
}

Status SqliteDeviceStore::InsertToken(const EnrollmentToken& t) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO enrollment_tokens (id, token_hash, expires_at, uses_left)"
      " VALUES (:id, :hash, :expires, :uses)");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":id", t.id), s->BindText(":hash", t.token_hash),
                   s->BindText(":expires", Time(t.expires_at)), s->BindInt64(":uses", t.uses_left)}) {
    if (!b) return b;
  }
  return s->Run();
}

Status SqliteDeviceStore::ConsumeToken(std::string_view token_hash, Timestamp now) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  // One statement: the check and the decrement cannot be separated by another request.
  // ISO timestamps in one format compare correctly as text.
  auto s = (*db)->PrepareCached(
      "UPDATE enrollment_tokens SET uses_left = uses_left - 1"
      " WHERE token_hash = :hash AND uses_left > 0 AND expires_at > :now");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":hash", token_hash), s->BindText(":now", Time(now))}) {
    if (!b) return b;
  }
  if (Status r = s->Run(); !r) return r;
  if ((*db)->Changes() == 1) return Ok();
  auto exists = (*db)->PrepareCached("SELECT 1 FROM enrollment_tokens WHERE token_hash = :hash");
  if (!exists) return Fail(exists.error());
  if (Status b = exists->BindText(":hash", token_hash); !b) return b;
  auto row = exists->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Errc::kNotFound, "unknown enrollment token");
  return Fail(Errc::kExpired, "enrollment token expired or used up");
}

Result<bool> SqliteDeviceStore::AddReport(std::string_view device_id, const wire::Report& r,
                                          Timestamp received_at) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO device_reports (id, device_id, deployment_id, state, bytes_done, bytes_total,"
      " message, log_tail, at, received_at) VALUES (:id, :device, :deployment, :state, :done,"
      " :total, :message, :log, :at, :received) ON CONFLICT (device_id, id) DO NOTHING");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":id", r.id), s->BindText(":device", device_id),
                   s->BindText(":deployment", r.deployment_id),
                   s->BindText(":state", wire::UpdateStateName(r.state)),
                   s->BindInt64(":done", r.bytes_done), s->BindInt64(":total", r.bytes_total),
                   s->BindText(":message", r.message), s->BindText(":log", r.log_tail),
                   s->BindText(":at", Time(r.at)), s->BindText(":received", Time(received_at))}) {
    if (!b) return Fail(b.error());
  }
  if (Status run = s->Run(); !run) return Fail(run.error());
  return (*db)->Changes() == 1;
}

Result<std::vector<wire::Report>> SqliteDeviceStore::RecentReports(std::string_view device_id,
                                                                   std::size_t limit) {
  auto db = Lease();
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT id, deployment_id, state, bytes_done, bytes_total, message, log_tail, at"
      " FROM device_reports WHERE device_id = :device ORDER BY seq DESC LIMIT :limit");
  if (!s) return Fail(s.error());
  for (Status b : {s->BindText(":device", device_id),
                   s->BindInt64(":limit", static_cast<std::int64_t>(std::min(limit, kMaxPage)))}) {
    if (!b) return Fail(b.error());
  }
  std::vector<wire::Report> out;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    wire::Report r;
    r.id = s->ColumnText(0);
    r.deployment_id = s->ColumnText(1);
    auto state = wire::ParseUpdateState(s->ColumnText(2));
    auto at = ParseTimestamp(s->ColumnText(7));
    if (!state || !at) return Fail(CorruptRow("report"));
    r.state = *state;
    r.bytes_done = s->ColumnInt64(3);
    r.bytes_total = s->ColumnInt64(4);
    r.message = s->ColumnText(5);
    r.log_tail = s->ColumnText(6);
    r.at = *at;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace aloft::server::store::sqlite
