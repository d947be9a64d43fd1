// The server over real sockets on 127.0.0.1 (port 0), with a raw client (plain or OpenSSL) so
// that tests control every byte. Deadlines are configured small; nothing sleeps longer than it
// must.

#include "server/http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/crypto/x509.hpp"
#include "platform/posix/system_clock.hpp"
#include "server/http/range.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir.hpp"

namespace aloft::server::http {
namespace {

using namespace std::chrono_literals;

struct Reply {
  int status = 0;  // 0: the connection ended (or timed out) before a response
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A blocking client connection, plain or TLS.
class Conn {
 public:
  // With `resume`, the TLS client offers that session.
  explicit Conn(std::uint16_t port, SSL_CTX* tls = nullptr, SSL_SESSION* resume = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connected_ && tls != nullptr) {
      ssl_ = SSL_new(tls);
      if (resume != nullptr) SSL_set_session(ssl_, resume);
      SSL_set_fd(ssl_, fd_);
      connected_ = SSL_connect(ssl_) == 1;
      ERR_clear_error();
    }
  }
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return connected_; }
  SSL* ssl() const { return ssl_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      long n = ssl_ != nullptr ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                               : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response delimited by Content-Length (HEAD: headers only).
  Reply Read(bool head_only = false) {
    Reply reply;
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return reply;
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    reply.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
      pos = next + 2;
    }
    std::size_t length = head_only ? 0
                                   : std::stoul(reply.Header("content-length").empty()
                                                    ? "0"
                                                    : reply.Header("content-length"));
    while (buffer_.size() < length) {
      if (!Fill()) return Reply{};
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  // Ends TLS cleanly (close_notify). OpenSSL marks the client's session, and so the newest
  // ticket, as not resumable when the connection is freed without it.
  void CloseNotify() {
    if (ssl_ != nullptr) SSL_shutdown(ssl_);
  }

  // Ends the connection with a reset (SO_LINGER 0), unread data and all.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd_);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);  // for the destructor
  }

  // True when the server closes the connection (EOF or reset) before the receive timeout.
  bool ClosedByPeer() {
    char c;
    long n = ssl_ != nullptr ? SSL_read(ssl_, &c, 1) : ::recv(fd_, &c, 1, 0);
    ERR_clear_error();
    if (n > 0) return false;
    return n == 0 || errno != EAGAIN;
  }

 private:
  bool Fill() {
    char buf[16384];
    long n = ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof(buf)) : ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  std::string buffer_;
};

std::string Get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

std::string Post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string Pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

void ExpectSecurityHeaders(const Reply& r) {
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff") << r.status;
  EXPECT_EQ(r.Header("referrer-policy"), "no-referrer") << r.status;
  EXPECT_EQ(r.Header("x-frame-options"), "DENY") << r.status;
  EXPECT_NE(r.Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_FALSE(r.Header("cache-control").empty());
}

RouteOptions Options(std::string name, std::uint64_t max_body, bool stream) {
  RouteOptions options;
  options.name = std::move(name);
  options.max_body_bytes = max_body;
  options.stream_body_to_file = stream;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = aloft::testing::TempDir::Create();
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    uploads_ = dir_->path() / "uploads";
    std::filesystem::create_directory(uploads_);
    blob_ = dir_->path() / "blob";
    std::ofstream(blob_) << "0123456789";

    ASSERT_TRUE(router_.Add(Method::kGet, "/api/v1/devices/{id}",
                            [this](const Request& req, const RouteParams& p) {
                              ++calls_;
                              core::codec::Json::Object o;
                              o.emplace("id", p.at("id"));
                              o.emplace("peer", req.peer_address);
                              return Response::Json(200, core::codec::Json(std::move(o)));
                            }));
    ASSERT_TRUE(router_.Add(
        Method::kPost, "/echo",
        [this](const Request& req, const RouteParams&) {
          ++calls_;
          return Response::Text(200, "text/plain", req.body);
        },
        Options("echo", 16, false)));
    ASSERT_TRUE(router_.Add(
        Method::kPost, "/upload",
        [this](const Request& req, const RouteParams&) {
          ++calls_;
          std::string content(4, '\0');
          std::ifstream(*req.body_file).read(content.data(), 4);
          return Response::Text(200, "text/plain",
                                std::to_string(req.body_size) + ":" + content.substr(0, 4));
        },
        Options("upload", 100000, true)));
    ASSERT_TRUE(router_.Add(
        Method::kPost, "/upload-large",
        [this](const Request& req, const RouteParams&) {
          ++calls_;
          return Response::Text(200, "text/plain", std::to_string(req.body_size));
        },
        Options("upload-large", 8 << 20, true)));
    ASSERT_TRUE(
        router_.Add(Method::kGet, "/blobs/{hash}", [this](const Request& req, const RouteParams&) {
          return ServeFile(req, FileResource{blob_, 10, "h1", "application/octet-stream", true});
        }));
    ASSERT_TRUE(router_.Add(Method::kGet, "/slow", [this](const Request&, const RouteParams&) {
      slow_started_.set_value();
      std::this_thread::sleep_for(300ms);
      return Response::Text(200, "text/plain", "done");
    }));
    // n bytes of a repeating pattern: in-memory bodies below, at and above the size that is
    // sent in one buffer with the head, and far larger than one TLS record or socket write.
    ASSERT_TRUE(router_.Add(Method::kGet, "/big/{n}", [](const Request&, const RouteParams& p) {
      return Response::Text(200, "text/plain", Pattern(std::stoul(p.at("n"))));
    }));
    ASSERT_TRUE(router_.Add(Method::kGet, "/injected", [](const Request&, const RouteParams&) {
      Response r = Response::Text(200, "text/plain", "body");
      r.headers.Add("X-Split", "a\r\nSet-Cookie: evil=1");
      r.headers.Add("Content-Length", "999");
      r.headers.Add("X-Fine", "yes");
      return r;
    }));
    ASSERT_TRUE(router_.Add(Method::kGet, "/whoami", [](const Request& req, const RouteParams&) {
      return Response::Text(200, "text/plain",
                            req.client_certificate ? req.client_certificate->subject_common_name
                                                   : std::string("anonymous"));
    }));
  }

  ServerConfig PlainConfig() {
    ServerConfig config;
    config.allow_plain_http = true;
    config.max_header_bytes = 1024;
    config.header_timeout = 300ms;
    config.idle_timeout = 2s;
    config.upload_dir = uploads_;
    config.observer = [this](const RequestLog& log) {
      std::lock_guard lock(log_mutex_);
      logs_.push_back(log);
    };
    config.log = [this](std::string_view line) {
      std::lock_guard lock(log_mutex_);
      lines_.emplace_back(line);
    };
    return config;
  }

  std::unique_ptr<HttpServer> StartServer(ServerConfig config) {
    auto server = HttpServer::Start(std::move(config), router_, clock_);
    EXPECT_TRUE(server) << server.error().ToString();
    return server ? std::move(*server) : nullptr;
  }

  std::optional<aloft::testing::TempDir> dir_;
  std::filesystem::path uploads_, blob_;
  Router router_;
  platform::posix::SystemClock clock_;
  std::atomic<int> calls_{0};
  std::promise<void> slow_started_;
  std::mutex log_mutex_;
  std::vector<RequestLog> logs_;
  std::vector<std::string> lines_;  // the server's log lines
};

TEST_F(ServerTest, RoutesKeepAliveAndErrors) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/api/v1/devices/d%201")));
  Reply ok = c.Read();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"id":"d 1","peer":"127.0.0.1"})");
  EXPECT_EQ(ok.Header("content-type"), "application/json");
  EXPECT_EQ(ok.Header("cache-control"), "no-store");
  EXPECT_TRUE(ok.Header("strict-transport-security").empty());
  ExpectSecurityHeaders(ok);

  // Same connection: keep-alive.
  ASSERT_TRUE(c.Send(Get("/nowhere")));
  Reply missing = c.Read();
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":{"code":"not_found","message":"no such resource"}})");
  ExpectSecurityHeaders(missing);

  ASSERT_TRUE(c.Send("DELETE /api/v1/devices/x HTTP/1.1\r\nHost: t\r\n\r\n"));
  Reply not_allowed = c.Read();
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.Header("allow"), "GET, HEAD");

  ASSERT_TRUE(c.Send(Get("/api/v1/../etc/passwd")));
  Reply bad = c.Read();
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body.find("passwd"), std::string::npos);

  ASSERT_TRUE(c.Send(Post("/echo", "hello")));
  EXPECT_EQ(c.Read().body, "hello");

  // HEAD gets the headers of GET, no body.
  ASSERT_TRUE(c.Send("HEAD /api/v1/devices/a HTTP/1.1\r\nHost: t\r\n\r\n"));
  Reply head = c.Read(/*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "29");
  EXPECT_EQ(calls_.load(), 3);

  server->Stop(1s);
  std::lock_guard lock(log_mutex_);
  ASSERT_GE(logs_.size(), 6u);
  EXPECT_EQ(logs_[0].route, "GET /api/v1/devices/{id}");
  EXPECT_EQ(logs_[0].status, 200);
  EXPECT_EQ(logs_[1].status, 404);
}

// In-memory bodies of every size arrive whole, and the connection carries on after each.
void ExpectBodiesOfEverySize(Conn& c) {
  for (std::size_t n : {0ul, 1ul, 4095ul, 4096ul, 4097ul, 70000ul, 3000000ul}) {
    ASSERT_TRUE(c.Send(Get("/big/" + std::to_string(n))));
    Reply r = c.Read();
    EXPECT_EQ(r.status, 200) << n;
    EXPECT_EQ(r.Header("content-length"), std::to_string(n));
    EXPECT_TRUE(r.body == Pattern(n)) << n;
    ExpectSecurityHeaders(r);
  }
  ASSERT_TRUE(c.Send("HEAD /big/70000 HTTP/1.1\r\nHost: t\r\n\r\n"));
  Reply head = c.Read(/*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "70000");
  ASSERT_TRUE(c.Send(Get("/big/5")));
  EXPECT_EQ(c.Read().body, Pattern(5));  // HEAD sent no body: the next answer is in step
}

TEST_F(ServerTest, InMemoryBodiesOfEverySizeArriveWhole) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.connected());
  ExpectBodiesOfEverySize(c);
}

// Heads that arrive whole, several at once, or in pieces: the buffered ones are parsed at
// once, the partial ones wait for the rest; answers come back in order either way.
TEST_F(ServerTest, PipelinedAndFragmentedHeadsAreAnsweredInOrder) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/big/1") + Get("/big/2") + Post("/echo", "three") + Get("/big/4")));
  EXPECT_EQ(c.Read().body, Pattern(1));
  EXPECT_EQ(c.Read().body, Pattern(2));
  EXPECT_EQ(c.Read().body, "three");
  EXPECT_EQ(c.Read().body, Pattern(4));
  // A head in three pieces, the second one ending inside a field.
  const std::string head = Get("/big/5", "X-Long: " + std::string(100, 'v') + "\r\n");
  ASSERT_TRUE(c.Send(head.substr(0, 7)));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(c.Send(head.substr(7, 50)));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(c.Send(head.substr(57) + Get("/big/6").substr(0, 10)));
  EXPECT_EQ(c.Read().body, Pattern(5));
  ASSERT_TRUE(c.Send(Get("/big/6").substr(10)));
  EXPECT_EQ(c.Read().body, Pattern(6));
  // A buffered head that is too large is still refused (431), not parsed on.
  ASSERT_TRUE(c.Send(Get("/big/7") + Get("/big/8", "X-Big: " + std::string(2000, 'b') + "\r\n")));
  EXPECT_EQ(c.Read().body, Pattern(7));
  EXPECT_EQ(c.Read().status, 431);
}

TEST_F(ServerTest, HandlerHeadersCannotSplitTheResponseOrChangeItsLength) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.Send(Get("/injected")));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(r.Header("content-length"), "4");
  EXPECT_TRUE(r.Header("set-cookie").empty());
  EXPECT_TRUE(r.Header("x-split").empty());
  EXPECT_EQ(r.Header("x-fine"), "yes");
  ASSERT_TRUE(c.Send(Get("/big/3")));  // still in step
  EXPECT_EQ(c.Read().body, Pattern(3));
  std::lock_guard lock(log_mutex_);
  bool logged = false;
  for (const auto& line : lines_) {
    logged |= line.find("malformed response header") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.Send("GARBAGE\r\n\r\n"));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_TRUE(c.ClosedByPeer());
}

// Waits up to `limit` for the server's open connections to reach `count`.
bool ConnectionsReach(const HttpServer& server, std::size_t count,
                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (server.ConnectionCountForTest() != count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A `Connection: close` request that was read whole, with nothing sent after it, is closed
// as soon as it is answered (the client still holds its end); bytes that follow it make the
// server linger (about a second), reading and discarding them, so that they cannot turn the
// close into a reset that could destroy the answer at the client.
TEST_F(ServerTest, AClosingAnswerLingersOnlyWhenMoreBytesCame) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  {
    Conn c(server->port());
    ASSERT_TRUE(c.Send(Get("/api/v1/devices/a", "Connection: close\r\n")));
    EXPECT_EQ(c.Read().status, 200);
    EXPECT_TRUE(c.ClosedByPeer());
    EXPECT_TRUE(ConnectionsReach(*server, 0, 500ms)) << server->ConnectionCountForTest();
  }
  {
    Conn c(server->port());
    ASSERT_TRUE(c.Send(Get("/api/v1/devices/a", "Connection: close\r\n") + Get("/more")));
    EXPECT_EQ(c.Read().status, 200);
    EXPECT_TRUE(c.ClosedByPeer());  // the server's FIN: it sends no more
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(server->ConnectionCountForTest(), 1u);  // still reading what the client sent
    EXPECT_TRUE(ConnectionsReach(*server, 0, 3s));
  }
}

TEST_F(ServerTest, OversizeBodyIs413BeforeTheHandler) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.Send(Post("/echo", std::string(100, 'x'))));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 413);
  ExpectSecurityHeaders(r);
  EXPECT_EQ(calls_.load(), 0);

  // Chunked: no Content-Length, cut while reading.
  Conn chunked(server->port());
  ASSERT_TRUE(
      chunked.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.Read().status, 413);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, OversizeHeadersAre431) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.Send(Get("/api/v1/devices/a", "X-Big: " + std::string(2000, 'a') + "\r\n")));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 431);
  ExpectSecurityHeaders(r);
}

TEST_F(ServerTest, SlowlorisIsDisconnectedWhileOthersAreServed) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn slow(server->port());
  ASSERT_TRUE(slow.Send("GET /api/v1/devices/a HTTP/1.1\r\nHost: t\r\nX-A: "));
  Conn fast(server->port());
  ASSERT_TRUE(fast.Send(Get("/api/v1/devices/b")));
  EXPECT_EQ(fast.Read().status, 200);
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.ClosedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
}

TEST_F(ServerTest, RateLimitPerIpGives429WithRetryAfter) {
  aloft::testing::FakeClock fake;
  ServerConfig config = PlainConfig();
  config.per_ip_limit = RateLimit{2, 0.1, 16};
  auto server = HttpServer::Start(std::move(config), router_, fake);
  ASSERT_TRUE(server);
  Conn c((*server)->port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.Send(Get("/api/v1/devices/a")));
    EXPECT_EQ(c.Read().status, 200);
  }
  ASSERT_TRUE(c.Send(Get("/api/v1/devices/a")));
  Reply limited = c.Read();
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("retry-after"), "10");
  ExpectSecurityHeaders(limited);
  fake.Advance(10s);
  ASSERT_TRUE(c.Send(Get("/api/v1/devices/a")));
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(ServerTest, RangeRequests) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.Send(Get("/blobs/h1")));
  Reply full = c.Read();
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(full.body, "0123456789");
  EXPECT_EQ(full.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(full.Header("etag"), "\"h1\"");

  ASSERT_TRUE(c.Send(Get("/blobs/h1", "Range: bytes=3-\r\n")));
  Reply part = c.Read();
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "3456789");
  EXPECT_EQ(part.Header("content-range"), "bytes 3-9/10");

  ASSERT_TRUE(c.Send(Get("/blobs/h1", "Range: bytes=-2\r\n")));
  EXPECT_EQ(c.Read().body, "89");

  ASSERT_TRUE(c.Send(Get("/blobs/h1", "Range: bytes=50-60\r\n")));
  Reply unsatisfiable = c.Read();
  EXPECT_EQ(unsatisfiable.status, 416);
  EXPECT_EQ(unsatisfiable.Header("content-range"), "bytes */10");

  ASSERT_TRUE(c.Send(Get("/blobs/h1", "If-None-Match: \"h1\"\r\n")));
  Reply not_modified = c.Read(/*head_only=*/true);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("etag"), "\"h1\"");
}

TEST_F(ServerTest, StreamedUploadIsCappedAndCleanedUp) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  {
    Conn c(server->port());
    ASSERT_TRUE(c.Send(Post("/upload", "abcd" + std::string(5000, 'z'))));
    Reply r = c.Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "5004:abcd");
  }
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_TRUE(std::filesystem::is_empty(uploads_));
  {
    // Chunked and over the cap: cut with 413 mid-body, the temp file removed.
    Conn c(server->port());
    std::string request = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunk(10000, 'q');
    for (int i = 0; i < 11; ++i) request += "2710\r\n" + chunk + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(c.Send(request));
    EXPECT_EQ(c.Read().status, 413);
  }
  EXPECT_EQ(calls_.load(), 1);
  // The session removes the file before answering.
  EXPECT_TRUE(std::filesystem::is_empty(uploads_));
}

TEST_F(ServerTest, UploadsLargerThanBeastsDefaultLimitReachTheRoute) {
  // Beast's parser refuses a Content-Length over 1 MB at the head unless told otherwise; the
  // route's own cap (8 MiB here) is what must decide.
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  Conn c(server->port());
  ASSERT_TRUE(c.Send(Post("/upload-large", std::string(3 << 20, 'x'))));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(3 << 20));
}

TEST_F(ServerTest, ConnectionsAreDealtOutToEveryIoThread) {
  // Each handler waits until all three are inside at once: only three threads serving the
  // three connections side by side get there (one thread would time out alone).
  constexpr int kThreads = 3;
  std::mutex mutex;
  std::condition_variable arrived;
  int inside = 0;
  std::set<std::thread::id> threads;
  ASSERT_TRUE(router_.Add(Method::kGet, "/rendezvous", [&](const Request&, const RouteParams&) {
    std::unique_lock lock(mutex);
    ++inside;
    threads.insert(std::this_thread::get_id());
    arrived.notify_all();
    const bool met = arrived.wait_for(lock, 5s, [&] { return inside >= kThreads; });
    return Response::Text(200, "text/plain", met ? "together" : "alone");
  }));
  ServerConfig config = PlainConfig();
  config.threads = kThreads;
  auto server = StartServer(std::move(config));
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < kThreads; ++i) {
    conns.push_back(std::make_unique<Conn>(server->port()));
    ASSERT_TRUE(conns.back()->connected());
  }
  for (auto& c : conns) ASSERT_TRUE(c->Send(Get("/rendezvous")));
  for (auto& c : conns) {
    Reply r = c->Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "together");
  }
  EXPECT_EQ(threads.size(), static_cast<std::size_t>(kThreads));
  // A connection keeps its thread: the next request on the first one is served as usual.
  ASSERT_TRUE(conns.front()->Send(Get("/api/v1/devices/again")));
  EXPECT_EQ(conns.front()->Read().status, 200);
}

TEST_F(ServerTest, GracefulStopFinishesInFlightAndRefusesNew) {
  auto server = StartServer(PlainConfig());
  ASSERT_TRUE(server);
  const std::uint16_t port = server->port();
  Conn idle(port);
  ASSERT_TRUE(idle.Send(Get("/api/v1/devices/a")));
  ASSERT_EQ(idle.Read().status, 200);  // now idle in keep-alive

  Conn busy(port);
  ASSERT_TRUE(busy.Send(Get("/slow")));
  slow_started_.get_future().wait();
  std::thread stopper([&] { server->Stop(5s); });
  Reply r = busy.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(idle.ClosedByPeer());
  stopper.join();
  Conn refused(port);
  EXPECT_FALSE(refused.connected());
}

// --- TLS ------------------------------------------------------------------------------------

struct Pki {
  std::filesystem::path ca_file, cert_file, key_file;
  std::string client_cert_pem, client_key_pem, ca_pem;
};

Pki MakePki(const std::filesystem::path& dir) {
  using core::crypto::KeyType;
  using core::crypto::PrivateKey;
  Pki pki;
  auto ca_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  auto server_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  auto client_key = PrivateKey::Generate(KeyType::kEd25519);
  auto ca = core::crypto::MakeSelfSignedCaPem(*ca_key, "test CA", 1h);
  core::crypto::CertificateRequest server_req;
  server_req.common_name = "aloftd";
  server_req.dns_names = {"localhost"};
  server_req.ip_addresses = {"127.0.0.1"};
  server_req.server_auth = true;
  auto server_cert =
      core::crypto::IssueCertificatePem(*ca_key, *ca, server_key->Public(), server_req);
  core::crypto::CertificateRequest client_req;
  client_req.common_name = "device-42";
  client_req.client_auth = true;
  auto client_cert =
      core::crypto::IssueCertificatePem(*ca_key, *ca, client_key->Public(), client_req);
  EXPECT_TRUE(server_cert && client_cert);
  pki.ca_file = dir / "ca.pem";
  pki.cert_file = dir / "server.pem";
  pki.key_file = dir / "server.key";
  std::ofstream(pki.ca_file) << *ca;
  std::ofstream(pki.cert_file) << *server_cert;
  std::ofstream(pki.key_file) << *server_key->ToPem();
  pki.ca_pem = *ca;
  pki.client_cert_pem = *client_cert;
  pki.client_key_pem = *client_key->ToPem();
  return pki;
}

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

CtxPtr ClientCtx(const Pki& pki, int min_version, int max_version, bool with_cert) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_security_level(ctx.get(), 0);  // let the client offer old versions
  SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
  BIO* bio = BIO_new_mem_buf(pki.ca_pem.data(), static_cast<int>(pki.ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(store, ca);
  X509_free(ca);
  BIO_free(bio);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (with_cert) {
    BIO* cb =
        BIO_new_mem_buf(pki.client_cert_pem.data(), static_cast<int>(pki.client_cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO* kb =
        BIO_new_mem_buf(pki.client_key_pem.data(), static_cast<int>(pki.client_key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx.get(), cert);
    SSL_CTX_use_PrivateKey(ctx.get(), key);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
  }
  return ctx;
}

class TlsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    pki_ = MakePki(dir_->path());
  }
  ServerConfig TlsServerConfig(ClientAuth auth) {
    ServerConfig config = PlainConfig();
    config.allow_plain_http = false;
    config.tls = TlsConfig{pki_.cert_file, pki_.key_file, pki_.ca_file, auth};
    return config;
  }
  Pki pki_;
};

TEST_F(TlsServerTest, Tls13And12WorkTls11IsRefused) {
  auto server = StartServer(TlsServerConfig(ClientAuth::kOptional));
  ASSERT_TRUE(server);
  {
    auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
    Conn c(server->port(), ctx.get());
    ASSERT_TRUE(c.connected());
    EXPECT_STREQ(SSL_get_version(c.ssl()), "TLSv1.3");
    ASSERT_TRUE(c.Send(Get("/whoami")));
    Reply r = c.Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "anonymous");
    EXPECT_NE(r.Header("strict-transport-security").find("max-age="), std::string::npos);
    ExpectSecurityHeaders(r);
  }
  {
    auto ctx = ClientCtx(pki_, TLS1_2_VERSION, TLS1_2_VERSION, true);
    Conn c(server->port(), ctx.get());
    ASSERT_TRUE(c.connected());
    EXPECT_STREQ(SSL_get_version(c.ssl()), "TLSv1.2");
    ASSERT_TRUE(c.Send(Get("/whoami")));
    EXPECT_EQ(c.Read().body, "device-42");  // optional mTLS: a presented cert is recorded
  }
  {
    auto ctx = ClientCtx(pki_, TLS1_VERSION, TLS1_1_VERSION, false);
    Conn c(server->port(), ctx.get());
    EXPECT_FALSE(c.connected());
  }
}

TEST_F(TlsServerTest, AClosingAnswerToAWholeRequestClosesAtOnce) {
  auto server = StartServer(TlsServerConfig(ClientAuth::kOptional));
  ASSERT_TRUE(server);
  auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
  Conn c(server->port(), ctx.get());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/whoami", "Connection: close\r\n")));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_TRUE(ConnectionsReach(*server, 0, 500ms)) << server->ConnectionCountForTest();
}

// Session tickets (TlsConfig::session_tickets): the configured number arrives after a full
// handshake, and a ticket resumes the next connection, which gets a fresh one in turn.
TEST_F(TlsServerTest, SessionTicketsAsConfiguredResumeTheNextConnection) {
  for (unsigned tickets : {0u, 1u, 2u}) {
    ServerConfig config = TlsServerConfig(ClientAuth::kNone);
    config.tls->session_tickets = tickets;
    auto server = StartServer(std::move(config));
    ASSERT_TRUE(server);
    auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
    // The client keeps every ticket that arrives, newest last.
    static std::vector<SSL_SESSION*> received;
    received.clear();
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx.get(), [](SSL*, SSL_SESSION* session) {
      received.push_back(session);
      return 1;  // the client keeps the reference
    });
    {
      Conn c(server->port(), ctx.get());
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.Send(Get("/whoami")));
      EXPECT_EQ(c.Read().status, 200);  // the tickets precede the answer
      EXPECT_FALSE(SSL_session_reused(c.ssl()));
      c.CloseNotify();
    }
    EXPECT_EQ(received.size(), tickets);
    // No 0-RTT: a ticket never lets a client send replayable early data.
    for (SSL_SESSION* session : received) EXPECT_EQ(SSL_SESSION_get_max_early_data(session), 0u);
    if (tickets > 0) {
      Conn again(server->port(), ctx.get(), received.back());
      ASSERT_TRUE(again.connected());
      ASSERT_TRUE(again.Send(Get("/whoami")));
      EXPECT_EQ(again.Read().status, 200);
      EXPECT_TRUE(SSL_session_reused(again.ssl()));
      EXPECT_EQ(received.size(), tickets + 1);  // OpenSSL replaces the used one
    }
    for (SSL_SESSION* session : received) SSL_SESSION_free(session);
    received.clear();
  }
}

TEST_F(TlsServerTest, InMemoryBodiesOfEverySizeArriveWhole) {
  auto server = StartServer(TlsServerConfig(ClientAuth::kOptional));
  ASSERT_TRUE(server);
  auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
  Conn c(server->port(), ctx.get());
  ASSERT_TRUE(c.connected());
  ExpectBodiesOfEverySize(c);
}

// The server writes TLS records to the socket itself (TlsIo in socket_stream.hpp); a client
// that resets the connection in the middle of a large answer must cost that connection only.
// OpenSSL writes with write(2), so a write after the reset has been reported raises SIGPIPE, whose
// default action ends the process: the server must have set it to be ignored (the full
// handshake benchmark, thousands of resets, died of it before it was).
TEST_F(TlsServerTest, AClientThatResetsMidAnswerDoesNotTakeTheServerDown) {
  auto server = StartServer(TlsServerConfig(ClientAuth::kOptional));
  ASSERT_TRUE(server);
  struct sigaction pipe_action {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &pipe_action), 0);
  EXPECT_EQ(pipe_action.sa_handler, SIG_IGN);
  auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
  for (int i = 0; i < 3; ++i) {
    Conn c(server->port(), ctx.get());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(Get("/big/3000000")));
    std::this_thread::sleep_for(20ms);  // the server is writing: the socket buffer is full
    c.Reset();
  }
  Conn after(server->port(), ctx.get());
  ASSERT_TRUE(after.connected());
  ASSERT_TRUE(after.Send(Get("/big/10")));
  EXPECT_EQ(after.Read().body, Pattern(10));
}

// A TLS client that connects and never sends a handshake is dropped at the header deadline,
// and one that stops in the middle of a request head likewise; both deadlines are the TLS
// stream's own (SocketStream), not the TCP stream's.
TEST_F(TlsServerTest, SilentAndStalledTlsClientsAreDisconnected) {
  ServerConfig config = TlsServerConfig(ClientAuth::kOptional);
  config.header_timeout = 200ms;
  auto server = StartServer(std::move(config));
  ASSERT_TRUE(server);
  Conn silent(server->port());  // TCP only: no ClientHello
  ASSERT_TRUE(silent.connected());
  auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
  Conn stalled(server->port(), ctx.get());
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(stalled.Send("GET /big/1 HTTP/1.1\r\nHo"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedByPeer());
  EXPECT_TRUE(stalled.ClosedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // Meanwhile the server still answers others.
  Conn fine(server->port(), ctx.get());
  ASSERT_TRUE(fine.Send(Get("/big/2")));
  EXPECT_EQ(fine.Read().body, Pattern(2));
}

TEST_F(TlsServerTest, RequiredClientCertificate) {
  auto server = StartServer(TlsServerConfig(ClientAuth::kRequired));
  ASSERT_TRUE(server);
  {
    auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, true);
    Conn c(server->port(), ctx.get());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(Get("/whoami")));
    EXPECT_EQ(c.Read().body, "device-42");
  }
  {
    // TLS 1.3 clients finish their side before the server checks the certificate, so the
    // refusal shows on the first read.
    auto ctx = ClientCtx(pki_, TLS1_3_VERSION, TLS1_3_VERSION, false);
    Conn c(server->port(), ctx.get());
    if (c.connected()) {
      (void)c.Send(Get("/whoami"));
      EXPECT_EQ(c.Read().status, 0);
    }
  }
}

TEST(HttpServerConfig, RefusesPlainHttpUnlessAllowed) {
  Router router;
  platform::posix::SystemClock clock;
  auto server = HttpServer::Start(ServerConfig{}, router, clock);
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace aloft::server::http
