#pragma once

// A small client for JSON APIs (the device API of aloftd): one request, one JSON answer, over
// libcurl's easy API. Unlike CurlFetcher it sends bodies and hands every HTTP status back to
// the caller, because for an API the status *is* the answer (202 pending, 403 not accepted,
// 429 slow down). Transport trouble is an Error; an HTTP answer, whatever its status, is not.
//
// Security rules, none of which a caller can switch off:
//   - TLS peer and host name verification are always on (CA bundle: `ca_file`, or the system
//     store). aloftd's self-generated CA is passed as `ca_file`.
//   - https only. Plain http is accepted only when `allow_insecure_loopback` is set *and* the
//     URL's host is a loopback address (127.0.0.0/8, ::1, localhost); that is for tests and a
//     server on the same machine, never for a network.
//   - Redirects are never followed (a 3xx comes back as a response, with its "location").
//   - Answers are capped (`max_response_bytes`, 1 MiB) and time-limited.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"

namespace aloft::platform::http {

enum class HttpMethod : std::uint8_t { kGet, kPost, kPut, kDelete };
std::string_view HttpMethodName(HttpMethod method) noexcept;

struct JsonClientOptions {
  // CA bundle for HTTPS; the system store when unset.
  std::optional<std::filesystem::path> ca_file;
  // Allows plain http:// to loopback hosts only (see above). Off in production configurations.
  bool allow_insecure_loopback = false;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(30)};
  // A larger answer (announced or actual) fails with kTooLarge.
  std::size_t max_response_bytes = 1024 * 1024;
  std::string user_agent = "aloft-agent/0.1";
};

struct JsonResponse {
  long status = 0;
  // The parsed body; null when the body was empty. For a non-2xx status whose body is not
  // JSON (a proxy's HTML error page) this is null too.
  core::codec::Json body;
  // A subset of the response headers, names lower-cased: "content-type", "retry-after",
  // "www-authenticate", "location". Absent headers are absent from the map.
  std::map<std::string, std::string> headers;

  bool ok() const noexcept { return status >= 200 && status < 300; }
  // Retry-After in seconds (the delta-seconds form; an HTTP date is ignored), if present.
  std::optional<std::chrono::seconds> RetryAfter() const;
  // The server's error text: body.error.code + ": " + body.error.message when the body has
  // aloftd's error shape, otherwise "HTTP <status>".
  std::string ErrorText() const;
};

// Checks a URL against the scheme rules above without sending anything:
//   kInvalidArgument  not a parseable absolute URL
//   kUnsupported      a scheme other than https (or http to loopback when allowed)
Status CheckUrlAllowed(const std::string& url, bool allow_insecure_loopback);

// The origin of an absolute URL, "scheme://host[:port]" lower-cased as given, without a
// default port, path or trailing slash: "https://ota.example:8443". kInvalidArgument if the
// URL cannot be parsed.
Result<std::string> UrlOrigin(const std::string& url);

// One libcurl easy handle, reused across calls so connections are kept alive.
// Thread-safety: none; use one JsonClient per thread. Calls are blocking.
class JsonClient {
 public:
  using Options = JsonClientOptions;

  // Fails (kInternal) only if libcurl cannot be initialised.
  static Result<std::unique_ptr<JsonClient>> Create(Options options = {});
  ~JsonClient();
  JsonClient(const JsonClient&) = delete;
  JsonClient& operator=(const JsonClient&) = delete;

  // Sends `body` (as JSON, Content-Type application/json) and, when `bearer_token` is not
  // empty, "Authorization: Bearer <token>". Returns the answer for any HTTP status. Errors:
  //   kUnsupported      URL scheme not allowed (checked before connecting)
  //   kInvalidArgument  malformed URL
  //   kTimeout          connect or total timeout
  //   kTooLarge         answer above max_response_bytes
  //   kUnavailable      connection refused, DNS, TLS failure, or a 2xx whose body is not JSON
  // The token never appears in error messages.
  Result<JsonResponse> Request(HttpMethod method, const std::string& url,
                               const std::optional<core::codec::Json>& body,
                               const std::string& bearer_token);

  const Options& options() const noexcept { return options_; }

 private:
  JsonClient(void* curl, Options options) : curl_(curl), options_(std::move(options)) {}

  void* const curl_;  // CURL*, opaque so this header does not include curl.h
  const Options options_;
};

}  // namespace aloft::platform::http
