#include "server/operators/roles.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace aloft::server::operators {
namespace {

// The contract's table, written out by permission name so a slip in roles.cpp cannot hide
// behind the same enum arithmetic.
const std::map<std::string, std::set<std::string>>& ContractTable() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"users.manage", {"admin"}},
      {"tokens.manage-own", {"admin", "release-manager", "operator", "viewer", "auditor"}},
      {"devices.read", {"admin", "release-manager", "operator", "viewer"}},
      {"devices.manage", {"admin", "operator"}},
      {"releases.read", {"admin", "release-manager", "operator", "viewer"}},
      {"releases.manage", {"admin", "release-manager"}},
      {"deployments.read", {"admin", "release-manager", "operator", "viewer"}},
      {"deployments.manage", {"admin", "release-manager", "operator"}},
      {"deployments.emergency", {"admin", "release-manager", "operator"}},
      {"audit.read", {"admin", "auditor"}},
  };
  return table;
}

TEST(RolesTest, EveryRoleHasExactlyTheContractsPermissions) {
  ASSERT_EQ(ContractTable().size(), kAllPermissions.size());
  for (Permission p : kAllPermissions) {
    auto row = ContractTable().find(std::string(PermissionName(p)));
    ASSERT_NE(row, ContractTable().end()) << PermissionName(p);
    for (Role r : kAllRoles) {
      EXPECT_EQ(HasPermission(r, p), row->second.count(std::string(RoleName(r))) == 1)
          << RoleName(r) << " / " << PermissionName(p);
    }
  }
}

TEST(RolesTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Role r : kAllRoles) {
    auto parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, r);
  }
  for (const char* bad : {"", "Admin", "root", "admin ", "release_manager", "viewer\n"}) {
    auto parsed = ParseRole(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), Errc::kInvalidArgument);
  }
}

TEST(RolesTest, RoleWithinMeansPermissionSubset) {
  for (Role candidate : kAllRoles) {
    for (Role holder : kAllRoles) {
      bool subset = true;
      for (Permission p : kAllPermissions) {
        if (HasPermission(candidate, p) && !HasPermission(holder, p)) subset = false;
      }
      EXPECT_EQ(RoleWithin(candidate, holder), subset)
          << RoleName(candidate) << " within " << RoleName(holder);
    }
  }
  // The cases the token rules depend on, spelled out.
  EXPECT_TRUE(RoleWithin(Role::kViewer, Role::kReleaseManager));
  EXPECT_TRUE(RoleWithin(Role::kViewer, Role::kOperator));
  EXPECT_TRUE(RoleWithin(Role::kAuditor, Role::kAdmin));
  EXPECT_FALSE(RoleWithin(Role::kViewer, Role::kAuditor));
  EXPECT_FALSE(RoleWithin(Role::kAuditor, Role::kViewer));
  EXPECT_FALSE(RoleWithin(Role::kOperator, Role::kReleaseManager));
  EXPECT_FALSE(RoleWithin(Role::kAdmin, Role::kOperator));
}

}  // namespace
}  // namespace aloft::server::operators
