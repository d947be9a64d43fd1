#pragma once

// Which delegated roles may speak for a target path (TUF §5.6.7.2, TAP 15).

#include <string>
#include <string_view>
#include <vector>

#include "core/metadata/model.hpp"

namespace aloft::core::metadata {

// Shell-style match of one path against a delegation pattern, as python-tuf does it: both
// are split on '/', the segment counts must agree, and each segment matches with '*', '?'
// and '[...]' ('[!...]' negates). Case-sensitive; '*' never crosses a '/'.
bool MatchesPathPattern(std::string_view target_path, std::string_view pattern);

// Whether `role` is trusted for `target_path` (its paths or path_hash_prefixes).
bool IsDelegatedPath(const DelegatedRole& role, std::string_view target_path);

// The hash-bin role of a succinct delegation that holds `target_path`.
std::string SuccinctRoleFor(const SuccinctRoles& succinct, std::string_view target_path);
// Whether `role_name` is one of the bins of `succinct`.
bool IsSuccinctRole(const SuccinctRoles& succinct, std::string_view role_name);

// A delegated role to visit for a target, in the delegator's priority order.
struct ChildRole {
  std::string name;
  bool terminating = false;
  const RoleKeys* keys = nullptr;  // points into the delegations it came from
};
std::vector<ChildRole> RolesForTarget(const Delegations& delegations, std::string_view target_path);

// The keys and threshold with which `delegations` trusts `role_name`, or nullptr.
const RoleKeys* FindDelegatedRoleKeys(const Delegations& delegations, std::string_view role_name);

}  // namespace aloft::core::metadata
