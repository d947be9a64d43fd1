// aloftd at its HTTP boundary: the input is the raw bytes a client sends on one connection. A
// real aloftd (app::Aloftd, the composition main.cpp runs: Beast front, router, every handler,
// SQLite, blob store) is started once, in-process, over plain HTTP on 127.0.0.1 with a private
// data directory; each input is written to a fresh connection, the write side is shut, and
// every response is read back until the server closes. Sockets are kept on purpose: the
// request reader (head and body limits, pipelining, Expect, chunked bodies) lives in the
// session, so this is the one way to fuzz exactly what aloftd runs.
// An admin API token with a fixed secret (kAdminToken) exists, so corpus requests that carry
// "Authorization: Bearer alo_fff..." reach the management handlers behind authentication.
// Invariants, for any input:
//  - never a 5xx: bad input is the client's error (4xx), and nothing in the server breaks;
//  - the server keeps accepting connections (nothing crashed or wedged a thread);
//  - every response carries the security headers (nosniff, DENY) and a Content-Length;
//  - every 4xx body is the JSON error shape {"error":{"code":...,"message":...}}.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

// Beast only to split the input into requests the way the server does (HeadRequests).
#include <boost/beast/http.hpp>

#include "core/codec/json.hpp"
#include "fuzz/check.hpp"
#include "platform/posix/system_clock.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "server/app/app.hpp"
#include "server/config/server_config.hpp"
#include "server/operators/operator_store.hpp"
#include "server/operators/password.hpp"
#include "server/operators/secrets.hpp"
#include "server/operators/sqlite/sqlite_operator_store.hpp"

namespace {

using aloft::fuzz::Check;
namespace app = aloft::server::app;
namespace ops = aloft::server::operators;

// "alo_" and 43 characters, the shape of a real token secret (operators/secrets).
const std::string kAdminToken = "alo_" + std::string(43, 'f');

[[noreturn]] void Die(std::string_view what, const aloft::Error& error) {
  std::fprintf(stderr, "http_fuzz setup: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               error.ToString().c_str());
  std::abort();
}

// The fuzz admin and its token, written before the server starts (as the integration tests'
// fixture does), with a cheap password hash: nobody logs in with it.
void AddAdminToken(const aloft::server::config::ServerConfig& config) {
  auto pool = aloft::platform::sqlite::ConnectionPool::Open(config.database_path(), {}, 1);
  if (!pool) Die("database", pool.error());
  ops::sqlite::SqliteOperatorStore store(**pool);
  const aloft::Timestamp now =
      std::chrono::floor<std::chrono::seconds>(aloft::platform::posix::SystemClock().Now());
  auto hash = ops::HashPassword("fuzz-admin-password", {.time_cost = 1, .memory_kib = 64});
  if (!hash) Die("password hash", hash.error());
  ops::UserRow user;
  user.username = "fuzz-admin";
  user.role = ops::Role::kAdmin;
  user.password_hash = *hash;
  user.created_at = user.updated_at = now;
  if (auto s = store.InsertUser(user); !s) Die("user", s.error());
  ops::ApiTokenRow token;
  token.id = "tok_fuzz";
  token.name = "fuzz";
  token.username = user.username;
  token.role = ops::Role::kAdmin;
  token.secret_hash = ops::SecretHash(kAdminToken);
  token.created_at = now;
  token.expires_at = now + std::chrono::days(3650);
  if (auto s = store.InsertToken(token); !s) Die("token", s.error());
}

// One aloftd for the whole run; stopped and its data directory removed at exit.
class Server {
 public:
  Server() {
    char dir_template[] = "/tmp/aloft-fuzz-http-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) std::abort();
    dir_ = dir_template;
    aloft::server::config::ServerConfig config;
    config.listen_address = "127.0.0.1";
    config.listen_port = 0;
    config.public_url = "http://127.0.0.1";
    config.data_dir = dir_ / "data";
    config.access_log = false;  // a JSON line per execution would drown libFuzzer's output
    config.threads = 2;
    config.shutdown_drain = std::chrono::seconds(0);
    // One client sends every request: no rate limit may turn into the answer under test.
    config.per_ip_burst = 1e9;
    config.per_ip_requests_per_second = 1e9;
    config.per_device_burst = 1e9;
    config.per_device_requests_per_second = 1e9;
    config.max_artifact_bytes = 1 << 20;
    app::InitOptions init;
    init.admin_password_file = dir_ / "admin-otp";
    if (auto summary = app::Init(config, init); !summary) Die("init", summary.error());
    AddAdminToken(config);
    auto server = app::Aloftd::Start(config);
    if (!server) Die("start", server.error());
    server_ = std::move(*server);
  }
  ~Server() {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return server_->port(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<app::Aloftd> server_;
};

// Sends `request` on a new connection, half-closes, and returns everything the server sent
// until it closed; nullopt when the server could not be reached.
std::optional<std::string> Exchange(std::uint16_t port, std::string_view request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  // A server that stops answering is a finding; 20 s is far beyond any legitimate answer.
  timeval timeout{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (431, 413): read what it said
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buffer[16384];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      Check(n == 0 || errno != EAGAIN, "the server answers within 20 s");
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

bool HasHeader(std::string_view head, std::string_view line) {
  // Header names are case-insensitive, but Beast writes ours as the handlers spell them.
  return head.find("\r\n" + std::string(line) + "\r\n") != std::string_view::npos;
}

std::optional<std::size_t> ContentLength(std::string_view head) {
  constexpr std::string_view kName = "\r\nContent-Length: ";
  const std::size_t at = head.find(kName);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t value = 0;
  for (std::size_t i = at + kName.size(); i < head.size() && head[i] >= '0' && head[i] <= '9';
       ++i) {
    value = value * 10 + static_cast<std::size_t>(head[i] - '0');
  }
  return value;
}

bool IsJsonError(std::string_view body) {
  auto json = aloft::core::codec::ParseJson(body);
  if (!json || !json->IsObject()) return false;
  const auto* error = json->Find("error");
  if (error == nullptr || !error->IsObject()) return false;
  const auto* code = error->Find("code");
  const auto* message = error->Find("message");
  return code != nullptr && code->IsString() && message != nullptr && message->IsString();
}

// The methods of the requests in `input`, in order, as far as Beast's parser (the server's,
// with its head limit) splits them: a HEAD response has a Content-Length but no body, so
// reading the replies needs to know which requests were HEAD.
std::vector<bool> HeadRequests(std::string_view input) {
  std::vector<bool> heads;
  namespace bhttp = boost::beast::http;
  while (!input.empty()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(true);
    boost::beast::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (ec || !parser.is_done()) break;
    heads.push_back(parser.get().method() == bhttp::verb::head);
    input.remove_prefix(used);
  }
  return heads;
}

// Checks every response in `reply`, in order. Interim "100 Continue" answers have no body and
// answer no request of their own. Once the replies outrun the requests we could split, the
// status line and headers of the next one are checked and reading stops.
void CheckReplies(std::string_view reply, const std::vector<bool>& head_requests) {
  std::size_t index = 0;
  while (!reply.empty()) {
    Check(reply.starts_with("HTTP/1.1 ") && reply.size() >= 12,
          "a response starts with a status line");
    const int status = (reply[9] - '0') * 100 + (reply[10] - '0') * 10 + (reply[11] - '0');
    const std::size_t head_end = reply.find("\r\n\r\n");
    Check(head_end != std::string_view::npos, "a response head is complete");
    const std::string_view head = reply.substr(0, head_end + 2);
    reply.remove_prefix(head_end + 4);
    // ALOFT_FUZZ_HTTP_TRACE=1 prints each status: to see what a corpus reaches.
    static const bool trace = std::getenv("ALOFT_FUZZ_HTTP_TRACE") != nullptr;
    if (trace) std::fprintf(stderr, "status %d\n", status);
    if (status == 100) continue;
    Check(status < 500, "never a 5xx");
    Check(HasHeader(head, "X-Content-Type-Options: nosniff"), "every response has nosniff");
    Check(HasHeader(head, "X-Frame-Options: DENY"), "every response has X-Frame-Options DENY");
    const auto length = ContentLength(head);
    Check(length.has_value(), "every response has a Content-Length");
    if (index >= head_requests.size()) return;
    if (head_requests[index++]) continue;
    Check(*length <= reply.size(), "a response body is complete");
    const std::string_view body = reply.substr(0, *length);
    if (status >= 400 && !body.empty()) Check(IsJsonError(body), "4xx bodies are JSON errors");
    reply.remove_prefix(*length);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Server server;
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  auto reply = Exchange(server.port(), request);
  Check(reply.has_value(), "the server accepts connections");
  CheckReplies(*reply, HeadRequests(request));
  return 0;
}
