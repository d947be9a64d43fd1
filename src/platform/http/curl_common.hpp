#pragma once

// The libcurl plumbing CurlFetcher, JsonClient and ManagementClient share: process-wide initialisation, the
// transport settings every request gets, and CURLcode -> Error mapping. Internal to
// platform/http: it includes curl.h, which the public headers keep out.

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::platform::http::detail {

// Initialises libcurl (once per process) and creates an easy handle. kInternal on failure.
Result<CURL*> NewEasyHandle();

// `s` in ASCII lower case (header names, URL schemes and hosts).
std::string LowerAscii(std::string_view s);

// `s` without the spaces and tabs around a header field's name or value, nor the line's CRLF.
std::string_view TrimHeaderText(std::string_view s);

// Whether `text` starts with `prefix`, ignoring ASCII case.
bool StartsWithNoCase(std::string_view text, std::string_view prefix);

// curl_easy_setopt that remembers the first failure; once one call failed, later ones do
// nothing, so a run of options is checked once at the end.
class OptionSetter {
 public:
  explicit OptionSetter(CURL* curl) noexcept : curl_(curl) {}

  template <typename T>
  void operator()(CURLoption option, T value) noexcept {
    if (rc_ == CURLE_OK) rc_ = curl_easy_setopt(curl_, option, value);
  }
  CURLcode result() const noexcept { return rc_; }

 private:
  CURL* curl_;
  CURLcode rc_ = CURLE_OK;
};

// The settings every request of both clients carries. References must outlive the transfer.
struct RequestSettings {
  const std::string& url;
  char* error_buffer;  // CURL_ERROR_SIZE bytes
  bool allow_http;     // "http,https" rather than only "https"
  const std::optional<std::filesystem::path>& ca_file;
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds total_timeout;
  const std::string& user_agent;
  std::size_t max_body_bytes;  // an announced Content-Length above it fails (kTooLarge)
};

// Resets `curl` (dropping the previous call's options but keeping the connection and DNS
// caches) and applies `settings` through `set`: no signals, no redirects, peer and host
// always verified, the timeouts, and the body cap.
void ResetWithSettings(CURL* curl, const RequestSettings& settings, OptionSetter& set);

// The Error for a failed transfer: timeouts -> kTimeout, size cap -> kTooLarge, scheme ->
// kUnsupported, malformed URL -> kInvalidArgument, out of memory -> kInternal, anything else
// kUnavailable. Message: "<method> <url>: <curl's text>[ (<detail>)]".
Error CurlError(CURLcode code, std::string_view method, const std::string& url, const char* detail);

}  // namespace aloft::platform::http::detail
