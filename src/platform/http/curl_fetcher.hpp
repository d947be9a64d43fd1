#pragma once

// The Fetcher that reaches real repositories: HTTP(S) over libcurl's easy API, with the limits
// TUF asks of a client (a byte cap per file against endless data, a minimum transfer rate
// against slow retrieval) and no redirects.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/base/result.hpp"
#include "core/io/writer.hpp"
#include "core/metadata/fetcher.hpp"

namespace aloft::platform::http {

struct CurlFetcherOptions {
  // Time allowed to establish the TCP (and TLS) connection; zero means libcurl's default (300 s).
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Time allowed for a whole transfer; zero means no limit, which suits multi-gigabyte images
  // (the low-speed check still ends stalled transfers).
  std::chrono::milliseconds total_timeout{0};
  // A transfer that runs below `low_speed_limit` bytes/s for `low_speed_time` ends with
  // kTimeout (TUF's slow-retrieval defence). Zero limit disables the check.
  std::size_t low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{30};
  // CA bundle for HTTPS; the system store when unset. Peer and host name are always verified.
  std::optional<std::filesystem::path> ca_file;
  // Whether plain http:// URLs may be fetched. TUF metadata is signed, so its transport needs
  // no confidentiality; the default is true because the TUF conformance suite serves plain
  // HTTP on 127.0.0.1. Set false in production configurations that require HTTPS.
  bool allow_http = true;
  std::string user_agent = "aloft/0.1";
  // With allow_http: plain http:// only to a loopback host (127.0.0.0/8, ::1, localhost), the
  // rule JsonClient applies with allow_insecure_loopback. Off by default for the conformance
  // suite; the device agent turns it on, so its plain-HTTP test flag cannot reach a network.
  bool http_loopback_only = false;
  // Bandwidth cap in bytes per second (CURLOPT_MAX_RECV_SPEED_LARGE); 0 means none.
  std::uint64_t max_recv_bytes_per_second = 0;
  // When set, every request carries "Authorization: Bearer <token>" with the token it returns.
  // It is called with renew = false before a transfer; after an HTTP 401 it is called once
  // more with renew = true (the token is stale: get a fresh one) and the request is repeated
  // once. Its error ends the call unchanged. The token never appears in error messages.
  std::function<Result<std::string>(bool renew)> bearer_token;
  // Polled while a transfer runs (about once a second and on every chunk); returning true
  // aborts it with kCancelled. For a daemon that must stop promptly on SIGTERM.
  std::function<bool()> cancelled;
};

// One libcurl easy handle, reused across calls so that connections are kept alive.
// Thread-safety: none; use one CurlFetcher per thread. Calls are blocking.
// Proxies: libcurl's usual environment variables (https_proxy, no_proxy, ...) apply.
class CurlFetcher final : public core::metadata::Fetcher {
 public:
  using Options = CurlFetcherOptions;

  // Fails (kInternal) only if libcurl cannot be initialised.
  static Result<std::unique_ptr<CurlFetcher>> Create(Options options = {});
  ~CurlFetcher() override;
  CurlFetcher(const CurlFetcher&) = delete;
  CurlFetcher& operator=(const CurlFetcher&) = delete;

  // See core::metadata::Fetcher. In detail:
  //   kNotFound         HTTP 403 or 404 (message names the URL); nothing reaches the sink
  //   kVerificationFailed  HTTP 401 to a request that carried a bearer token, after one
  //                     renewal (without a bearer_token a 401 is kUnavailable, as before)
  //   kUnsupported      also: plain http to a non-loopback host with http_loopback_only
  //   kCancelled        `cancelled` returned true
  //   kTooLarge         Content-Length above `max_bytes`, or more than `max_bytes` arrived (the
  //                     sink has then seen at most `max_bytes` bytes)
  //   kTimeout          connect or total timeout, or the low-speed rule fired
  //   kUnavailable      connection/TLS failure, redirect (3xx, never followed), other status
  //   kUnsupported      a URL scheme other than https (and http when allowed)
  //   kInvalidArgument  a malformed URL
  //   sink errors       returned unchanged
  // On error the sink may have received a prefix of the body; callers must discard it.
  Status Fetch(const std::string& url, std::size_t max_bytes, core::io::Writer& sink) override;

  // Fetches the body of `url` from byte `offset` on (a "Range: bytes=offset-" request), to
  // resume an interrupted download. `max_bytes` caps the bytes of this call (the remainder),
  // not the whole file. The server must answer 206 with a Content-Range starting at `offset`:
  //   kUnsupported      it answered 200, ignoring the range
  //   kInvalidArgument  416: `offset` is at or past the end of the file
  //   kUnavailable      a Content-Range that does not start at `offset`
  // Otherwise errors are as for Fetch.
  Status FetchRange(const std::string& url, std::uint64_t offset, std::size_t max_bytes,
                    core::io::Writer& sink);

 private:
  struct Transfer;
  CurlFetcher(void* curl, Options options) : curl_(curl), options_(std::move(options)) {}

  Status Run(const std::string& url, std::optional<std::uint64_t> offset, std::size_t max_bytes,
             core::io::Writer& sink);
  // One transfer with `token` (empty: no Authorization header).
  Status RunOnce(const std::string& url, std::optional<std::uint64_t> offset,
                 std::size_t max_bytes, core::io::Writer& sink, const std::string& token);

  void* const curl_;  // CURL*, kept opaque so this header does not include curl.h
  const Options options_;
};

}  // namespace aloft::platform::http
