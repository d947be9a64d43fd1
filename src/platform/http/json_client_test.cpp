// JsonClient against the test server on 127.0.0.1: statuses come back as answers, transport
// trouble as errors, and the scheme, size, redirect and time rules hold. Requests with bodies
// are exercised against aloftd itself in agent/identity's integration test.

#include "platform/http/json_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "testing/http_server.hpp"

namespace aloft::platform::http {
namespace {

using core::codec::Json;
using testing::TestHttpServer;
using namespace std::chrono_literals;

class JsonClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestHttpServer::Start();
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    JsonClientOptions options;
    options.allow_insecure_loopback = true;
    client_ = Make(options);
  }

  static std::unique_ptr<JsonClient> Make(JsonClientOptions options) {
    auto client = JsonClient::Create(std::move(options));
    EXPECT_TRUE(client) << client.error().ToString();
    return client ? std::move(*client) : nullptr;
  }

  void AnswerAlways(TestHttpServer::Response response) {
    server_->SetHandler([response](const TestHttpServer::Request& request) {
      last_ = request;
      return response;
    });
  }

  static TestHttpServer::Response JsonAnswer(int status, std::string body) {
    TestHttpServer::Response r;
    r.status = status;
    r.body = ToBytes(body);
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }

  std::string Url(const std::string& path) const { return server_->BaseUrl() + path; }

  std::unique_ptr<TestHttpServer> server_;
  std::unique_ptr<JsonClient> client_;
  static inline TestHttpServer::Request last_;
};

TEST_F(JsonClientTest, ParsesJsonAndSendsBearerToken) {
  AnswerAlways(JsonAnswer(200, R"({"a": 1})"));
  auto r = client_->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "tok-123");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->body.Find("a")->AsInt(), 1);
  EXPECT_EQ(r->headers.at("content-type"), "application/json");
  EXPECT_EQ(last_.headers["authorization"], "Bearer tok-123");
  EXPECT_EQ(last_.method, "GET");
}

TEST_F(JsonClientTest, NoTokenNoAuthorizationHeader) {
  AnswerAlways(JsonAnswer(204, ""));
  auto r = client_->Request(HttpMethod::kDelete, Url("/x"), std::nullopt, "");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 204);
  EXPECT_TRUE(r->body.IsNull());
  EXPECT_EQ(last_.headers.count("authorization"), 0u);
  EXPECT_EQ(last_.method, "DELETE");
}

TEST_F(JsonClientTest, ErrorStatusesAreAnswersWithRetryAfter) {
  TestHttpServer::Response limited =
      JsonAnswer(429, R"({"error": {"code": "rate_limited", "message": "slow down"}})");
  limited.headers.emplace_back("Retry-After", "7");
  AnswerAlways(limited);
  auto r = client_->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 429);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->RetryAfter(), std::chrono::seconds(7));
  EXPECT_EQ(r->ErrorText(), "HTTP 429 rate_limited: slow down");
}

TEST_F(JsonClientTest, NonJsonErrorPageGivesNullBodyButNonJsonSuccessFails) {
  AnswerAlways(JsonAnswer(502, "<html>bad gateway</html>"));
  auto r = client_->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 502);
  EXPECT_TRUE(r->body.IsNull());
  EXPECT_EQ(r->ErrorText(), "HTTP 502");

  AnswerAlways(JsonAnswer(200, "<html>hello</html>"));
  auto ok = client_->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code(), Errc::kUnavailable);
}

TEST_F(JsonClientTest, RedirectsAreNotFollowed) {
  TestHttpServer::Response moved = JsonAnswer(302, "");
  moved.headers.emplace_back("Location", Url("/elsewhere"));
  AnswerAlways(moved);
  auto r = client_->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->headers.at("location"), Url("/elsewhere"));
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(JsonClientTest, OversizeAnswersAreTooLarge) {
  JsonClientOptions options;
  options.allow_insecure_loopback = true;
  options.max_response_bytes = 64;
  auto small = Make(options);
  AnswerAlways(JsonAnswer(200, "\"" + std::string(100, 'x') + "\""));
  auto announced = small->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_FALSE(announced);
  EXPECT_EQ(announced.error().code(), Errc::kTooLarge);

  TestHttpServer::Response unannounced = JsonAnswer(200, "\"" + std::string(100, 'x') + "\"");
  unannounced.omit_content_length = true;
  AnswerAlways(unannounced);
  auto cut = small->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), Errc::kTooLarge);
}

TEST_F(JsonClientTest, StalledAnswerTimesOut) {
  JsonClientOptions options;
  options.allow_insecure_loopback = true;
  options.total_timeout = 300ms;
  auto impatient = Make(options);
  TestHttpServer::Response stalled = JsonAnswer(200, "{}");
  stalled.stall = true;
  AnswerAlways(stalled);
  auto r = impatient->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kTimeout);
}

TEST_F(JsonClientTest, ConnectionRefusedIsUnavailableAndTokenNotLeaked) {
  const std::string url = Url("/x");
  server_.reset();
  auto r = client_->Request(HttpMethod::kGet, url, std::nullopt, "secret-token");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kUnavailable);
  EXPECT_EQ(r.error().message().find("secret-token"), std::string::npos);
}

TEST_F(JsonClientTest, PlainHttpOnlyToLoopbackAndOnlyWhenAllowed) {
  AnswerAlways(JsonAnswer(200, "{}"));
  auto strict = Make({});
  auto refused = strict->Request(HttpMethod::kGet, Url("/x"), std::nullopt, "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kUnsupported);
  EXPECT_TRUE(server_->Requests().empty());

  EXPECT_TRUE(CheckUrlAllowed("http://127.0.0.1:1/x", true));
  EXPECT_TRUE(CheckUrlAllowed("http://127.255.3.4/x", true));
  EXPECT_TRUE(CheckUrlAllowed("http://localhost:8080", true));
  EXPECT_TRUE(CheckUrlAllowed("http://[::1]:8080/", true));
  EXPECT_TRUE(CheckUrlAllowed("https://ota.example/", false));
  EXPECT_EQ(CheckUrlAllowed("http://10.0.0.1/", true).error().code(), Errc::kUnsupported);
  EXPECT_EQ(CheckUrlAllowed("http://127.0.0.1.evil.example/", true).error().code(),
            Errc::kUnsupported);
  EXPECT_EQ(CheckUrlAllowed("http://localhost.evil.example/", true).error().code(),
            Errc::kUnsupported);
  EXPECT_EQ(CheckUrlAllowed("http://127.0.0.1/", false).error().code(), Errc::kUnsupported);
  EXPECT_EQ(CheckUrlAllowed("file:///etc/passwd", true).error().code(), Errc::kUnsupported);
  EXPECT_EQ(CheckUrlAllowed("not a url", true).error().code(), Errc::kInvalidArgument);
  // Found by fuzzing the agent's config: libcurl repairs these; we refuse them.
  EXPECT_EQ(CheckUrlAllowed("https:/ota.example/", false).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(CheckUrlAllowed("https:ota.example", false).error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(CheckUrlAllowed("HTTPS://ota.example/", false));
}

TEST_F(JsonClientTest, OriginDropsPathAndKeepsPort) {
  EXPECT_EQ(*UrlOrigin("https://OTA.example:8443/api/v1/"), "https://ota.example:8443");
  EXPECT_EQ(*UrlOrigin("https://ota.example"), "https://ota.example");
  EXPECT_EQ(*UrlOrigin("http://127.0.0.1:5000/x?y"), "http://127.0.0.1:5000");
  EXPECT_FALSE(UrlOrigin("::"));
}

}  // namespace
}  // namespace aloft::platform::http
