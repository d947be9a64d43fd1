#pragma once

// Who is calling the management API, and may they? Every management route starts with
// AuthenticateOperator. Credentials, in this order:
//   Authorization: Bearer alo_<secret>   an API token (aloftctl, scripts)
//   Cookie: aloft_session=<secret>       a console session; every request other than
//                                        GET/HEAD/OPTIONS must also carry X-CSRF-Token
// Answers (JSON errors as in the contract):
//   401 unauthenticated            no, malformed, unknown or expired credentials
//   403 csrf_failed                cookie session without the right X-CSRF-Token
//   403 password_change_required   the account still has its one-time password
//   403 forbidden                  authenticated, but the role lacks the permission
// Audited: rejected API tokens (auth.rejected), CSRF failures (auth.csrf_rejected) and
// permission denials (auth.permission_denied). Absent or expired session cookies are routine
// (a console left open) and are not audited.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/audit/audit_log.hpp"
#include "server/http/request.hpp"
#include "server/http/response.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/principal.hpp"

namespace aloft::server::api {

struct OperatorApiDeps {
  operators::OperatorService& operators;
  audit::AuditLog& audit;
  // Mark the session cookie Secure on plain-HTTP requests too. Set it when aloftd runs
  // behind a TLS-terminating proxy (the public URL is https); TLS requests always get it.
  bool secure_cookie_without_tls = false;
};

inline constexpr std::string_view kSessionCookieName = "aloft_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The operator behind `request` if it holds `permission`; otherwise the response to send.
std::variant<operators::Principal, http::Response> AuthenticateOperator(
    const http::Request& request, OperatorApiDeps& deps, operators::Permission permission);

// Any authenticated operator (CSRF still checked), with no permission check and even while
// a password change is pending: for the caller's own session and password.
std::variant<operators::Principal, http::Response> AuthenticateAnyOperator(
    const http::Request& request, OperatorApiDeps& deps);

// The aloft_session cookie's value: "" when absent; nullopt when it is there more than once
// with different values (cookie tossing: refuse rather than pick one).
std::optional<std::string> SessionCookie(const http::Headers& headers);

// "aloft_session=<value>; Path=/; HttpOnly; SameSite=Strict; Max-Age=<n>[; Secure]".
// An empty value with max_age 0 clears the cookie.
std::string SessionCookieHeader(std::string_view value, std::chrono::seconds max_age, bool secure);

// Appends an audit record about a request. A failure to append is reported on stderr; it
// does not change the answer (the callers are denials, which stay denials).
void AuditRequest(OperatorApiDeps& deps, std::string_view actor, std::string_view action,
                  std::string_view target, audit::Outcome outcome, core::codec::Json details);

}  // namespace aloft::server::api
