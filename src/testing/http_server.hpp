#pragma once

// A small, real HTTP/1.1 server on 127.0.0.1 for tests: fetchers, the agent and the TUF
// conformance client talk to it over a socket exactly as they would to a repository.
//
// One background thread accepts connections and serves them one at a time, HTTP/1.0-style:
// read the request head, answer with "Connection: close", close. Requests from another process
// (a child under test) work the same way. Slow and stalled responses end early when the client
// hangs up, so one stalled client only delays the next one until it gives up.
//
// Thread-safety: every public method may be called from any thread while the server runs.
// The handler runs on the server thread, without the server's lock held (it may call SetFile).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::testing {

class TestHttpServer {
 public:
  struct Request {
    std::string method;  // "GET"
    std::string target;  // as sent: "/metadata/1.root.json?x=1"
    std::string path;    // target without the query string: "/metadata/1.root.json"
    // Header names lower-cased; values with surrounding blanks trimmed. Last one wins.
    std::map<std::string, std::string> headers;
    // The body, when the request announced one with Content-Length (at most kMaxBodyBytes).
    Bytes body;
  };
  static constexpr std::size_t kMaxBodyBytes = std::size_t{64} * 1024 * 1024;

  struct Response {
    int status = 200;
    Bytes body;
    // Sent after the server's own headers (Content-Length, Connection: close).
    std::vector<std::pair<std::string, std::string>> headers;
    // Send no Content-Length: the body is delimited by closing the connection, so a client
    // cannot learn the size in advance.
    bool omit_content_length = false;
    // When non-zero, the body goes out `trickle_chunk` bytes at a time with this pause before
    // each chunk (slow retrieval).
    std::chrono::milliseconds trickle_delay{0};
    std::size_t trickle_chunk = 1;
    // Send the status line and headers, then nothing until the client hangs up or the server
    // stops (a stalled transfer).
    bool stall = false;
  };

  // Decides the answer to a request; nullopt falls through to the files set with SetFile.
  using Handler = std::function<std::optional<Response>(const Request&)>;

  // Listens on 127.0.0.1 at an ephemeral port and starts serving.
  static Result<std::unique_ptr<TestHttpServer>> Start();

  // Stops and joins the server thread; never hangs, even with a stalled client.
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // "http://127.0.0.1:PORT", no trailing slash.
  std::string BaseUrl() const;

  // Serves `body` with status 200 at `path` (matched exactly against the target without its
  // query string). "Range: bytes=N-" requests get 206 with the tail, or 416 past the end.
  void SetFile(std::string path, Bytes body);
  void RemoveFile(const std::string& path);
  // Consulted before the files; pass nullptr to remove.
  void SetHandler(Handler handler);

  // Targets of all requests so far, in arrival order.
  std::vector<std::string> Requests() const;
  void ClearRequests();

  // Idempotent. Closes the listening socket and ends any response in progress.
  void Stop();

 private:
  TestHttpServer(int listen_fd, int wake_read_fd, int wake_write_fd, std::uint16_t port);

  void Serve();
  void HandleConnection(int fd);
  Response Answer(const Request& request);

  // Waits until `fd` has `events` or the server stops; false on stop, timeout or error.
  bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) const;
  // Sends all of `data`; false if the client went away or the server stops.
  bool SendAll(int fd, std::string_view data) const;

  const int listen_fd_;
  const int wake_read_fd_;
  const int wake_write_fd_;
  const std::uint16_t port_;

  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::once_flag stop_once_;

  mutable std::mutex mutex_;
  std::map<std::string, Bytes, std::less<>> files_;
  Handler handler_;
  std::vector<std::string> requests_;
};

}  // namespace aloft::testing
