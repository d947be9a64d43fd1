#pragma once

// The audit actions of operator accounts and the management API, one place for the names
// that auditors search for. Outcome (success / failure / denied) is a separate field, and
// details say why ("reason").

#include <string_view>

namespace aloft::server::operators::actions {

inline constexpr std::string_view kLogin = "session.login";  // failure: invalid_credentials
                                                             // denied: throttled
inline constexpr std::string_view kLogout = "session.logout";
inline constexpr std::string_view kUserCreate = "user.create";  // details.first_admin for init
inline constexpr std::string_view kRoleChange = "user.role_change";
inline constexpr std::string_view kPasswordChange = "user.password_change";
inline constexpr std::string_view kTotpEnable = "user.totp_enable";
inline constexpr std::string_view kTokenCreate = "token.create";
inline constexpr std::string_view kTokenRevoke = "token.revoke";
// Written by the HTTP layer (server/api/operator_auth):
inline constexpr std::string_view kAuthRejected = "auth.rejected";  // bad or expired credentials
inline constexpr std::string_view kPermissionDenied = "auth.permission_denied";
inline constexpr std::string_view kCsrfRejected = "auth.csrf_rejected";
// Written by the audit routes:
inline constexpr std::string_view kAuditVerify = "audit.verify";
inline constexpr std::string_view kAuditExport = "audit.export";

}  // namespace aloft::server::operators::actions
