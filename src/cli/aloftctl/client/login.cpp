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

}  // namespace

Result<IssuedToken> Login(ApiClient& api, const LoginRequest& request, const TotpPrompt& totp) {
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
  if (const Json* user = reply->body.Find("user")) session.username = StringOf(*user, "username");
  auto cookie = reply->raw.Cookie("aloft_session");
  if (!cookie || cookie->empty() || session.csrf.empty()) {
    return Fail(Errc::kUnavailable, "aloftd's login answer has no session cookie or CSRF token");
  }
  session.cookie = *cookie;
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Cookie", "aloft_session=" + session.cookie}, {"X-CSRF-Token", session.csrf}};

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
