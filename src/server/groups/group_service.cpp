#include "server/groups/group_service.hpp"

#include <algorithm>
#include <iostream>

#include "core/codec/json.hpp"
#include "core/wire/device_api.hpp"

namespace aloft::server::groups {
namespace {

using core::codec::Json;

// Error messages quote at most this many ids, so a 1000-id mistake stays readable.
constexpr std::size_t kIdsQuoted = 20;

std::string Quote(std::span<const std::string> ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < kIdsQuoted; ++i) {
    if (i > 0) out += ", ";
    out += ids[i];
  }
  if (ids.size() > kIdsQuoted) out += " and " + std::to_string(ids.size() - kIdsQuoted) + " more";
  return out;
}

Status CheckDeviceIds(std::span<const std::string> ids) {
  if (ids.empty()) return Fail(Errc::kInvalidArgument, "devices must list at least one device id");
  if (ids.size() > kMaxMembersPerChange) {
    return Fail(Errc::kInvalidArgument, "devices lists more than " +
                                            std::to_string(kMaxMembersPerChange) +
                                            " ids; change the group in several requests");
  }
  for (const std::string& id : ids) {
    if (!core::wire::IsValidId(id)) {
      return Fail(Errc::kInvalidArgument,
                  "devices: '" + id.substr(0, 64) + "' is not a valid device id");
    }
  }
  return Ok();
}

std::string Target(std::string_view name) { return std::string(name.substr(0, 64)); }

}  // namespace

Status GroupService::Record(std::string_view actor, std::string_view action,
                            std::string_view target, audit::Outcome outcome, Json details) {
  auto appended = audit_.Append(
      {std::string(actor), std::string(action), std::string(target), outcome, std::move(details)});
  if (appended) return Ok();
  // The record is lost: say loudly what it was (group events carry no secrets).
  Json line = Json::Object{{"level", "error"},
                           {"event", "audit_append_failed"},
                           {"action", std::string(action)},
                           {"actor", std::string(actor)},
                           {"target", std::string(target)},
                           {"error", appended.error().ToString()}};
  std::cerr << core::codec::DumpJson(line) + "\n";
  return Fail(appended.error());
}

Status GroupService::RecordFailure(std::string_view actor, std::string_view action,
                                   std::string_view target, const Error& error) {
  return Record(actor, action, Target(target), audit::Outcome::kFailure,
                Json::Object{{"error", error.message().substr(0, 1024)}});
}

Result<Group> GroupService::Create(std::string_view actor, std::string_view name) {
  Group group{std::string(name), std::chrono::floor<std::chrono::seconds>(clock_.Now()),
              std::string(actor), 0};
  Status s = CheckGroupName(name);
  if (s) s = store_.InsertGroup(group);
  if (!s) {
    (void)RecordFailure(actor, kActionCreate, name, s.error());
    return Fail(s.error());
  }
  if (Status r = Record(actor, kActionCreate, name, audit::Outcome::kSuccess, Json::Object{}); !r) {
    return Fail(r.error());
  }
  return group;
}

Result<std::vector<Group>> GroupService::List(std::string_view after, std::size_t limit) {
  return store_.ListGroups(after, std::clamp<std::size_t>(limit, 1, kMaxPage));
}

Result<GroupMembers> GroupService::Get(std::string_view name, std::string_view after,
                                       std::size_t limit) {
  if (Status s = CheckGroupName(name); !s) return Fail(s.error());
  limit = std::clamp<std::size_t>(limit, 1, kMaxPage);
  auto group = store_.GetGroup(name);
  if (!group) return Fail(group.error());
  auto devices = store_.ListMembers(name, after, limit);
  if (!devices) return Fail(devices.error());
  GroupMembers out{std::move(*group), std::move(*devices), ""};
  // A full page may have a next one.
  if (out.devices.size() == limit) out.next_after = out.devices.back();
  return out;
}

Result<MembershipChange> GroupService::AddMembers(std::string_view actor, std::string_view name,
                                                  std::span<const std::string> device_ids) {
  return Change(actor, name, device_ids, true);
}

Result<MembershipChange> GroupService::RemoveMembers(std::string_view actor, std::string_view name,
                                                     std::span<const std::string> device_ids) {
  return Change(actor, name, device_ids, false);
}

Result<MembershipChange> GroupService::Change(std::string_view actor, std::string_view name,
                                              std::span<const std::string> device_ids, bool add) {
  const std::string_view action = add ? kActionMembersAdd : kActionMembersRemove;
  auto fail = [&](const Error& error) -> Result<MembershipChange> {
    (void)RecordFailure(actor, action, name, error);
    return Fail(error);
  };
  if (Status s = CheckGroupName(name); !s) return fail(s.error());
  if (Status s = CheckDeviceIds(device_ids); !s) return fail(s.error());
  auto change = add ? store_.AddMembers(name, device_ids, clock_.Now())
                    : store_.RemoveMembers(name, device_ids);
  if (!change) return fail(change.error());
  if (!change->unknown_devices.empty()) {
    return fail(Error(Errc::kInvalidArgument, "unknown device ids (nothing was changed): " +
                                                  Quote(change->unknown_devices)));
  }
  // The ids themselves go into the record (bounded by the audit's details cap: long lists are
  // summarised by count).
  Json details = Json::Object{{"changed", change->changed},
                              {"devices", static_cast<std::int64_t>(device_ids.size())}};
  if (device_ids.size() <= kIdsQuoted) {
    details["ids"] = Json::Array(device_ids.begin(), device_ids.end());
  }
  if (Status r = Record(actor, action, name, audit::Outcome::kSuccess, std::move(details)); !r) {
    return Fail(r.error());
  }
  return change;
}

Status GroupService::Delete(std::string_view actor, std::string_view name) {
  auto fail = [&](const Error& error) -> Status {
    (void)RecordFailure(actor, kActionDelete, name, error);
    return Fail(error);
  };
  if (Status s = CheckGroupName(name); !s) return fail(s.error());
  if (auto group = store_.GetGroup(name); !group) return fail(group.error());
  auto users = usage_(name);
  if (!users) return fail(users.error());
  if (!users->empty()) {
    return fail(Error(Errc::kAlreadyExists, "group '" + std::string(name) +
                                                "' is targeted by deployment(s) " + Quote(*users) +
                                                "; cancel them or wait until they complete"));
  }
  if (Status s = store_.DeleteGroup(name); !s) return fail(s.error());
  return Record(actor, kActionDelete, name, audit::Outcome::kSuccess, Json::Object{});
}

}  // namespace aloft::server::groups
