#pragma once

// aloftd's management API as aloftctl uses it: paths under the server URL, the operator's
// bearer token on every call, JSON in and out, and the server's refusals (4xx with
// {"error": {"code", "message"}}) turned into errors that say what the server said.
//
// A refusal is remembered (refusal()) so the command line can exit with "server said no" (4)
// rather than a generic failure; transport trouble and 5xx answers are kUnavailable.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "core/io/writer.hpp"
#include "platform/http/management_client.hpp"

namespace aloft::cli::aloftctl::client {

struct ApiOptions {
  std::string server;  // "https://ota.example:8443" (a trailing slash is fine)
  std::string token;   // "alo_..."; empty for the calls that need none (login)
  std::optional<std::filesystem::path> ca_file;
  // Plain http to 127.0.0.1/::1/localhost only (tests, a server on this machine).
  bool allow_insecure_loopback = false;
};

// What the server answered when it refused a request.
struct Refusal {
  long status = 0;
  std::string code;  // error.code, e.g. "forbidden", "rollback", "missing_artifact"
  std::string message;
};

struct ApiReply {
  long status = 0;
  core::codec::Json body;  // null for an empty body (204)
  platform::http::ManagementResponse raw;
};

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> Create(ApiOptions options);

  // `path` starts with "/api/v1/"; callers percent-encode path segments (Segment()).
  Result<core::codec::Json> Get(std::string_view path);
  Result<core::codec::Json> Post(std::string_view path, const core::codec::Json& body);
  Result<core::codec::Json> Put(std::string_view path, const core::codec::Json& body);
  Result<core::codec::Json> Delete(std::string_view path);
  // PUTs bytes as they are (signed metadata must arrive byte for byte).
  Result<core::codec::Json> PutBytes(std::string_view path, std::string body,
                                     std::string content_type);
  // PUTs a file streamed from disk, reporting progress.
  Result<core::codec::Json> PutFile(std::string_view path, const std::filesystem::path& file,
                                    platform::http::UploadProgress progress);
  // GETs a body of any size into `sink` (audit exports).
  Status Download(std::string_view path, core::io::Writer& sink);

  // Any call with extra headers, returning every answer (login's session and CSRF handling).
  // Only transport trouble is an error here; the caller interprets the status.
  Result<ApiReply> Exchange(platform::http::ManagementRequest request, bool with_token);

  // The error for an answer that is not the expected success, for callers of Exchange: a 4xx
  // is recorded as the last refusal and returned as its RefusalError; any other status is
  // kUnavailable.
  Error Refuse(std::string_view what, const ApiReply& reply);

  // The last refusal, set by any call above that got a 4xx (and cleared by a success).
  const std::optional<Refusal>& refusal() const noexcept { return refusal_; }
  const ApiOptions& options() const noexcept { return options_; }
  std::string Url(std::string_view path) const;

 private:
  ApiClient(std::unique_ptr<platform::http::ManagementClient> http, ApiOptions options)
      : http_(std::move(http)), options_(std::move(options)) {}
  Result<core::codec::Json> Call(platform::http::ManagementRequest request);

  std::unique_ptr<platform::http::ManagementClient> http_;
  ApiOptions options_;
  std::optional<Refusal> refusal_;
};

// One path segment, percent-encoded ("a/b" -> "a%2Fb").
std::string Segment(std::string_view text);

// The Error for a refused request: "aloftd refused <what> (HTTP 403 forbidden): <message>",
// with a hint for the common cases (401: log in again). Codes: 404 kNotFound, 409
// kAlreadyExists, 413 kTooLarge, 429 kUnavailable, anything else kInvalidArgument.
Error RefusalError(std::string_view what, const Refusal& refusal);

}  // namespace aloft::cli::aloftctl::client
