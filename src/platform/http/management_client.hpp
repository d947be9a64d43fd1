#pragma once

// An HTTP client for operator tools talking to aloftd's management API (aloftctl): any method,
// extra request headers (cookies, CSRF token), a body from memory or streamed from a file with
// a progress callback (multi-gigabyte artifact uploads in fixed memory), and the answer either
// collected in memory (capped) or streamed to a Writer (audit exports). Every HTTP status comes
// back as an answer; only transport trouble is an Error.
//
// Security rules, none of which a caller can switch off (the same as JsonClient's):
//   - TLS peer and host name verification are always on (CA bundle: `ca_file`, or the system
//     store).
//   - https only; plain http only when `allow_insecure_loopback` is set *and* the host is a
//     loopback address (CheckUrlAllowed), for tests and a server on the same machine.
//   - Redirects are never followed: a bearer token must not travel to another origin.
//   - In-memory answers are capped (`max_response_bytes`); transfers are time-limited.
//   - Header values (tokens, cookies) never appear in error messages.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.hpp"
#include "core/io/writer.hpp"
#include "platform/http/json_client.hpp"

namespace aloft::platform::http {

struct ManagementClientOptions {
  // CA bundle for HTTPS; the system store when unset.
  std::optional<std::filesystem::path> ca_file;
  // Allows plain http:// to loopback hosts only. Off for real servers.
  bool allow_insecure_loopback = false;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Whole-request limit for requests without a file body; uploads have none (an image may
  // take an hour on a slow link) and rely on the low-speed rule below instead.
  std::chrono::milliseconds total_timeout{std::chrono::seconds(60)};
  // An upload or download that stays below `low_speed_limit` bytes/s for `low_speed_time`
  // fails with kTimeout.
  std::size_t low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{60};
  // A larger in-memory answer (announced or actual) fails with kTooLarge. Streamed answers
  // (ManagementRequest::response_sink) are not capped here: the sink decides.
  std::size_t max_response_bytes = std::size_t{16} * 1024 * 1024;
  std::string user_agent = "aloftctl/0.1";
};

// Called as an upload progresses: bytes sent so far and the total to send.
using UploadProgress = std::function<void(std::uint64_t sent, std::uint64_t total)>;

struct ManagementRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string url;
  // Extra request headers, sent as given ("Authorization", "Cookie", "X-CSRF-Token", ...).
  std::vector<std::pair<std::string, std::string>> headers;
  // At most one body source. `body` is sent from memory; `body_file` is streamed from disk
  // (its size is read when the request starts and sent as Content-Length).
  std::optional<std::string> body;
  std::optional<std::filesystem::path> body_file;
  std::string content_type = "application/json";  // for either body source
  UploadProgress upload_progress;                 // file bodies only
  // When set, a 2xx answer's body is streamed here instead of collected (any other status is
  // collected in memory as usual, so the error body can be read).
  core::io::Writer* response_sink = nullptr;
};

struct ManagementResponse {
  long status = 0;
  std::string body;  // empty when streamed to the sink
  // Every response header in arrival order, names lower-cased, values trimmed (Set-Cookie may
  // repeat).
  std::vector<std::pair<std::string, std::string>> headers;

  bool ok() const noexcept { return status >= 200 && status < 300; }
  // The first header with this lower-case name.
  std::optional<std::string> Header(std::string_view name) const;
  // The value of cookie `name` from the Set-Cookie headers ("aloft_session=abc; Path=/" -> "abc").
  std::optional<std::string> Cookie(std::string_view name) const;
};

// One libcurl easy handle, reused across calls so connections are kept alive.
// Thread-safety: none; use one client per thread. Calls are blocking.
class ManagementClient {
 public:
  using Options = ManagementClientOptions;

  // Fails (kInternal) only if libcurl cannot be initialised.
  static Result<std::unique_ptr<ManagementClient>> Create(Options options = {});
  ~ManagementClient();
  ManagementClient(const ManagementClient&) = delete;
  ManagementClient& operator=(const ManagementClient&) = delete;

  // Sends `request` and returns the answer, whatever its status. Errors:
  //   kUnsupported      URL scheme not allowed (checked before connecting)
  //   kInvalidArgument  malformed URL, both body sources set, a header with CR/LF in it
  //   kNotFound / kIo   `body_file` missing or unreadable
  //   kTimeout          connect, total or low-speed timeout
  //   kTooLarge         an in-memory answer above max_response_bytes
  //   kUnavailable      connection refused, DNS, TLS failure
  //   sink errors       returned unchanged (the sink may hold a prefix of the body)
  Result<ManagementResponse> Send(const ManagementRequest& request);

  const Options& options() const noexcept { return options_; }

 private:
  ManagementClient(void* curl, Options options) : curl_(curl), options_(std::move(options)) {}

  void* const curl_;  // CURL*, opaque so this header does not include curl.h
  const Options options_;
};

}  // namespace aloft::platform::http
