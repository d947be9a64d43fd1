#include "server/groups/sqlite/sqlite_group_store.hpp"

#include <algorithm>
#include <chrono>
#include <initializer_list>

namespace aloft::server::groups::sqlite {
namespace {

using platform::sqlite::Database;
using platform::sqlite::Statement;
using platform::sqlite::Transaction;

constexpr std::chrono::milliseconds kLeaseTimeout{5000};

// Name, creation and the member count from one correlated sub-query (an index range scan of
// the primary key per group).
constexpr std::string_view kGroupSelect =
    "SELECT g.name, g.created_at, g.created_by,"
    " (SELECT COUNT(*) FROM device_group_members m WHERE m.group_name = g.name)"
    " FROM device_groups g";

Status All(std::initializer_list<Status> binds) {
  for (const Status& b : binds) {
    if (!b) return b;
  }
  return Ok();
}

std::int64_t Limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, kMaxPage));
}

Result<Group> ReadGroup(const Statement& s) {
  auto created = ParseTimestamp(s.ColumnText(1));
  if (!created) return Fail(Errc::kCorrupt, "stored group is unreadable");
  return Group{s.ColumnText(0), *created, s.ColumnText(2), s.ColumnInt64(3)};
}

Result<std::vector<std::string>> Texts(Statement& s) {
  std::vector<std::string> out;
  while (true) {
    auto row = s.Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    out.push_back(s.ColumnText(0));
  }
}

Result<bool> Exists(Database& db, std::string_view sql, std::string_view value) {
  auto s = db.PrepareCached(sql);
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":value", value); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  return *row;
}

Error NoSuchGroup(std::string_view name) {
  return Error(Errc::kNotFound, "no group '" + std::string(name.substr(0, 64)) + "'");
}

}  // namespace

Status SqliteGroupStore::InsertGroup(const Group& group) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "INSERT INTO device_groups (name, created_at, created_by) VALUES (:name, :at, :by)");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":name", group.name),
                      s->BindText(":at", FormatTimestamp(group.created_at)),
                      s->BindText(":by", group.created_by)});
      !b) {
    return b;
  }
  if (Status r = s->Run(); !r) {
    if (r.error().code() == Errc::kAlreadyExists) {
      return Fail(Errc::kAlreadyExists, "a group named '" + group.name + "' exists already");
    }
    return r;
  }
  return Ok();
}

Result<Group> SqliteGroupStore::GetGroup(std::string_view name) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(std::string(kGroupSelect) + " WHERE g.name = :name");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":name", name); !b) return Fail(b.error());
  auto row = s->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(NoSuchGroup(name));
  return ReadGroup(*s);
}

Result<std::vector<Group>> SqliteGroupStore::ListGroups(std::string_view after_name,
                                                        std::size_t limit) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(std::string(kGroupSelect) +
                                " WHERE g.name > :after ORDER BY g.name LIMIT :limit");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":after", after_name), s->BindInt64(":limit", Limit(limit))});
      !b) {
    return Fail(b.error());
  }
  std::vector<Group> out;
  while (true) {
    auto row = s->Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    auto group = ReadGroup(*s);
    if (!group) return Fail(group.error());
    out.push_back(std::move(*group));
  }
}

Status SqliteGroupStore::DeleteGroup(std::string_view name) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  // Memberships go with it (ON DELETE CASCADE).
  auto s = (*db)->PrepareCached("DELETE FROM device_groups WHERE name = :name");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":name", name); !b) return b;
  if (Status r = s->Run(); !r) return r;
  if ((*db)->Changes() == 0) return Fail(NoSuchGroup(name));
  return Ok();
}

Result<std::vector<std::string>> SqliteGroupStore::ListMembers(std::string_view name,
                                                               std::string_view after_device_id,
                                                               std::size_t limit) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto exists = Exists(**db, "SELECT 1 FROM device_groups WHERE name = :value", name);
  if (!exists) return Fail(exists.error());
  if (!*exists) return Fail(NoSuchGroup(name));
  auto s = (*db)->PrepareCached(
      "SELECT device_id FROM device_group_members WHERE group_name = :name AND device_id > :after"
      " ORDER BY device_id LIMIT :limit");
  if (!s) return Fail(s.error());
  if (Status b = All({s->BindText(":name", name), s->BindText(":after", after_device_id),
                      s->BindInt64(":limit", Limit(limit))});
      !b) {
    return Fail(b.error());
  }
  return Texts(*s);
}

Result<MembershipChange> SqliteGroupStore::AddMembers(std::string_view name,
                                                      std::span<const std::string> device_ids,
                                                      Timestamp now) {
  return ChangeMembers(name, device_ids, true, now);
}

Result<MembershipChange> SqliteGroupStore::RemoveMembers(std::string_view name,
                                                         std::span<const std::string> device_ids) {
  return ChangeMembers(name, device_ids, false, Timestamp{});
}

Result<MembershipChange> SqliteGroupStore::ChangeMembers(std::string_view name,
                                                         std::span<const std::string> device_ids,
                                                         bool add, Timestamp now) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto tx = Transaction::Begin(**db);
  if (!tx) return Fail(tx.error());
  auto group = Exists(**db, "SELECT 1 FROM device_groups WHERE name = :value", name);
  if (!group) return Fail(group.error());
  if (!*group) return Fail(NoSuchGroup(name));
  // Every id is checked before anything is written, so a bad list changes nothing.
  MembershipChange change;
  for (const std::string& id : device_ids) {
    auto device = Exists(**db, "SELECT 1 FROM devices WHERE id = :value", id);
    if (!device) return Fail(device.error());
    if (!*device) change.unknown_devices.push_back(id);
  }
  if (!change.unknown_devices.empty()) return change;  // rolled back by ~Transaction
  auto s = (*db)->PrepareCached(
      add ? "INSERT INTO device_group_members (group_name, device_id, added_at)"
            " VALUES (:name, :device, :at) ON CONFLICT DO NOTHING"
          : "DELETE FROM device_group_members WHERE group_name = :name AND device_id = :device");
  if (!s) return Fail(s.error());
  for (const std::string& id : device_ids) {
    Status bound = add ? All({s->BindText(":name", name), s->BindText(":device", id),
                              s->BindText(":at", FormatTimestamp(now))})
                       : All({s->BindText(":name", name), s->BindText(":device", id)});
    if (!bound) return Fail(bound.error());
    if (Status r = s->Run(); !r) return Fail(r.error());
    change.changed += (*db)->Changes();
    s->Reset();
  }
  if (Status c = tx->Commit(); !c) return Fail(c.error());
  return change;
}

Result<std::vector<std::string>> SqliteGroupStore::GroupsOf(std::string_view device_id) {
  auto db = pool_.Acquire(kLeaseTimeout);
  if (!db) return Fail(db.error());
  auto s = (*db)->PrepareCached(
      "SELECT group_name FROM device_group_members WHERE device_id = :device ORDER BY group_name");
  if (!s) return Fail(s.error());
  if (Status b = s->BindText(":device", device_id); !b) return Fail(b.error());
  return Texts(*s);
}

}  // namespace aloft::server::groups::sqlite
