#pragma once

// Static device groups: named lists of devices an operator manages ("lab-rack-2",
// "customer-acme"). A deployment may target a group by name; who is in it is read when each
// device checks in (deployments/), so a group's membership can change during a rollout and a
// device added later is admitted at its next check-in.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/base/time.hpp"

namespace aloft::server::groups {

inline constexpr std::size_t kMaxGroupNameBytes = 64;
// Device ids per add or remove request: larger changes are made in several requests.
inline constexpr std::size_t kMaxMembersPerChange = 1000;
// Rows per page of groups or members.
inline constexpr std::size_t kMaxPage = 1000;

struct Group {
  std::string name;
  Timestamp created_at{};
  std::string created_by;  // the operator who created it
  std::int64_t members = 0;
};

// 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit, without
// "..": safe in URLs, file names and logs, and never a path traversal. kInvalidArgument.
Status CheckGroupName(std::string_view name);

// The outcome of adding or removing members. When `unknown_devices` is not empty, the change
// was refused as a whole and nothing was written.
struct MembershipChange {
  std::int64_t changed = 0;  // memberships added (or removed); already-so ids do not count
  std::vector<std::string> unknown_devices;
};

}  // namespace aloft::server::groups
