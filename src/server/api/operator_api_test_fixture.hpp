#pragma once

// The management API's operator and audit routes on a Router, over the real OperatorService
// and SQLite stores (operators/operator_test_fixture.hpp), called in-process: each call
// builds an http::Request as the server would and runs the matched handler.

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/codec/json.hpp"
#include "server/api/audit_routes.hpp"
#include "server/api/operator_auth.hpp"
#include "server/api/operator_routes.hpp"
#include "server/http/router.hpp"
#include "server/operators/operator_test_fixture.hpp"

namespace aloft::server::api {

// How a test call authenticates: a session cookie (+ CSRF token), a bearer token, or neither.
struct Creds {
  std::string session;
  std::string csrf;
  std::string token;
};

// Transport facts of a test call.
struct CallOptions {
  std::string peer = "192.0.2.20";
  bool tls = false;
  bool send_csrf = true;
};

class OperatorApiTest : public operators::OperatorServiceTest {
 protected:
  using Json = core::codec::Json;

  void SetUp() override {
    OperatorServiceTest::SetUp();
    if (HasFatalFailure()) return;
    deps_.emplace(OperatorApiDeps{*service_, *audit_, false});
    ASSERT_TRUE(RegisterOperatorRoutes(router_, *deps_));
    ASSERT_TRUE(RegisterAuditRoutes(router_, *deps_));
  }

  http::Response Call(http::Method method, const std::string& target, const std::string& body = "",
                      const Creds& creds = {}, const CallOptions& options = {}) {
    auto parsed = http::ParseTarget(target);
    EXPECT_TRUE(parsed) << target;
    if (!parsed) return http::Response::Error(400, "bad_target", target);
    http::Request r;
    r.method = method;
    r.method_name = std::string(http::MethodName(method));
    r.target = target;
    r.path = parsed->path;
    r.segments = parsed->segments;
    r.query = parsed->query;
    r.body = body;
    r.body_size = body.size();
    r.peer_address = options.peer;
    r.tls = options.tls;
    if (!creds.session.empty()) {
      r.headers.Add("Cookie",
                    "theme=dark; " + std::string(kSessionCookieName) + "=" + creds.session);
      if (options.send_csrf) r.headers.Add(std::string(kCsrfHeader), creds.csrf);
    }
    if (!creds.token.empty()) r.headers.Add("Authorization", "Bearer " + creds.token);
    auto match = router_.Find(method, r.segments);
    if (match.route == nullptr) return http::Response::Error(404, "no_route", target);
    return http::InvokeHandler(*match.route, r, match.params, [](std::string_view line) {
      ADD_FAILURE() << "handler threw: " << line;
    });
  }

  static Json BodyOf(const http::Response& r) {
    auto json = core::codec::ParseJson(r.body);
    return json ? *json : Json();
  }
  static std::string ErrorCode(const http::Response& r) {
    Json body = BodyOf(r);
    const Json* error = body.Find("error");
    const Json* code = error != nullptr ? error->Find("code") : nullptr;
    return code != nullptr && code->IsString() ? code->AsString() : "";
  }

  // Logs in through POST /api/v1/session.
  Creds SessionFor(const std::string& username, const std::string& password = kPassword) {
    Json body = Json::Object{{"username", username}, {"password", password}};
    http::Response r = Call(http::Method::kPost, "/api/v1/session", core::codec::DumpJson(body));
    EXPECT_EQ(r.status, 200) << r.body;
    std::string cookie(r.headers.Get("Set-Cookie"));
    std::string prefix = std::string(kSessionCookieName) + "=";
    EXPECT_TRUE(cookie.starts_with(prefix)) << cookie;
    Creds creds;
    creds.session = cookie.substr(prefix.size(), cookie.find(';') - prefix.size());
    Json json = BodyOf(r);
    const Json* csrf = json.Find("csrf_token");
    if (csrf != nullptr && csrf->IsString()) creds.csrf = csrf->AsString();
    return creds;
  }

  // An API token of `username` (with `role`, default the user's), made through the service.
  Creds TokenFor(const std::string& username, std::optional<operators::Role> role = std::nullopt) {
    auto token = service_->CreateToken(LoginOk(username), "test", role, 30);
    EXPECT_TRUE(token) << token.error().ToString();
    Creds creds;
    if (token) creds.token = token->secret;
    return creds;
  }

  std::optional<OperatorApiDeps> deps_;
  http::Router router_;
};

}  // namespace aloft::server::api
