#include "server/api/operator_auth.hpp"

#include <algorithm>
#include <iostream>

#include "core/base/bytes.hpp"
#include "core/crypto/hash.hpp"
#include "server/api/error_mapping.hpp"
#include "server/operators/audit_actions.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using http::Request;
using http::Response;
using operators::Principal;
namespace actions = operators::actions;

constexpr std::string_view kBearer = "Bearer ";

Response Unauthenticated(std::string_view message, bool clear_cookie, bool secure) {
  Response r = Response::Error(401, "unauthenticated", message);
  r.headers.Set("WWW-Authenticate", "Bearer realm=\"aloft\"");
  if (clear_cookie) {
    r.headers.Set("Set-Cookie", SessionCookieHeader("", std::chrono::seconds(0), secure));
  }
  return r;
}

bool SafeMethod(http::Method m) {
  return m == http::Method::kGet || m == http::Method::kHead || m == http::Method::kOptions;
}

Json RequestDetails(const Request& request) {
  return Json::Object{{"method", request.method_name.substr(0, 16)},
                      {"path", request.path.substr(0, 200)},
                      {"ip", request.peer_address.substr(0, 64)}};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Authentication and CSRF, no authorization.
std::variant<Principal, Response> Authenticate(const Request& request, OperatorApiDeps& deps) {
  bool secure = request.tls || deps.secure_cookie_without_tls;
  if (const std::string* auth = request.headers.Find("Authorization")) {
    if (!std::string_view(*auth).starts_with(kBearer)) {
      return Unauthenticated("use 'Authorization: Bearer alo_...'", false, secure);
    }
    auto principal =
        deps.operators.AuthenticateToken(std::string_view(*auth).substr(kBearer.size()));
    if (!principal) {
      Errc code = principal.error().code();
      if (code != Errc::kVerificationFailed && code != Errc::kExpired) {
        return ErrorResponse(principal.error());
      }
      Json details = RequestDetails(request);
      details["reason"] = principal.error().message();  // never contains the secret
      AuditRequest(deps, "anonymous", actions::kAuthRejected, request.path.substr(0, 200),
                   audit::Outcome::kFailure, std::move(details));
      return Unauthenticated(code == Errc::kExpired ? "token expired" : "invalid token", false,
                             secure);
    }
    return std::move(*principal);
  }
  auto cookie = SessionCookie(request.headers);
  if (!cookie) return Unauthenticated("ambiguous session cookie", true, secure);
  if (cookie->empty()) return Unauthenticated("authentication required", false, secure);
  auto principal = deps.operators.AuthenticateSession(*cookie);
  if (!principal) {
    Errc code = principal.error().code();
    if (code != Errc::kVerificationFailed && code != Errc::kExpired) {
      return ErrorResponse(principal.error());
    }
    return Unauthenticated(code == Errc::kExpired ? "session expired" : "invalid session", true,
                           secure);
  }
  if (!SafeMethod(request.method)) {
    std::string_view csrf = request.headers.Get(kCsrfHeader);
    if (csrf.empty() ||
        !core::crypto::ConstantTimeEqual(AsBytes(csrf), AsBytes(principal->csrf_token))) {
      AuditRequest(deps, principal->username, actions::kCsrfRejected, request.path.substr(0, 200),
                   audit::Outcome::kDenied, RequestDetails(request));
      return Response::Error(403, "csrf_failed",
                             "missing or wrong X-CSRF-Token header (GET /api/v1/session has it)");
    }
  }
  return std::move(*principal);
}

}  // namespace

std::optional<std::string> SessionCookie(const http::Headers& headers) {
  std::optional<std::string> found;
  for (const auto& [name, value] : headers.fields()) {
    if (!http::EqualsIgnoreCase(name, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      std::size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != kSessionCookieName) continue;
      std::string v(Trim(pair.substr(eq + 1)));
      if (found && *found != v) return std::nullopt;
      found = std::move(v);
    }
  }
  return found.value_or("");
}

std::string SessionCookieHeader(std::string_view value, std::chrono::seconds max_age, bool secure) {
  std::string header = std::string(kSessionCookieName) + "=" + std::string(value) +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(std::max<std::int64_t>(0, max_age.count()));
  if (secure) header += "; Secure";
  return header;
}

void AuditRequest(OperatorApiDeps& deps, std::string_view actor, std::string_view action,
                  std::string_view target, audit::Outcome outcome, Json details) {
  auto appended = deps.audit.Append(audit::AuditEvent{
      std::string(actor), std::string(action), std::string(target), outcome, std::move(details)});
  if (!appended) {
    Json line = Json::Object{{"level", "error"},
                             {"event", "audit_append_failed"},
                             {"action", std::string(action)},
                             {"actor", std::string(actor)},
                             {"error", appended.error().ToString()}};
    std::cerr << core::codec::DumpJson(line) + "\n";
  }
}

std::variant<Principal, Response> AuthenticateAnyOperator(const Request& request,
                                                          OperatorApiDeps& deps) {
  return Authenticate(request, deps);
}

std::variant<Principal, Response> AuthenticateOperator(const Request& request,
                                                       OperatorApiDeps& deps,
                                                       operators::Permission permission) {
  auto result = Authenticate(request, deps);
  auto* principal = std::get_if<Principal>(&result);
  if (principal == nullptr) return result;
  if (principal->must_change_password) {
    return Response::Error(403, "password_change_required",
                           "change the one-time password first (PUT /api/v1/users/self/password)");
  }
  if (!principal->Can(permission)) {
    Json details = RequestDetails(request);
    details["permission"] = operators::PermissionName(permission);
    details["role"] = operators::RoleName(principal->role);
    if (!principal->token_id.empty()) details["token_id"] = principal->token_id;
    AuditRequest(deps, principal->username, actions::kPermissionDenied, request.path.substr(0, 200),
                 audit::Outcome::kDenied, std::move(details));
    return Response::Error(403, "forbidden",
                           "your role does not have the permission '" +
                               std::string(operators::PermissionName(permission)) + "'");
  }
  return result;
}

}  // namespace aloft::server::api
