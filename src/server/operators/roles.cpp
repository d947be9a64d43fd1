#include "server/operators/roles.hpp"

#include <string>

namespace aloft::server::operators {
namespace {

// One bit per Permission, in enum order.
using Mask = std::uint16_t;
constexpr Mask Bit(Permission p) { return static_cast<Mask>(1u << static_cast<unsigned>(p)); }

constexpr Mask kRead = Bit(Permission::kDevicesRead) | Bit(Permission::kReleasesRead) |
                       Bit(Permission::kDeploymentsRead);
constexpr Mask kOwnTokens = Bit(Permission::kTokensManageOwn);

// The contract's table, as data: role → permissions.
constexpr Mask MaskOf(Role role) noexcept {
  switch (role) {
    case Role::kAdmin: {
      Mask all = 0;
      for (Permission p : kAllPermissions) all = static_cast<Mask>(all | Bit(p));
      return all;
    }
    case Role::kReleaseManager:
      return kOwnTokens | kRead | Bit(Permission::kReleasesManage) |
             Bit(Permission::kDeploymentsManage) | Bit(Permission::kDeploymentsEmergency);
    case Role::kOperator:
      return kOwnTokens | kRead | Bit(Permission::kDevicesManage) |
             Bit(Permission::kDeploymentsManage) | Bit(Permission::kDeploymentsEmergency);
    case Role::kViewer:
      return kOwnTokens | kRead;
    case Role::kAuditor:
      return kOwnTokens | Bit(Permission::kAuditRead);
  }
  return 0;  // unreachable for valid enum values; grants nothing
}

}  // namespace

bool HasPermission(Role role, Permission permission) noexcept {
  return (MaskOf(role) & Bit(permission)) != 0;
}

bool RoleWithin(Role candidate, Role holder) noexcept {
  return (MaskOf(candidate) & ~MaskOf(holder)) == 0;
}

std::string_view RoleName(Role role) noexcept {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kReleaseManager:
      return "release-manager";
    case Role::kOperator:
      return "operator";
    case Role::kViewer:
      return "viewer";
    case Role::kAuditor:
      return "auditor";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return Fail(Errc::kInvalidArgument,
              "unknown role '" + std::string(name.substr(0, 64)) +
                  "' (use admin, release-manager, operator, viewer or auditor)");
}

std::string_view PermissionName(Permission permission) noexcept {
  switch (permission) {
    case Permission::kUsersManage:
      return "users.manage";
    case Permission::kTokensManageOwn:
      return "tokens.manage-own";
    case Permission::kDevicesRead:
      return "devices.read";
    case Permission::kDevicesManage:
      return "devices.manage";
    case Permission::kReleasesRead:
      return "releases.read";
    case Permission::kReleasesManage:
      return "releases.manage";
    case Permission::kDeploymentsRead:
      return "deployments.read";
    case Permission::kDeploymentsManage:
      return "deployments.manage";
    case Permission::kDeploymentsEmergency:
      return "deployments.emergency";
    case Permission::kAuditRead:
      return "audit.read";
  }
  return "unknown";
}

}  // namespace aloft::server::operators
