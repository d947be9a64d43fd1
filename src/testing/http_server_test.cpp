#include "testing/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace aloft::testing {
namespace {

using namespace std::chrono_literals;

// Connects to the server; -1 on failure.
int Connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` verbatim and returns everything the server sends until it closes.
std::string RoundTrip(std::uint16_t port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "<connect failed>";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "<send failed>";
  }
  std::string response;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}

std::string Get(std::uint16_t port, const std::string& target, const std::string& extra = "") {
  return RoundTrip(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n");
}

class TestHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestHttpServer::Start();
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
  }
  std::unique_ptr<TestHttpServer> server_;
};

TEST_F(TestHttpServerTest, ServesFilesAndRecordsTargets) {
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->BaseUrl(), "http://127.0.0.1:" + std::to_string(server_->port()));
  server_->SetFile("/a.json", ToBytes("hello"));
  EXPECT_EQ(Get(server_->port(), "/a.json"),
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(Get(server_->port(), "/a.json?cache=1").substr(0, 15), "HTTP/1.1 200 OK");
  const std::string missing = Get(server_->port(), "/b.json");
  EXPECT_EQ(missing.substr(0, 22), "HTTP/1.1 404 Not Found");
  EXPECT_NE(missing.find("<html>"), std::string::npos);
  server_->RemoveFile("/a.json");
  EXPECT_EQ(Get(server_->port(), "/a.json").substr(0, 12), "HTTP/1.1 404");
  EXPECT_EQ(server_->Requests(),
            (std::vector<std::string>{"/a.json", "/a.json?cache=1", "/b.json", "/a.json"}));
  server_->ClearRequests();
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(TestHttpServerTest, AnswersOpenRanges) {
  server_->SetFile("/f", ToBytes("0123456789"));
  EXPECT_EQ(Get(server_->port(), "/f", "Range: bytes=4-\r\n"),
            "HTTP/1.1 206 Partial Content\r\nContent-Length: 6\r\nConnection: close\r\n"
            "Content-Range: bytes 4-9/10\r\n\r\n456789");
  EXPECT_EQ(Get(server_->port(), "/f", "range: bytes=10-\r\n").substr(0, 12), "HTTP/1.1 416");
  // Unsupported forms get the whole file.
  EXPECT_EQ(Get(server_->port(), "/f", "Range: bytes=1-2\r\n").substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_F(TestHttpServerTest, HandlerComesFirstAndCanFallThrough) {
  server_->SetFile("/file", ToBytes("file"));
  server_->SetHandler(
      [](const TestHttpServer::Request& request) -> std::optional<TestHttpServer::Response> {
        if (request.path != "/custom") return std::nullopt;
        TestHttpServer::Response response;
        response.status = 503;
        response.body = ToBytes(request.headers.at("x-test"));
        response.headers.emplace_back("Retry-After", "1");
        response.omit_content_length = true;
        return response;
      });
  EXPECT_EQ(Get(server_->port(), "/custom", "X-Test:  value \r\n"),
            "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
            "value");
  EXPECT_EQ(Get(server_->port(), "/file").substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_F(TestHttpServerTest, MalformedRequestIsBadRequest) {
  EXPECT_EQ(RoundTrip(server_->port(), "garbage\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(TestHttpServerTest, TrickleDeliversWholeBody) {
  TestHttpServer::Response slow;
  slow.body = ToBytes("abcdef");
  slow.trickle_delay = 5ms;
  slow.trickle_chunk = 2;
  server_->SetHandler([slow](const TestHttpServer::Request&) { return slow; });
  const std::string response = Get(server_->port(), "/slow");
  EXPECT_EQ(response.substr(response.size() - 6), "abcdef");
}

TEST_F(TestHttpServerTest, StopDoesNotHangOnStalledOrSilentClients) {
  TestHttpServer::Response stalled;
  stalled.stall = true;
  server_->SetHandler([stalled](const TestHttpServer::Request&) { return stalled; });
  const int stalled_fd = Connect(server_->port());
  ASSERT_GE(stalled_fd, 0);
  const std::string request = "GET /x HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::send(stalled_fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  const int silent_fd = Connect(server_->port());  // queued behind the stalled one
  ASSERT_GE(silent_fd, 0);
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ::close(stalled_fd);
  ::close(silent_fd);
}

TEST_F(TestHttpServerTest, ServesAnotherProcess) {
  server_->SetFile("/from-child", ToBytes("child ok"));
  const std::string command =
      "curl --silent --show-error --max-time 5 " + server_->BaseUrl() + "/from-child";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  ASSERT_EQ(::pclose(pipe), 0);
  EXPECT_EQ(output, "child ok");
  EXPECT_EQ(server_->Requests(), (std::vector<std::string>{"/from-child"}));
}

}  // namespace
}  // namespace aloft::testing
