#include "server/api/operator_routes.hpp"

#include <initializer_list>

#include "core/codec/json.hpp"
#include "server/api/error_mapping.hpp"
#include "server/operators/password.hpp"
#include "server/operators/username.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using http::Method;
using http::Request;
using http::Response;
using http::RouteParams;
using operators::Permission;
using operators::Principal;
using operators::Role;

// Every body here is a handful of short strings; a password is at most 1 KiB.
constexpr std::uint64_t kMaxBody = 8 * 1024;

// The body as a JSON object whose members are all in `allowed` (a misspelt field is an error,
// not silently ignored). An empty body counts as {}.
Result<Json> ObjectBody(const Request& request, std::initializer_list<std::string_view> allowed) {
  if (request.body.empty()) return Json(Json::Object{});
  core::codec::ParseLimits limits;
  limits.max_bytes = kMaxBody;
  limits.max_depth = 4;
  auto json = core::codec::ParseJson(request.body, limits);
  if (!json) return Fail(Errc::kInvalidArgument, "body: " + json.error().message());
  if (!json->IsObject()) return Fail(Errc::kInvalidArgument, "body must be a JSON object");
  for (const auto& [key, value] : json->AsObject()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      return Fail(Errc::kInvalidArgument, "unknown field '" + key.substr(0, 64) + "'");
    }
  }
  return json;
}

// An optional string member: nullopt when absent, an error when not a string.
Result<std::optional<std::string>> OptionalString(const Json& body, std::string_view key) {
  const Json* v = body.Find(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->IsString())
    return Fail(Errc::kInvalidArgument, "field '" + std::string(key) + "' must be a string");
  return std::optional<std::string>(v->AsString());
}

Json UserJson(const operators::UserInfo& u) {
  return Json::Object{{"username", u.username},
                      {"role", operators::RoleName(u.role)},
                      {"totp", u.totp_enabled},
                      {"must_change_password", u.must_change_password},
                      {"created", FormatTimestamp(u.created_at)}};
}

Json SessionJson(const Principal& p) {
  Json json = Json::Object{{"user", Json::Object{{"username", p.username},
                                                 {"role", operators::RoleName(p.role)},
                                                 {"must_change_password", p.must_change_password}}},
                           // The contract's place for the flag (docs/api/openapi.yaml); the
                           // copy on "user" stays for clients that read it there.
                           {"must_change_password", p.must_change_password},
                           {"expires", FormatTimestamp(p.expires)}};
  if (p.via == Principal::Via::kSession) {
    json["csrf_token"] = p.csrf_token;
  } else {
    json["token_id"] = p.token_id;
  }
  return json;
}

Json TokenJson(const operators::ApiTokenInfo& t) {
  return Json::Object{
      {"id", t.id},
      {"name", t.name},
      {"owner", t.owner},
      {"role", operators::RoleName(t.role)},
      {"created", FormatTimestamp(t.created_at)},
      {"expires", FormatTimestamp(t.expires_at)},
      {"last_used", t.last_used_at ? Json(FormatTimestamp(*t.last_used_at)) : Json()}};
}

Response NoContent() { return Response::Text(204, "text/plain", ""); }

Response TooManyAttempts(std::chrono::seconds retry_after) {
  Response r =
      Response::Error(429, http::errors::kRateLimited, "too many failed attempts; retry later");
  r.headers.Set("Retry-After", std::to_string(retry_after.count()));
  return r;
}

bool Secure(const Request& request, const OperatorApiDeps& deps) {
  return request.tls || deps.secure_cookie_without_tls;
}

// --- /api/v1/session ---

Response PostSession(const Request& request, OperatorApiDeps& deps) {
  auto body = ObjectBody(request, {"username", "password", "totp"});
  if (!body) return BadRequest(body.error().message());
  auto username = core::codec::GetString(*body, "username");
  auto password = core::codec::GetString(*body, "password");
  auto totp = OptionalString(*body, "totp");
  if (!username) return BadRequest(username.error().message());
  if (!password) return BadRequest(password.error().message());
  if (!totp) return BadRequest(totp.error().message());
  // Format limits are public, so refusing them early reveals nothing about accounts.
  if (username->size() > operators::kMaxUsernameBytes) return BadRequest("username is too long");
  if (password->size() > operators::kMaxPasswordBytes) return BadRequest("password is too long");
  if (*totp && (*totp)->size() > 16) return BadRequest("totp is too long");

  std::optional<std::string_view> code;
  if (*totp) code = **totp;
  auto result = deps.operators.Login({*username, *password, code, request.peer_address});
  if (!result) return ErrorResponse(result.error());
  switch (result->outcome) {
    case operators::LoginOutcome::kThrottled:
      return TooManyAttempts(result->retry_after);
    case operators::LoginOutcome::kInvalidCredentials:
      return Response::Error(401, "invalid_credentials", "wrong username, password or code");
    case operators::LoginOutcome::kTotpRequired:
      return Response::Error(401, "totp_required", "enter the code from your authenticator app");
    case operators::LoginOutcome::kOk:
      break;
  }
  const Principal& p = result->principal;
  Response r = Response::Json(200, SessionJson(p));
  // The browser may keep the cookie as long as the session can live; idle expiry is the
  // server's to enforce.
  r.headers.Set("Set-Cookie", SessionCookieHeader(result->session_secret,
                                                  deps.operators.options().session_absolute,
                                                  Secure(request, deps)));
  return r;
}

Response GetSession(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateAnyOperator(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  return Response::Json(200, SessionJson(std::get<Principal>(caller)));
}

Response DeleteSession(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateAnyOperator(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& p = std::get<Principal>(caller);
  if (p.via != Principal::Via::kSession) {
    return BadRequest("an API token has no session; revoke it with DELETE /api/v1/tokens/{id}");
  }
  if (Status s = deps.operators.Logout(p); !s) return ErrorResponse(s.error());
  Response r = NoContent();
  r.headers.Set("Set-Cookie",
                SessionCookieHeader("", std::chrono::seconds(0), Secure(request, deps)));
  return r;
}

// --- /api/v1/tokens ---

Response PostToken(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, Permission::kTokensManageOwn);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& p = std::get<Principal>(caller);
  auto body = ObjectBody(request, {"name", "role", "expires_in_days"});
  if (!body) return BadRequest(body.error().message());
  auto name = core::codec::GetString(*body, "name");
  auto role_name = OptionalString(*body, "role");
  auto days = core::codec::GetInt(*body, "expires_in_days");
  if (!name) return BadRequest(name.error().message());
  if (!role_name) return BadRequest(role_name.error().message());
  if (!days) return BadRequest(days.error().message());
  std::optional<Role> role;
  if (*role_name) {
    auto parsed = operators::ParseRole(**role_name);
    if (!parsed) return BadRequest(parsed.error().message());
    role = *parsed;
  }
  auto token = deps.operators.CreateToken(p, *name, role, *days);
  if (!token) {
    switch (token.error().code()) {
      case Errc::kVerificationFailed:
        return Response::Error(403, "forbidden", token.error().message());
      case Errc::kTooLarge:
        return Response::Error(409, "too_many_tokens", token.error().message());
      default:
        return ErrorResponse(token.error());
    }
  }
  Json json = TokenJson(token->info);
  json["token"] = token->secret;
  return Response::Json(201, json);
}

Response GetTokens(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, Permission::kTokensManageOwn);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto tokens = deps.operators.ListTokens(std::get<Principal>(caller));
  if (!tokens) return ErrorResponse(tokens.error());
  Json::Array list;
  for (const auto& t : *tokens) list.push_back(TokenJson(t));
  return Response::Json(200, Json::Object{{"tokens", std::move(list)}});
}

Response DeleteToken(const Request& request, const RouteParams& params, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, Permission::kTokensManageOwn);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const std::string& id = params.at("id");
  if (id.size() > 64) return Response::Error(404, http::errors::kNotFound, "no such token");
  if (Status s = deps.operators.RevokeToken(std::get<Principal>(caller), id); !s) {
    return ErrorResponse(s.error());
  }
  return NoContent();
}

// --- /api/v1/users ---

Response GetUsers(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, Permission::kUsersManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto users = deps.operators.ListUsers();
  if (!users) return ErrorResponse(users.error());
  Json::Array list;
  for (const auto& u : *users) list.push_back(UserJson(u));
  return Response::Json(200, Json::Object{{"users", std::move(list)}});
}

Response PostUser(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, Permission::kUsersManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto body = ObjectBody(request, {"username", "role"});
  if (!body) return BadRequest(body.error().message());
  auto username = core::codec::GetString(*body, "username");
  auto role_name = core::codec::GetString(*body, "role");
  if (!username) return BadRequest(username.error().message());
  if (!role_name) return BadRequest(role_name.error().message());
  auto role = operators::ParseRole(*role_name);
  if (!role) return BadRequest(role.error().message());
  auto user = deps.operators.CreateUser(std::get<Principal>(caller), *username, *role);
  if (!user) return ErrorResponse(user.error());
  return Response::Json(201, Json::Object{{"username", user->user.username},
                                          {"role", operators::RoleName(user->user.role)},
                                          {"one_time_password", user->one_time_password}});
}

Response PutUserRole(const Request& request, const RouteParams& params, OperatorApiDeps& deps) {
  auto caller = AuthenticateOperator(request, deps, Permission::kUsersManage);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto body = ObjectBody(request, {"role"});
  if (!body) return BadRequest(body.error().message());
  auto role_name = core::codec::GetString(*body, "role");
  if (!role_name) return BadRequest(role_name.error().message());
  auto role = operators::ParseRole(*role_name);
  if (!role) return BadRequest(role.error().message());
  auto user = deps.operators.SetRole(std::get<Principal>(caller), params.at("username"), *role);
  if (!user) {
    if (user.error().code() == Errc::kInvalidArgument) {
      return Response::Error(409, "last_admin", user.error().message());
    }
    return ErrorResponse(user.error());
  }
  return Response::Json(200, UserJson(*user));
}

// --- /api/v1/users/self ---

Response PutOwnPassword(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateAnyOperator(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  const Principal& p = std::get<Principal>(caller);
  auto body = ObjectBody(request, {"current", "new"});
  if (!body) return BadRequest(body.error().message());
  auto current = core::codec::GetString(*body, "current");
  auto next = core::codec::GetString(*body, "new");
  if (!current) return BadRequest(current.error().message());
  if (!next) return BadRequest(next.error().message());
  if (auto wait = deps.operators.RetryAfter(p.username, request.peer_address); wait.count() > 0) {
    return TooManyAttempts(wait);
  }
  Status s = deps.operators.ChangePassword(p, *current, *next, request.peer_address);
  if (!s) {
    switch (s.error().code()) {
      case Errc::kVerificationFailed:
        return Response::Error(403, "invalid_credentials", "the current password is wrong");
      case Errc::kInvalidArgument:
        return Response::Error(400, "password_policy", s.error().message());
      default:
        return ErrorResponse(s.error());
    }
  }
  return NoContent();
}

// TOTP is a login factor of the account: not while the one-time password is still in use.
std::variant<Principal, Response> SelfWithPassword(const Request& request, OperatorApiDeps& deps) {
  auto caller = AuthenticateAnyOperator(request, deps);
  auto* p = std::get_if<Principal>(&caller);
  if (p != nullptr && p->must_change_password) {
    return Response::Error(403, "password_change_required",
                           "change the one-time password first (PUT /api/v1/users/self/password)");
  }
  return caller;
}

Response PostOwnTotp(const Request& request, OperatorApiDeps& deps) {
  auto caller = SelfWithPassword(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto body = ObjectBody(request, {});
  if (!body) return BadRequest(body.error().message());
  auto enrollment = deps.operators.BeginTotp(std::get<Principal>(caller));
  if (!enrollment) {
    if (enrollment.error().code() == Errc::kAlreadyExists) {
      return Response::Error(409, "totp_enabled", enrollment.error().message());
    }
    return ErrorResponse(enrollment.error());
  }
  return Response::Json(200, Json::Object{{"secret_base32", enrollment->secret_base32},
                                          {"otpauth_uri", enrollment->otpauth_uri}});
}

Response PostOwnTotpConfirm(const Request& request, OperatorApiDeps& deps) {
  auto caller = SelfWithPassword(request, deps);
  if (auto* denied = std::get_if<Response>(&caller)) return std::move(*denied);
  auto body = ObjectBody(request, {"code"});
  if (!body) return BadRequest(body.error().message());
  auto code = core::codec::GetString(*body, "code");
  if (!code) return BadRequest(code.error().message());
  Status s = deps.operators.ConfirmTotp(std::get<Principal>(caller), *code);
  if (!s) {
    switch (s.error().code()) {
      case Errc::kVerificationFailed:
        return Response::Error(400, "invalid_totp", s.error().message());
      case Errc::kNotFound:
        return Response::Error(409, "no_pending_totp", s.error().message());
      case Errc::kAlreadyExists:
        return Response::Error(409, "totp_enabled", s.error().message());
      default:
        return ErrorResponse(s.error());
    }
  }
  return NoContent();
}

}  // namespace

Status RegisterOperatorRoutes(http::Router& router, OperatorApiDeps& deps) {
  using Plain = Response (*)(const Request&, OperatorApiDeps&);
  using WithParams = Response (*)(const Request&, const RouteParams&, OperatorApiDeps&);
  struct Entry {
    Method method;
    const char* pattern;
    Plain plain;
    WithParams with_params;
  };
  // clang-format off
  const Entry entries[] = {
      {Method::kPost,   "/api/v1/session",                  &PostSession,        nullptr},
      {Method::kGet,    "/api/v1/session",                  &GetSession,         nullptr},
      {Method::kDelete, "/api/v1/session",                  &DeleteSession,      nullptr},
      {Method::kPost,   "/api/v1/tokens",                   &PostToken,          nullptr},
      {Method::kGet,    "/api/v1/tokens",                   &GetTokens,          nullptr},
      {Method::kDelete, "/api/v1/tokens/{id}",              nullptr,             &DeleteToken},
      {Method::kGet,    "/api/v1/users",                    &GetUsers,           nullptr},
      {Method::kPost,   "/api/v1/users",                    &PostUser,           nullptr},
      {Method::kPut,    "/api/v1/users/{username}/role",    nullptr,             &PutUserRole},
      {Method::kPut,    "/api/v1/users/self/password",      &PutOwnPassword,     nullptr},
      {Method::kPost,   "/api/v1/users/self/totp",          &PostOwnTotp,        nullptr},
      {Method::kPost,   "/api/v1/users/self/totp/confirm",  &PostOwnTotpConfirm, nullptr},
  };
  // clang-format on
  for (const Entry& e : entries) {
    http::RouteOptions options;
    options.max_body_bytes = kMaxBody;
    http::Handler handler;
    if (e.plain != nullptr) {
      handler = [f = e.plain, &deps](const Request& r, const RouteParams&) { return f(r, deps); };
    } else {
      handler = [f = e.with_params, &deps](const Request& r, const RouteParams& p) {
        return f(r, p, deps);
      };
    }
    if (Status s = router.Add(e.method, e.pattern, std::move(handler), options); !s) return s;
  }
  return Ok();
}

}  // namespace aloft::server::api
