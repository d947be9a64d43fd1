#pragma once

// The deployment service's view of static groups (deployments::GroupMembership), answered by
// the group store: admission reads a device's groups at its check-in.

#include "server/deployments/ports.hpp"
#include "server/groups/group_store.hpp"

namespace aloft::server::app {

class GroupMembershipAdapter final : public deployments::GroupMembership {
 public:
  explicit GroupMembershipAdapter(groups::GroupStore& store) : store_(store) {}
  Result<bool> Exists(std::string_view group) override {
    auto found = store_.GetGroup(group);
    if (found) return true;
    if (found.error().code() == Errc::kNotFound) return false;
    return Fail(found.error());
  }
  Result<std::vector<std::string>> GroupsOf(std::string_view device_id) override {
    return store_.GroupsOf(device_id);
  }

 private:
  groups::GroupStore& store_;
};

}  // namespace aloft::server::app
