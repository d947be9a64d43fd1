#pragma once

// Static device groups, the business rules without HTTP:
//
//   - names are checked (CheckGroupName) before anything reaches the store;
//   - adding or removing members names device ids; ids that are not devices refuse the whole
//     change (kInvalidArgument listing them) and nothing is written; adding a member twice or
//     removing a non-member is harmless;
//   - a group that an active or paused deployment targets cannot be deleted (kAlreadyExists,
//     which the API answers with 409, naming the deployments): cancel them, or let them
//     complete, first. Deleting it would silently stop their rollouts.
//
// Audit: every change and every refused change is appended to the AuditLog with the
// operator's name: group.create, group.delete, group.members_add, group.members_remove
// (outcome success, or failure with details.error). When a successful change cannot be
// audited, the call fails with that error (the change stands, as in OperatorService).
//
// Thread-safety: all methods may be called from any thread. Store, audit log and clock must
// outlive the service.

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/audit/audit_log.hpp"
#include "server/groups/group.hpp"
#include "server/groups/group_store.hpp"

namespace aloft::server::groups {

inline constexpr std::string_view kActionCreate = "group.create";
inline constexpr std::string_view kActionDelete = "group.delete";
inline constexpr std::string_view kActionMembersAdd = "group.members_add";
inline constexpr std::string_view kActionMembersRemove = "group.members_remove";

// One group with a page of its members.
struct GroupMembers {
  Group group;
  std::vector<std::string> devices;  // by id
  std::string next_after;            // pass as `after` for the next page; "" on the last
};

// The ids of the active or paused deployments that target group `name` (wired to the
// deployment service by the composition root).
using GroupUsage = std::function<Result<std::vector<std::string>>(std::string_view name)>;

class GroupService {
 public:
  GroupService(GroupStore& store, audit::AuditLog& audit, const Clock& clock, GroupUsage usage)
      : store_(store), audit_(audit), clock_(clock), usage_(std::move(usage)) {}

  // kInvalidArgument (name), kAlreadyExists.
  Result<Group> Create(std::string_view actor, std::string_view name);
  // Groups by name after `after` with member counts; limit is clamped to 1..kMaxPage.
  Result<std::vector<Group>> List(std::string_view after, std::size_t limit);
  // kInvalidArgument (name), kNotFound.
  Result<GroupMembers> Get(std::string_view name, std::string_view after, std::size_t limit);
  // kInvalidArgument for a bad name, an empty list, more than kMaxMembersPerChange ids, an
  // invalid device id, or ids that are not devices (listed; nothing changed); kNotFound for an
  // unknown group. Returns the group afterwards and how many memberships changed.
  Result<MembershipChange> AddMembers(std::string_view actor, std::string_view name,
                                      std::span<const std::string> device_ids);
  Result<MembershipChange> RemoveMembers(std::string_view actor, std::string_view name,
                                         std::span<const std::string> device_ids);
  // kInvalidArgument (name), kNotFound, kAlreadyExists while a deployment targets it.
  Status Delete(std::string_view actor, std::string_view name);

 private:
  Result<MembershipChange> Change(std::string_view actor, std::string_view name,
                                  std::span<const std::string> device_ids, bool add);
  Status Record(std::string_view actor, std::string_view action, std::string_view target,
                audit::Outcome outcome, core::codec::Json details);
  Status RecordFailure(std::string_view actor, std::string_view action, std::string_view target,
                       const Error& error);

  GroupStore& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  GroupUsage usage_;
};

}  // namespace aloft::server::groups
