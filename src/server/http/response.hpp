#pragma once

// The response a handler returns: plain values, no sockets. The server adds the security
// headers (ApplySecurityHeaders), Content-Length and Connection.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/codec/json.hpp"
#include "server/http/request.hpp"

namespace aloft::server::http {

// A byte range of a file, sent without loading it into memory. The server opens the file when
// it starts sending; a file that cannot be opened becomes a 500 (and is logged).
struct FileBody {
  std::filesystem::path path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;  // ignored when `file` is set
  std::optional<FileBody> file;

  // `value` as compact JSON, Content-Type application/json.
  static Response Json(int status, const core::codec::Json& value);
  // {"error":{"code":code,"message":message}} with `status`. Messages are for clients: never
  // put exception text, SQL, file paths or stack traces in them.
  static Response Error(int status, std::string_view code, std::string_view message);
  static Response Text(int status, std::string_view content_type, std::string body);
  // A file range (see FileBody), Content-Type `content_type`.
  static Response File(std::filesystem::path path, std::uint64_t offset, std::uint64_t length,
                       std::string_view content_type = "application/octet-stream");

  std::uint64_t BodySize() const noexcept { return file ? file->length : body.size(); }
};

// The error code names used by the server itself, for clients that branch on them.
namespace errors {
inline constexpr std::string_view kBadRequest = "bad_request";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kMethodNotAllowed = "method_not_allowed";
inline constexpr std::string_view kTooLarge = "payload_too_large";
inline constexpr std::string_view kHeadersTooLarge = "headers_too_large";
inline constexpr std::string_view kRateLimited = "rate_limited";
inline constexpr std::string_view kTimeout = "request_timeout";
inline constexpr std::string_view kInternal = "internal";
inline constexpr std::string_view kUnavailable = "unavailable";
}  // namespace errors

// The Content-Security-Policy every response carries unless the route set its own.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// Adds the headers every response carries, errors included: X-Content-Type-Options nosniff,
// Referrer-Policy no-referrer, X-Frame-Options DENY (always overwritten), CSP and
// Cache-Control: no-store (kept when the route set its own), and Strict-Transport-Security
// when the connection is TLS.
void ApplySecurityHeaders(Response& response, bool tls);

}  // namespace aloft::server::http
