// The session, token and user routes through the Router: the permission matrix of every
// route × role × credential kind, cookies and CSRF, and bad input.

#include "server/api/operator_routes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "server/api/operator_api_test_fixture.hpp"
#include "server/operators/audit_actions.hpp"
#include "server/operators/totp.hpp"

namespace aloft::server::api {
namespace {

using http::Method;
using operators::Permission;
using operators::Role;
namespace actions = operators::actions;

// The answers that mean "not allowed"; anything else means the route let the caller in.
const std::set<std::string> kDenials = {"unauthenticated", "forbidden", "csrf_failed",
                                        "password_change_required"};

struct RouteCase {
  Method method;
  std::string target;
  std::string pattern;  // as registered
  std::string body;
  std::optional<Permission> needs;  // nullopt: any authenticated operator
};

// Every management route of this module (operator + audit), with a body that is valid
// enough to get past parsing.
std::vector<RouteCase> AllRoutes() {
  return {
      {Method::kGet, "/api/v1/session", "/api/v1/session", "", std::nullopt},
      {Method::kPost, "/api/v1/tokens", "/api/v1/tokens", R"({"name":"m","expires_in_days":1})",
       Permission::kTokensManageOwn},
      {Method::kGet, "/api/v1/tokens", "/api/v1/tokens", "", Permission::kTokensManageOwn},
      {Method::kDelete, "/api/v1/tokens/tok_0000000000000000", "/api/v1/tokens/{id}", "",
       Permission::kTokensManageOwn},
      {Method::kGet, "/api/v1/users", "/api/v1/users", "", Permission::kUsersManage},
      {Method::kPost, "/api/v1/users", "/api/v1/users", R"({"username":"@","role":"viewer"})",
       Permission::kUsersManage},
      {Method::kPut, "/api/v1/users/target/role", "/api/v1/users/{username}/role",
       R"({"role":"viewer"})", Permission::kUsersManage},
      {Method::kPut, "/api/v1/users/self/password", "/api/v1/users/self/password",
       R"({"current":"not the password","new":"a brand new passphrase"})", std::nullopt},
      {Method::kPost, "/api/v1/users/self/totp", "/api/v1/users/self/totp", "{}", std::nullopt},
      {Method::kPost, "/api/v1/users/self/totp/confirm", "/api/v1/users/self/totp/confirm",
       R"({"code":"abcdef"})", std::nullopt},
      {Method::kGet, "/api/v1/audit?limit=5", "/api/v1/audit", "", Permission::kAuditRead},
      {Method::kGet, "/api/v1/audit/verify", "/api/v1/audit/verify", "", Permission::kAuditRead},
      {Method::kGet, "/api/v1/audit/export", "/api/v1/audit/export", "", Permission::kAuditRead},
      {Method::kDelete, "/api/v1/session", "/api/v1/session", "", std::nullopt},
  };
}

class OperatorRoutesTest : public OperatorApiTest {
 protected:
  void SetUp() override {
    OperatorApiTest::SetUp();
    if (HasFatalFailure()) return;
    root_ = Bootstrap();
    AddUser(root_, "target", Role::kOperator);
  }
  operators::Principal root_;
};

TEST_F(OperatorRoutesTest, TheMatrixCoversEveryRegisteredRoute) {
  std::set<std::string> registered;
  for (const auto& r : router_.Routes()) {
    registered.insert(std::string(http::MethodName(r.method)) + " " + r.pattern);
  }
  std::set<std::string> covered = {"POST /api/v1/session"};  // the anonymous login route
  for (const auto& c : AllRoutes()) {
    covered.insert(std::string(http::MethodName(c.method)) + " " + c.pattern);
  }
  EXPECT_EQ(registered, covered);
}

TEST_F(OperatorRoutesTest, AnonymousCallersGet401Everywhere) {
  for (const auto& c : AllRoutes()) {
    http::Response r = Call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, 401) << c.target;
    EXPECT_EQ(ErrorCode(r), "unauthenticated") << c.target;
    EXPECT_EQ(r.headers.Get("WWW-Authenticate"), "Bearer realm=\"aloft\"");
  }
  http::Response login = Call(Method::kPost, "/api/v1/session",
                              R"({"username":"nobody","password":"not a password"})");
  EXPECT_EQ(login.status, 401);
  EXPECT_EQ(ErrorCode(login), "invalid_credentials");
}

TEST_F(OperatorRoutesTest, EveryRouteAllowsExactlyTheRolesTheContractNames) {
  const std::pair<const char*, Role> users[] = {{"adm", Role::kAdmin},
                                                {"rm", Role::kReleaseManager},
                                                {"op", Role::kOperator},
                                                {"viewer", Role::kViewer},
                                                {"auditor", Role::kAuditor}};
  for (const auto& [name, role] : users) AddUser(root_, name, role);
  for (bool use_token : {false, true}) {
    for (const auto& [name, role] : users) {
      for (const auto& c : AllRoutes()) {
        // A fresh session per call: DELETE /api/v1/session ends it.
        Creds creds = use_token ? TokenFor(name) : SessionFor(name);
        http::Response r = Call(c.method, c.target, c.body, creds);
        bool allowed = !c.needs || operators::HasPermission(role, *c.needs);
        std::string what = std::string(use_token ? "token " : "session ") + name + " " +
                           std::string(http::MethodName(c.method)) + " " + c.target + " -> " +
                           std::to_string(r.status) + " " + r.body;
        if (allowed) {
          EXPECT_EQ(kDenials.count(ErrorCode(r)), 0u) << what;
          EXPECT_LT(r.status, 500) << what;
        } else {
          EXPECT_EQ(r.status, 403) << what;
          EXPECT_EQ(ErrorCode(r), "forbidden") << what;
        }
      }
    }
  }
  auto records = AuditRecords();
  EXPECT_TRUE(std::any_of(records.begin(), records.end(), [](const audit::AuditRecord& r) {
    return r.action == actions::kPermissionDenied && r.actor == "viewer" &&
           r.target == "/api/v1/users" && r.outcome == audit::Outcome::kDenied;
  }));
}

TEST_F(OperatorRoutesTest, ATokenActsWithItsOwnRoleNotItsOwners) {
  Creds viewer_token = TokenFor("root", Role::kViewer);
  http::Response r = Call(Method::kGet, "/api/v1/users", "", viewer_token);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "forbidden");
  EXPECT_EQ(Call(Method::kGet, "/api/v1/users", "", TokenFor("root")).status, 200);
}

TEST_F(OperatorRoutesTest, LoginSetsAHardenedSessionCookie) {
  std::string body = R"({"username":"root","password":")" + std::string(kPassword) + "\"}";
  http::Response r = Call(Method::kPost, "/api/v1/session", body);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie(r.headers.Get("Set-Cookie"));
  EXPECT_TRUE(cookie.starts_with("aloft_session=")) << cookie;
  for (const char* attr : {"; Path=/", "; HttpOnly", "; SameSite=Strict", "; Max-Age=43200"}) {
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr << " in " << cookie;
  }
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP: no Secure";
  Json json = BodyOf(r);
  EXPECT_EQ(*json.Find("user")->Find("username"), Json("root"));
  EXPECT_EQ(*json.Find("user")->Find("role"), Json("admin"));
  EXPECT_EQ(*json.Find("user")->Find("must_change_password"), Json(false));
  EXPECT_EQ(*json.Find("must_change_password"), Json(false));
  EXPECT_EQ(json.Find("csrf_token")->AsString().size(), 43u);
  EXPECT_EQ(*json.Find("expires"), Json(FormatTimestamp(clock_.Now() + std::chrono::minutes(30))));

  http::Response over_tls = Call(Method::kPost, "/api/v1/session", body, {}, {.tls = true});
  EXPECT_NE(std::string(over_tls.headers.Get("Set-Cookie")).find("; Secure"), std::string::npos);
  deps_->secure_cookie_without_tls = true;
  http::Response behind_proxy = Call(Method::kPost, "/api/v1/session", body);
  EXPECT_NE(std::string(behind_proxy.headers.Get("Set-Cookie")).find("; Secure"),
            std::string::npos);
}

TEST_F(OperatorRoutesTest, CookieRequestsOtherThanGetNeedTheCsrfToken) {
  Creds session = SessionFor("root");
  std::string body = R"({"name":"ci","expires_in_days":7})";
  http::Response none = Call(Method::kPost, "/api/v1/tokens", body, session, {.send_csrf = false});
  EXPECT_EQ(none.status, 403);
  EXPECT_EQ(ErrorCode(none), "csrf_failed");
  Creds wrong = session;
  wrong.csrf = std::string(43, 'A');
  EXPECT_EQ(ErrorCode(Call(Method::kPost, "/api/v1/tokens", body, wrong)), "csrf_failed");
  Creds other = session;
  other.csrf = SessionFor("root").csrf;
  EXPECT_EQ(ErrorCode(Call(Method::kPost, "/api/v1/tokens", body, other)), "csrf_failed")
      << "another session's token does not fit";
  EXPECT_TRUE(service_->ListTokens(root_)->empty());
  EXPECT_EQ(Call(Method::kGet, "/api/v1/tokens", "", session, {.send_csrf = false}).status, 200);
  EXPECT_EQ(Call(Method::kPost, "/api/v1/tokens", body, session).status, 201);
  EXPECT_EQ(Call(Method::kPost, "/api/v1/tokens", body, TokenFor("root")).status, 201)
      << "bearer tokens need no CSRF token";
  auto records = AuditRecords();
  EXPECT_EQ(
      std::count_if(records.begin(), records.end(),
                    [](const audit::AuditRecord& r) { return r.action == actions::kCsrfRejected; }),
      3);
}

TEST_F(OperatorRoutesTest, AnAmbiguousSessionCookieIsRefused) {
  Creds a = SessionFor("root");
  Creds b = SessionFor("root");
  http::Headers headers;
  headers.Add("Cookie", "aloft_session=" + a.session);
  headers.Add("Cookie", "aloft_session=" + b.session);
  EXPECT_FALSE(SessionCookie(headers));
  http::Headers same;
  same.Add("Cookie", "aloft_session=" + a.session + "; aloft_session=" + a.session);
  EXPECT_EQ(SessionCookie(same), a.session);
  EXPECT_EQ(SessionCookie(http::Headers{}), "");
}

TEST_F(OperatorRoutesTest, GetSessionTellsWhoIsCallingAndLogoutEndsIt) {
  Creds session = SessionFor("root");
  http::Response me = Call(Method::kGet, "/api/v1/session", "", session, {.send_csrf = false});
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(*BodyOf(me).Find("csrf_token"), Json(session.csrf));
  http::Response out = Call(Method::kDelete, "/api/v1/session", "", session);
  EXPECT_EQ(out.status, 204);
  std::string cleared(out.headers.Get("Set-Cookie"));
  EXPECT_TRUE(cleared.starts_with("aloft_session=;")) << cleared;
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos);
  http::Response after = Call(Method::kGet, "/api/v1/session", "", session);
  EXPECT_EQ(after.status, 401);
  EXPECT_NE(std::string(after.headers.Get("Set-Cookie")).find("Max-Age=0"), std::string::npos)
      << "a dead session cookie is cleared";
  Creds token = TokenFor("root");
  http::Response token_me = Call(Method::kGet, "/api/v1/session", "", token);
  EXPECT_EQ(token_me.status, 200);
  EXPECT_EQ(BodyOf(token_me).Find("csrf_token"), nullptr);
  EXPECT_EQ(Call(Method::kDelete, "/api/v1/session", "", token).status, 400);
}

TEST_F(OperatorRoutesTest, FailedLoginsLookAlikeAndAreThrottled) {
  http::Response unknown = Call(Method::kPost, "/api/v1/session",
                                R"({"username":"nobody","password":"a wrong passphrase"})");
  http::Response wrong = Call(Method::kPost, "/api/v1/session",
                              R"({"username":"root","password":"a wrong passphrase"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, wrong.body);
  for (int i = 0; i < 4; ++i) {
    Call(Method::kPost, "/api/v1/session", R"({"username":"root","password":"a wrong one"})");
  }
  http::Response throttled =
      Call(Method::kPost, "/api/v1/session",
           R"({"username":"root","password":")" + std::string(kPassword) + "\"}");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.headers.Get("Retry-After"), "60");
  EXPECT_FALSE(throttled.headers.Has("Set-Cookie"));
}

TEST_F(OperatorRoutesTest, ANewUserMustChangeTheOneTimePasswordFirst) {
  Creds admin = SessionFor("root");
  http::Response made =
      Call(Method::kPost, "/api/v1/users", R"({"username":"carol","role":"operator"})", admin);
  ASSERT_EQ(made.status, 201) << made.body;
  Json json = BodyOf(made);
  EXPECT_EQ(*json.Find("username"), Json("carol"));
  EXPECT_EQ(*json.Find("role"), Json("operator"));
  std::string otp = json.Find("one_time_password")->AsString();

  Creds carol = SessionFor("carol", otp);
  http::Response me = Call(Method::kGet, "/api/v1/session", "", carol);
  EXPECT_EQ(*BodyOf(me).Find("user")->Find("must_change_password"), Json(true));
  EXPECT_EQ(*BodyOf(me).Find("must_change_password"), Json(true));
  http::Response blocked = Call(Method::kGet, "/api/v1/tokens", "", carol);
  EXPECT_EQ(blocked.status, 403);
  EXPECT_EQ(ErrorCode(blocked), "password_change_required");
  EXPECT_EQ(ErrorCode(Call(Method::kPost, "/api/v1/users/self/totp", "{}", carol)),
            "password_change_required");
  http::Response weak = Call(Method::kPut, "/api/v1/users/self/password",
                             R"({"current":")" + otp + R"(","new":"short"})", carol);
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(ErrorCode(weak), "password_policy");
  http::Response changed =
      Call(Method::kPut, "/api/v1/users/self/password",
           R"({"current":")" + otp + R"(","new":"carol's own passphrase"})", carol);
  EXPECT_EQ(changed.status, 204) << changed.body;
  EXPECT_EQ(Call(Method::kGet, "/api/v1/tokens", "", carol).status, 200);
}

TEST_F(OperatorRoutesTest, UsersAreListedAndRolesChanged) {
  Creds admin = SessionFor("root");
  http::Response list = Call(Method::kGet, "/api/v1/users", "", admin);
  ASSERT_EQ(list.status, 200);
  Json body = BodyOf(list);
  const auto& users = body.Find("users")->AsArray();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(*users[1].Find("username"), Json("target"));
  EXPECT_EQ(*users[1].Find("role"), Json("operator"));
  EXPECT_EQ(*users[1].Find("totp"), Json(false));
  EXPECT_NE(users[1].Find("created"), nullptr);

  http::Response changed =
      Call(Method::kPut, "/api/v1/users/target/role", R"({"role":"release-manager"})", admin);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(*BodyOf(changed).Find("role"), Json("release-manager"));
  EXPECT_EQ(Call(Method::kPut, "/api/v1/users/ghost/role", R"({"role":"viewer"})", admin).status,
            404);
  http::Response last =
      Call(Method::kPut, "/api/v1/users/root/role", R"({"role":"viewer"})", admin);
  EXPECT_EQ(last.status, 409);
  EXPECT_EQ(ErrorCode(last), "last_admin");
  EXPECT_EQ(Call(Method::kPost, "/api/v1/users", R"({"username":"target","role":"viewer"})", admin)
                .status,
            409);
}

TEST_F(OperatorRoutesTest, TokensAreShownOnceScopedAndRevocable) {
  AddUser(root_, "rm", Role::kReleaseManager);
  Creds rm = SessionFor("rm");
  http::Response made = Call(Method::kPost, "/api/v1/tokens",
                             R"({"name":"ci","role":"viewer","expires_in_days":30})", rm);
  ASSERT_EQ(made.status, 201) << made.body;
  Json json = BodyOf(made);
  std::string secret = json.Find("token")->AsString();
  std::string id = json.Find("id")->AsString();
  EXPECT_TRUE(secret.starts_with("alo_"));
  EXPECT_EQ(*json.Find("role"), Json("viewer"));
  EXPECT_EQ(*json.Find("expires"), Json(FormatTimestamp(clock_.Now() + std::chrono::days(30))));

  http::Response bigger = Call(Method::kPost, "/api/v1/tokens",
                               R"({"name":"x","role":"admin","expires_in_days":30})", rm);
  EXPECT_EQ(bigger.status, 403);
  EXPECT_EQ(ErrorCode(bigger), "forbidden");

  http::Response list = Call(Method::kGet, "/api/v1/tokens", "", rm);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(secret.substr(4)), std::string::npos) << "the secret is shown once";
  Json list_body = BodyOf(list);
  const auto& tokens = list_body.Find("tokens")->AsArray();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(*tokens[0].Find("last_used"), Json());

  Creds bearer{"", "", secret};
  EXPECT_EQ(Call(Method::kGet, "/api/v1/tokens", "", bearer).status, 200);
  EXPECT_EQ(*BodyOf(Call(Method::kGet, "/api/v1/tokens", "", rm))
                 .Find("tokens")
                 ->AsArray()[0]
                 .Find("last_used"),
            Json(FormatTimestamp(clock_.Now())));
  EXPECT_EQ(Call(Method::kDelete, "/api/v1/tokens/" + id, "", SessionFor("target")).status, 404)
      << "not target's token";
  EXPECT_EQ(Call(Method::kDelete, "/api/v1/tokens/" + id, "", rm).status, 204);
  http::Response revoked = Call(Method::kGet, "/api/v1/tokens", "", bearer);
  EXPECT_EQ(revoked.status, 401);
  auto records = AuditRecords();
  EXPECT_TRUE(std::any_of(records.begin(), records.end(), [](const audit::AuditRecord& r) {
    return r.action == actions::kAuthRejected && r.outcome == audit::Outcome::kFailure;
  })) << "a rejected token is audited";
}

TEST_F(OperatorRoutesTest, ExpiredAndMalformedBearersAre401) {
  Creds token = TokenFor("root");
  for (const std::string& header_token :
       {std::string("alo_short"), std::string(""), token.token + "x"}) {
    EXPECT_EQ(Call(Method::kGet, "/api/v1/tokens", "", Creds{"", "", header_token}).status, 401)
        << header_token;
  }
  clock_.Advance(std::chrono::days(31));
  http::Response expired = Call(Method::kGet, "/api/v1/tokens", "", token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(BodyOf(expired).Find("error")->Find("message")->AsString().find("expired"),
            std::string::npos);
}

TEST_F(OperatorRoutesTest, TotpCanBeTurnedOnAndIsThenRequired) {
  Creds admin = SessionFor("root");
  http::Response begun = Call(Method::kPost, "/api/v1/users/self/totp", "", admin);
  ASSERT_EQ(begun.status, 200) << begun.body;
  EXPECT_NE(BodyOf(begun).Find("otpauth_uri"), nullptr);
  // Stored sealed under the KEK; opened here as aloftd does to check a code.
  Bytes secret = *TestCipher().Open(store_->GetUser("root")->totp_pending_secret, "root");
  EXPECT_EQ(*BodyOf(begun).Find("secret_base32"), Json(operators::Base32Encode(secret)));
  std::string code = *operators::TotpCode(secret, operators::TotpStep(clock_.Now()));
  http::Response wrong =
      Call(Method::kPost, "/api/v1/users/self/totp/confirm", R"({"code":"12345"})", admin);
  EXPECT_EQ(ErrorCode(wrong), "invalid_totp");
  http::Response confirmed =
      Call(Method::kPost, "/api/v1/users/self/totp/confirm", R"({"code":")" + code + "\"}", admin);
  EXPECT_EQ(confirmed.status, 204) << confirmed.body;
  EXPECT_EQ(ErrorCode(Call(Method::kPost, "/api/v1/users/self/totp", "{}", admin)), "totp_enabled");

  std::string login = R"({"username":"root","password":")" + std::string(kPassword) + "\"";
  http::Response needs = Call(Method::kPost, "/api/v1/session", login + "}");
  EXPECT_EQ(needs.status, 401);
  EXPECT_EQ(ErrorCode(needs), "totp_required");
  clock_.Advance(std::chrono::seconds(30));
  std::string fresh = *operators::TotpCode(secret, operators::TotpStep(clock_.Now()));
  EXPECT_EQ(Call(Method::kPost, "/api/v1/session", login + R"(,"totp":")" + fresh + "\"}").status,
            200);
}

TEST_F(OperatorRoutesTest, BadInputGets4xxAndChangesNothing) {
  Creds admin = SessionFor("root");
  const std::string huge(10000, 'a');
  struct Bad {
    Method method;
    std::string target;
    std::string body;
  };
  const Bad cases[] = {
      {Method::kPost, "/api/v1/session", "{"},
      {Method::kPost, "/api/v1/session", "[]"},
      {Method::kPost, "/api/v1/session", R"({"username":"root"})"},
      {Method::kPost, "/api/v1/session", R"({"username":1,"password":"x"})"},
      {Method::kPost, "/api/v1/session", R"({"username":"root","password":"x","totp":123456})"},
      {Method::kPost, "/api/v1/session", R"({"username":"root","password":"x","admin":true})"},
      {Method::kPost, "/api/v1/session", R"({"username":")" + huge + R"(","password":"x"})"},
      {Method::kPost, "/api/v1/session", R"({"username":"root","password":")" + huge + "\"}"},
      {Method::kPost, "/api/v1/users",
       R"({"username":"x'; DROP TABLE operators;--","role":"viewer"})"},
      {Method::kPost, "/api/v1/users", R"({"username":"robert\"); --","role":"viewer"})"},
      {Method::kPost, "/api/v1/users", R"({"username":")" + huge + R"(","role":"viewer"})"},
      {Method::kPost, "/api/v1/users", R"({"username":"Mallory","role":"viewer"})"},
      {Method::kPost, "/api/v1/users", R"({"username":"self","role":"viewer"})"},
      {Method::kPost, "/api/v1/users", R"({"username":"mallory","role":"superuser"})"},
      {Method::kPost, "/api/v1/users", R"({"username":"mallory","role":["admin"]})"},
      {Method::kPost, "/api/v1/users", R"({"username":"mallory"})"},
      {Method::kPost, "/api/v1/users", R"({"username":null,"role":"viewer"})"},
      {Method::kPut, "/api/v1/users/target/role", R"({"role":"root"})"},
      {Method::kPut, "/api/v1/users/target/role", R"({"role":1})"},
      {Method::kPut, "/api/v1/users/target/role", "not json"},
      {Method::kPut, "/api/v1/users/x'%20OR%201=1--/role", R"({"role":"admin"})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":"ci"})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":"ci","expires_in_days":"7"})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":"ci","expires_in_days":0})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":"ci","expires_in_days":9223372036854775807})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":")" + huge + R"(","expires_in_days":1})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":"ci","expires_in_days":1,"role":"god"})"},
      {Method::kPost, "/api/v1/tokens", R"({"name":"ci","expires_in_days":1.5})"},
      {Method::kDelete, "/api/v1/tokens/x'%20OR%20'1'='1", ""},
      {Method::kDelete, "/api/v1/tokens/" + huge, ""},
      {Method::kPut, "/api/v1/users/self/password", R"({"current":"x"})"},
      {Method::kPut, "/api/v1/users/self/password", R"({"current":1,"new":2})"},
      {Method::kPost, "/api/v1/users/self/totp", R"({"unexpected":1})"},
      {Method::kPost, "/api/v1/users/self/totp/confirm", R"({"code":123456})"},
      {Method::kPost, "/api/v1/users/self/totp/confirm", R"({})"},
  };
  for (const Bad& c : cases) {
    http::Response r = Call(c.method, c.target, c.body, admin);
    EXPECT_GE(r.status, 400) << c.target << " " << c.body.substr(0, 80) << " -> " << r.body;
    EXPECT_LT(r.status, 500) << c.target << " " << c.body.substr(0, 80) << " -> " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type"), "application/json") << c.target;
  }
  auto users = service_->ListUsers();
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[1].role, Role::kOperator);
  EXPECT_TRUE(service_->ListTokens(root_)->empty());
  EXPECT_TRUE(store_->GetUser("root")->totp_pending_secret.empty());
  auto verified = audit_->Verify();
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok);
}

TEST_F(OperatorRoutesTest, BodiesAreCappedSmall) {
  for (const auto& c : AllRoutes()) {
    auto match = router_.Find(c.method, http::ParseTarget(c.target)->segments);
    ASSERT_NE(match.route, nullptr) << c.target;
    EXPECT_LE(match.route->options.max_body_bytes, 8u * 1024u) << c.target;
  }
}

}  // namespace
}  // namespace aloft::server::api
