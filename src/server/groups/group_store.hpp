#pragma once

// Where static groups and their members are kept, behind an interface (SQLite today in
// groups/sqlite; PostgreSQL can plug in). The store enforces referential rules (a member is
// an existing device; removing a group or a device removes its memberships) but no policy:
// GroupService decides who may do what and audits it.
//
// Thread-safety: implementations must allow calls from several threads at once; every
// multi-row write is one transaction.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/groups/group.hpp"

namespace aloft::server::groups {

class GroupStore {
 public:
  virtual ~GroupStore() = default;

  // kAlreadyExists when the name is taken (`members` is ignored).
  virtual Status InsertGroup(const Group& group) = 0;
  // With its member count. kNotFound when there is no such group.
  virtual Result<Group> GetGroup(std::string_view name) = 0;
  // Groups by name after `after_name` ("" for the first page), at most `limit`, with counts.
  virtual Result<std::vector<Group>> ListGroups(std::string_view after_name, std::size_t limit) = 0;
  // Deletes the group and its memberships. kNotFound when there is no such group.
  virtual Status DeleteGroup(std::string_view name) = 0;

  // Member device ids by id after `after_device_id`, at most `limit`. kNotFound for an
  // unknown group.
  virtual Result<std::vector<std::string>> ListMembers(std::string_view name,
                                                       std::string_view after_device_id,
                                                       std::size_t limit) = 0;
  // Adds (or removes) memberships in one transaction. Ids that name no device are returned in
  // unknown_devices and then nothing is written. kNotFound for an unknown group.
  virtual Result<MembershipChange> AddMembers(std::string_view name,
                                              std::span<const std::string> device_ids,
                                              Timestamp now) = 0;
  virtual Result<MembershipChange> RemoveMembers(std::string_view name,
                                                 std::span<const std::string> device_ids) = 0;

  // The groups `device_id` belongs to, by name (empty for an unknown device).
  virtual Result<std::vector<std::string>> GroupsOf(std::string_view device_id) = 0;
};

}  // namespace aloft::server::groups
