#include "cli/aloftctl/client/login.hpp"

namespace aloft::cli::aloftctl::client {
namespace {

namespace http = platform::http;
using core::codec::Json;

std::string StringOf(const Json& body, std::string_view key) {
  const Json* v = body.Find(key);
  return v != nullptr && v->IsString() ? v->AsString() : std::string();
}

struct Session {
  std::string cookie;
  std::string csrf;
  std::string username;
};

Result<ApiReply> PostSession(ApiClient& api, const LoginRequest& request,
                             const std::optional<std::string>& totp) {
  Json body = Json::Object{{"username", request.username}, {"password", request.password}};
  if (totp) body["totp"] = *totp;
  http::ManagementRequest call;
  call.method = http::HttpMethod::kPost;
  call.url = api.Url("/api/v1/session");
  call.body = core::codec::DumpJson(body);
  return api.Exchange(std::move(call), false);
}

// Signs in (asking for the TOTP code when the server wants one) and returns the session.
Result<Session> OpenSession(ApiClient& api, const LoginRequest& request, const TotpPrompt& totp,
                            bool& must_change_password) {
  auto reply = PostSession(api, request, request.totp);
  if (!reply) return Fail(reply.error());
  const Json* error = reply->body.Find("error");
  if (reply->status == 401 && !request.totp && error != nullptr &&
      StringOf(*error, "code") == "totp_required") {
    auto code = totp();
    if (!code) return Fail(code.error());
    reply = PostSession(api, request, *code);
    if (!reply) return Fail(reply.error());
  }
  if (reply->status != 200) {
    return Fail(api.Refuse("the login", *reply));
  }
  Session session;
  session.csrf = StringOf(reply->body, "csrf_token");
  must_change_password = false;
  if (const Json* flag = reply->body.Find("must_change_password"); flag && flag->IsBool()) {
    must_change_password = flag->AsBool();
  }
  if (const Json* user = reply->body.Find("user")) {
    session.username = StringOf(*user, "username");
    if (const Json* flag = user->Find("must_change_password"); flag && flag->IsBool()) {
      must_change_password = must_change_password || flag->AsBool();
    }
  }
  auto cookie = reply->raw.Cookie("aloft_session");
  if (!cookie || cookie->empty() || session.csrf.empty()) {
    return Fail(Errc::kUnavailable, "aloftd's login answer has no session cookie or CSRF token");
  }
  session.cookie = *cookie;
  return session;
}

std::vector<std::pair<std::string, std::string>> AuthHeaders(const Session& session) {
  return {{"Cookie", "aloft_session=" + session.cookie}, {"X-CSRF-Token", session.csrf}};
}

void CloseSession(ApiClient& api, const Session& session) {
  http::ManagementRequest logout;
  logout.method = http::HttpMethod::kDelete;
  logout.url = api.Url("/api/v1/session");
  logout.headers = AuthHeaders(session);
  (void)api.Exchange(std::move(logout), false);
}

}  // namespace

Result<IssuedToken> Login(ApiClient& api, const LoginRequest& request, const TotpPrompt& totp,
                          const NewPasswordPrompt& new_password) {
  bool must_change = false;
  auto opened = OpenSession(api, request, totp, must_change);
  if (!opened) return Fail(opened.error());
  Session session = std::move(*opened);
  if (must_change) {
    if (!new_password) {
      CloseSession(api, session);
      return Fail(Errc::kInvalidArgument,
                  "the account still has its one-time password: choose a new one "
                  "(--new-password-file FILE, $ALOFT_NEW_PASSWORD or the prompt)");
    }
    auto chosen = new_password();
    if (!chosen) {
      CloseSession(api, session);
      return Fail(chosen.error());
    }
    http::ManagementRequest change;
    change.method = http::HttpMethod::kPut;
    change.url = api.Url("/api/v1/users/self/password");
    change.headers = AuthHeaders(session);
    change.body = core::codec::DumpJson(
        Json::Object{{"current", request.password}, {"new", *chosen}});
    auto changed = api.Exchange(std::move(change), false);
    CloseSession(api, session);
    if (!changed) return Fail(changed.error());
    if (changed->status != 204 && changed->status != 200) {
      return Fail(api.Refuse("the password change", *changed));
    }
    LoginRequest again = request;
    again.password = *chosen;
    again.totp.reset();
    opened = OpenSession(api, again, totp, must_change);
    if (!opened) return Fail(opened.error());
    session = std::move(*opened);
  }
  const std::vector<std::pair<std::string, std::string>> auth = AuthHeaders(session);

  Json token_body =
      Json::Object{{"name", request.token_name}, {"expires_in_days", request.token_days}};
  if (request.token_role) token_body["role"] = *request.token_role;
  http::ManagementRequest create;
  create.method = http::HttpMethod::kPost;
  create.url = api.Url("/api/v1/tokens");
  create.headers = auth;
  create.body = core::codec::DumpJson(token_body);
  auto created = api.Exchange(std::move(create), false);

  // Always end the session, whatever the token request gave: it is not needed any more.
  http::ManagementRequest logout;
  logout.method = http::HttpMethod::kDelete;
  logout.url = api.Url("/api/v1/session");
  logout.headers = auth;
  (void)api.Exchange(std::move(logout), false);

  if (!created) return Fail(created.error());
  if (created->status != 201 && created->status != 200) {
    return Fail(api.Refuse("the API token request", *created));
  }
  IssuedToken issued;
  issued.id = StringOf(created->body, "id");
  issued.token = StringOf(created->body, "token");
  issued.role = StringOf(created->body, "role");
  issued.expires = StringOf(created->body, "expires");
  issued.username = session.username.empty() ? request.username : session.username;
  if (issued.token.empty()) {
    return Fail(Errc::kUnavailable, "aloftd created a token but did not return it");
  }
  return issued;
}

}  // namespace aloft::cli::aloftctl::client
