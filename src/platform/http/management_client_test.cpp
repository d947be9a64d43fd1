#include "platform/http/management_client.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "platform/posix/files.hpp"
#include "testing/http_server.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::http {
namespace {

using testing::TestHttpServer;

class ManagementClientTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto server = TestHttpServer::Start();
    ASSERT_TRUE(server);
    server_ = std::move(*server);
    server_->SetHandler(
        [this](const TestHttpServer::Request& r) -> std::optional<TestHttpServer::Response> {
          std::lock_guard lock(mutex_);
          seen_.push_back(r);
          return answer_;
        });
    ManagementClientOptions options;
    options.allow_insecure_loopback = true;
    auto client = ManagementClient::Create(options);
    ASSERT_TRUE(client);
    client_ = std::move(*client);
  }

  TestHttpServer::Request Last() {
    std::lock_guard lock(mutex_);
    return seen_.empty() ? TestHttpServer::Request{} : seen_.back();
  }

  std::unique_ptr<TestHttpServer> server_;
  std::unique_ptr<ManagementClient> client_;
  std::mutex mutex_;
  std::vector<TestHttpServer::Request> seen_;
  TestHttpServer::Response answer_;
};

TEST_F(ManagementClientTest, SendsHeadersAndBodyAndReturnsAnyStatus) {
  answer_.status = 403;
  answer_.body = ToBytes(R"({"error":{"code":"forbidden","message":"no"}})");
  answer_.headers = {{"Set-Cookie", "other=1"},
                     {"Set-Cookie", "aloft_session=abc; Path=/"},
                     {"X-Thing", " padded "}};
  ManagementRequest request;
  request.method = HttpMethod::kPost;
  request.url = server_->BaseUrl() + "/api/v1/things?x=1";
  request.headers = {{"X-CSRF-Token", "csrf"}, {"Cookie", "aloft_session=abc"}};
  request.body = R"({"a":1})";
  auto response = client_->Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403);
  EXPECT_FALSE(response->ok());
  EXPECT_EQ(response->body, R"({"error":{"code":"forbidden","message":"no"}})");
  EXPECT_EQ(response->Cookie("aloft_session"), "abc");
  EXPECT_EQ(response->Cookie("missing"), std::nullopt);
  EXPECT_EQ(response->Header("x-thing"), "padded");

  const auto seen = Last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/things?x=1");
  EXPECT_EQ(seen.headers.at("x-csrf-token"), "csrf");
  EXPECT_EQ(seen.headers.at("cookie"), "aloft_session=abc");
  EXPECT_EQ(seen.headers.at("content-type"), "application/json");
  EXPECT_EQ(ToString(seen.body), R"({"a":1})");
}

TEST_F(ManagementClientTest, StreamsAFileUpWithProgress) {
  Bytes file(3 * 1024 * 1024 + 11);
  for (std::size_t i = 0; i < file.size(); ++i) file[i] = static_cast<std::uint8_t>(i * 31);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "artifact", file));
  answer_.status = 201;
  answer_.body = ToBytes("{}");
  ManagementRequest request;
  request.method = HttpMethod::kPut;
  request.url = server_->BaseUrl() + "/api/v1/artifacts/x";
  request.body_file = dir_ / "artifact";
  request.content_type = "application/octet-stream";
  std::uint64_t last_sent = 0, last_total = 0;
  request.upload_progress = [&](std::uint64_t sent, std::uint64_t total) {
    EXPECT_GE(sent, last_sent);
    last_sent = sent;
    last_total = total;
  };
  auto response = client_->Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(last_sent, file.size());
  EXPECT_EQ(last_total, file.size());
  const auto seen = Last();
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.headers.at("content-length"), std::to_string(file.size()));
  EXPECT_EQ(seen.headers.at("content-type"), "application/octet-stream");
  EXPECT_EQ(seen.body, file);
}

TEST_F(ManagementClientTest, StreamsASuccessfulAnswerToASink) {
  answer_.body = Bytes(200000, 'x');
  core::io::BytesWriter sink(1 << 20);
  ManagementRequest request;
  request.url = server_->BaseUrl() + "/export";
  request.response_sink = &sink;
  auto response = client_->Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_TRUE(response->body.empty());
  EXPECT_EQ(sink.bytes(), answer_.body);
  // A sink's failure ends the transfer with the sink's error.
  core::io::BytesWriter small(10);
  request.response_sink = &small;
  auto failed = client_->Send(request);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kTooLarge);
  // An error answer is collected, not streamed, so its message can be read.
  answer_.status = 404;
  answer_.body = ToBytes(R"({"error":{}})");
  core::io::BytesWriter unused(1 << 20);
  request.response_sink = &unused;
  auto not_found = client_->Send(request);
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->body, R"({"error":{}})");
  EXPECT_TRUE(unused.bytes().empty());
}

TEST_F(ManagementClientTest, RefusesWhatItMustNotSend) {
  ManagementRequest request;
  request.url = server_->BaseUrl() + "/x";
  request.headers = {{"X-Evil", "a\r\nInjected: yes"}};
  auto injected = client_->Send(request);
  ASSERT_FALSE(injected);
  EXPECT_EQ(injected.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(injected.error().message().find("Injected"), std::string::npos);  // value not echoed

  request.headers.clear();
  request.body = "x";
  request.body_file = dir_ / "f";
  EXPECT_EQ(client_->Send(request).error().code(), Errc::kInvalidArgument);
  request.body.reset();
  EXPECT_EQ(client_->Send(request).error().code(), Errc::kNotFound);

  request.body_file.reset();
  request.url = "http://192.0.2.1/x";
  EXPECT_EQ(client_->Send(request).error().code(), Errc::kUnsupported);
  auto strict = ManagementClient::Create({});
  ASSERT_TRUE(strict);
  request.url = server_->BaseUrl() + "/x";
  EXPECT_EQ((*strict)->Send(request).error().code(), Errc::kUnsupported);
  EXPECT_TRUE(seen_.empty());

  // In-memory answers are capped.
  answer_.body = Bytes(client_->options().max_response_bytes + 1, 'x');
  EXPECT_EQ(client_->Send(request).error().code(), Errc::kTooLarge);
}

}  // namespace
}  // namespace aloft::platform::http
