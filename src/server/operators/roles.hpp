#pragma once

// Operator roles and what each may do: the least-privilege table of the management API
// contract (docs/api). One role per user; an API token carries a role too, never more than
// its owner's.

#include <array>
#include <cstdint>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::server::operators {

enum class Role : std::uint8_t { kAdmin, kReleaseManager, kOperator, kViewer, kAuditor };

enum class Permission : std::uint8_t {
  kUsersManage,           // users.manage
  kTokensManageOwn,       // tokens.manage-own
  kDevicesRead,           // devices.read
  kDevicesManage,         // devices.manage
  kReleasesRead,          // releases.read
  kReleasesManage,        // releases.manage
  kDeploymentsRead,       // deployments.read
  kDeploymentsManage,     // deployments.manage
  kDeploymentsEmergency,  // deployments.emergency (pause-all)
  kAuditRead,             // audit.read
};

inline constexpr std::array<Role, 5> kAllRoles = {Role::kAdmin, Role::kReleaseManager,
                                                  Role::kOperator, Role::kViewer, Role::kAuditor};
inline constexpr std::array<Permission, 10> kAllPermissions = {
    Permission::kUsersManage,     Permission::kTokensManageOwn,   Permission::kDevicesRead,
    Permission::kDevicesManage,   Permission::kReleasesRead,      Permission::kReleasesManage,
    Permission::kDeploymentsRead, Permission::kDeploymentsManage, Permission::kDeploymentsEmergency,
    Permission::kAuditRead};

// Whether `role` grants `permission`, per the contract's table.
bool HasPermission(Role role, Permission permission) noexcept;

// True when every permission of `candidate` is also one of `holder`'s: a user holding `holder`
// may hand `candidate` to an API token. Every role is within itself and within admin.
bool RoleWithin(Role candidate, Role holder) noexcept;

// "admin", "release-manager", "operator", "viewer", "auditor".
std::string_view RoleName(Role role) noexcept;
// Exact names only; kInvalidArgument naming the valid ones otherwise.
Result<Role> ParseRole(std::string_view name);

// "users.manage", "tokens.manage-own", ... as the contract writes them.
std::string_view PermissionName(Permission permission) noexcept;

}  // namespace aloft::server::operators
