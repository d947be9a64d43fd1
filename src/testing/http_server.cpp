#include "testing/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <system_error>

namespace aloft::testing {
namespace {

constexpr std::size_t kMaxHeadBytes = std::size_t{64} * 1024;
// A client that connects and sends nothing is dropped after this long.
constexpr std::chrono::milliseconds kHeadTimeout{5000};
// A client that stops reading our response is dropped after this long.
constexpr std::chrono::milliseconds kSendTimeout{10000};
// After the response, how long we wait for the client to close before we do.
constexpr std::chrono::milliseconds kLingerTimeout{500};

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Parses "METHOD TARGET VERSION\r\nName: value\r\n...". nullopt when the request line is bad.
std::optional<TestHttpServer::Request> ParseHead(std::string_view head) {
  TestHttpServer::Request request;
  std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  request.method = std::string(line.substr(0, sp1));
  request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (request.method.empty() || request.target.empty()) return std::nullopt;
  request.path = request.target.substr(0, request.target.find('?'));

  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view header = head.substr(start, line_end - start);
    const std::size_t colon = header.find(':');
    if (header.empty() || colon == std::string_view::npos) continue;
    request.headers[Lower(Trim(header.substr(0, colon)))] =
        std::string(Trim(header.substr(colon + 1)));
  }
  return request;
}

// "bytes=N-" -> N. Other range forms are not supported and are ignored (a full 200 answer).
std::optional<std::size_t> ParseOpenRange(std::string_view value) {
  constexpr std::string_view kPrefix = "bytes=";
  if (value.substr(0, kPrefix.size()) != kPrefix || value.back() != '-') return std::nullopt;
  const std::string_view digits = value.substr(kPrefix.size(), value.size() - kPrefix.size() - 1);
  std::size_t offset = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  return offset;
}

TestHttpServer::Response NotFound(const std::string& path) {
  TestHttpServer::Response response;
  response.status = 404;
  response.body = ToBytes("<html><body><h1>404 Not Found</h1><p>" + path + "</p></body></html>\n");
  response.headers.emplace_back("Content-Type", "text/html");
  return response;
}

Error SocketError(std::string_view what) {
  return Error(Errc::kIo, std::string(what) + ": " + std::generic_category().message(errno));
}

}  // namespace

Result<std::unique_ptr<TestHttpServer>> TestHttpServer::Start() {
  const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd < 0) return Fail(SocketError("socket"));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int wake[2] = {-1, -1};
  if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0 ||
      ::listen(listen_fd, 64) < 0 ||
      ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) < 0 ||
      ::pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
    Error error = SocketError("listen on 127.0.0.1");
    ::close(listen_fd);
    return Fail(std::move(error));
  }
  std::unique_ptr<TestHttpServer> server(
      new TestHttpServer(listen_fd, wake[0], wake[1], ntohs(address.sin_port)));
  try {
    server->thread_ = std::thread(&TestHttpServer::Serve, server.get());
  } catch (const std::system_error& e) {
    return Fail(Errc::kInternal, std::string("start server thread: ") + e.what());
  }
  return server;
}

TestHttpServer::TestHttpServer(int listen_fd, int wake_read_fd, int wake_write_fd,
                               std::uint16_t port)
    : listen_fd_(listen_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      port_(port) {}

TestHttpServer::~TestHttpServer() {
  Stop();
  ::close(listen_fd_);
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
}

void TestHttpServer::Stop() {
  std::call_once(stop_once_, [this] {
    stopping_.store(true);
    // Never read back: the pipe stays readable, so every later poll returns at once.
    const char byte = 'x';
    while (::write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
    }
    if (thread_.joinable()) thread_.join();
  });
}

std::string TestHttpServer::BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

void TestHttpServer::SetFile(std::string path, Bytes body) {
  std::lock_guard lock(mutex_);
  files_[std::move(path)] = std::move(body);
}

void TestHttpServer::RemoveFile(const std::string& path) {
  std::lock_guard lock(mutex_);
  files_.erase(path);
}

void TestHttpServer::SetHandler(Handler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

std::vector<std::string> TestHttpServer::Requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void TestHttpServer::ClearRequests() {
  std::lock_guard lock(mutex_);
  requests_.clear();
}

bool TestHttpServer::WaitFor(int fd, short events, std::chrono::milliseconds timeout) const {
  pollfd fds[2] = {{fd, events, 0}, {wake_read_fd_, POLLIN, 0}};
  for (;;) {
    if (stopping_.load()) return false;
    const int rc = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0 || fds[1].revents != 0) return false;
    return fds[0].revents != 0;  // readiness, hang-up or error: the next call tells which
  }
}

bool TestHttpServer::SendAll(int fd, std::string_view data) const {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd, POLLOUT, kSendTimeout)) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return !stopping_.load();
}

void TestHttpServer::Serve() {
  while (!stopping_.load()) {
    if (!WaitFor(listen_fd_, POLLIN, std::chrono::milliseconds(-1))) {
      if (stopping_.load()) return;
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // the client gave up already, or EINTR/EAGAIN: poll again
    HandleConnection(fd);
    ::close(fd);
  }
}

void TestHttpServer::HandleConnection(int fd) {
  std::string head;
  std::string rest;
  for (;;) {
    if (!WaitFor(fd, POLLIN, kHeadTimeout)) return;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;
    head.append(buffer, static_cast<std::size_t>(n));
    if (const std::size_t end = head.find("\r\n\r\n"); end != std::string::npos) {
      rest = head.substr(end + 4);  // the first bytes of the body, if any
      head.resize(end + 2);
      break;
    }
    if (head.size() > kMaxHeadBytes) {
      SendAll(fd,
              "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n");
      return;
    }
  }

  std::optional<Request> request = ParseHead(head);
  if (request) {
    // Reads a Content-Length body (uploads), so handlers can check what clients send.
    std::size_t length = 0;
    if (auto it = request->headers.find("content-length"); it != request->headers.end()) {
      const std::string& v = it->second;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
      if (ec != std::errc() || end != v.data() + v.size() || length > kMaxBodyBytes) return;
    }
    while (rest.size() < length) {
      if (!WaitFor(fd, POLLIN, kHeadTimeout)) return;
      char buffer[65536];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) return;
      rest.append(buffer, static_cast<std::size_t>(n));
    }
    rest.resize(std::min(rest.size(), length));
    request->body = ToBytes(rest);
  }
  Response response;
  if (!request) {
    response.status = 400;
  } else {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request->target);
    }
    response = Answer(*request);
  }

  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(Reason(response.status)) + "\r\n";
  if (!response.omit_content_length) {
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  }
  out += "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out += "\r\n";
  const bool send_body = !(request && request->method == "HEAD");
  const std::string_view body = send_body ? AsChars(response.body) : std::string_view();

  if (response.stall) {
    if (!SendAll(fd, out)) return;
    // Hang until the client hangs up (recv returns 0 or fails) or the server stops.
    for (;;) {
      if (!WaitFor(fd, POLLIN, std::chrono::milliseconds(-1))) return;
      char buffer[512];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return;
    }
  }
  if (response.trickle_delay.count() > 0) {
    if (!SendAll(fd, out)) return;
    const std::size_t chunk = std::max<std::size_t>(response.trickle_chunk, 1);
    for (std::size_t at = 0; at < body.size(); at += chunk) {
      // Sleeps on the wake pipe alone, so Stop() cuts the pause short.
      pollfd wake{wake_read_fd_, POLLIN, 0};
      if (::poll(&wake, 1, static_cast<int>(response.trickle_delay.count())) != 0) return;
      if (!SendAll(fd, body.substr(at, chunk))) return;
    }
  } else {
    out.append(body);
    if (!SendAll(fd, out)) return;
  }

  // Half-close, then let the client close first, so unread request bytes on our side cannot
  // turn our close into a reset that destroys the response in flight.
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + kLingerTimeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !WaitFor(fd, POLLIN, left)) return;
    char buffer[512];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return;
  }
}

TestHttpServer::Response TestHttpServer::Answer(const Request& request) {
  Handler handler;
  {
    std::lock_guard lock(mutex_);
    handler = handler_;
  }
  if (handler) {
    if (std::optional<Response> custom = handler(request)) return std::move(*custom);
  }

  std::lock_guard lock(mutex_);
  const auto file = files_.find(request.path);
  if (file == files_.end()) return NotFound(request.path);
  const Bytes& body = file->second;
  Response response;
  const auto range = request.headers.find("range");
  if (range != request.headers.end()) {
    if (const std::optional<std::size_t> offset = ParseOpenRange(range->second)) {
      const std::string size = std::to_string(body.size());
      if (*offset >= body.size()) {
        response.status = 416;
        response.headers.emplace_back("Content-Range", "bytes */" + size);
        return response;
      }
      response.status = 206;
      response.headers.emplace_back(
          "Content-Range",
          "bytes " + std::to_string(*offset) + "-" + std::to_string(body.size() - 1) + "/" + size);
      response.body.assign(body.begin() + static_cast<std::ptrdiff_t>(*offset), body.end());
      return response;
    }
  }
  response.body = body;
  return response;
}

}  // namespace aloft::testing
