#include "platform/http/curl_common.hpp"

#include <cctype>
#include <limits>
#include <mutex>
#include <utility>

namespace aloft::platform::http::detail {
namespace {

std::once_flag g_global_init_once;
CURLcode g_global_init_result = CURLE_FAILED_INIT;

}  // namespace

Result<CURL*> NewEasyHandle() {
  std::call_once(g_global_init_once,
                 [] { g_global_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (g_global_init_result != CURLE_OK) {
    return Fail(Errc::kInternal,
                std::string("curl_global_init: ") + curl_easy_strerror(g_global_init_result));
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Fail(Errc::kInternal, "curl_easy_init failed");
  return curl;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimHeaderText(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

void ResetWithSettings(CURL* curl, const RequestSettings& settings, OptionSetter& set) {
  curl_easy_reset(curl);
  set(CURLOPT_URL, settings.url.c_str());
  set(CURLOPT_ERRORBUFFER, settings.error_buffer);
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we may run on any thread
  set(CURLOPT_PROTOCOLS_STR, settings.allow_http ? "http,https" : "https");
  set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect could point the client anywhere
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (settings.ca_file) set(CURLOPT_CAINFO, settings.ca_file->c_str());
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(settings.total_timeout.count()));
  set(CURLOPT_USERAGENT, settings.user_agent.c_str());
  // An announced Content-Length above the cap fails before any body byte arrives. The
  // callers' write callbacks enforce the cap for bodies without one, and alone where libcurl
  // cannot express it (0 means "no limit" to libcurl; a cap past curl_off_t is never set).
  if (settings.max_body_bytes <=
      static_cast<std::uint64_t>(std::numeric_limits<curl_off_t>::max())) {
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(settings.max_body_bytes));
  }
}

Error CurlError(CURLcode code, std::string_view method, const std::string& url,
                const char* detail) {
  Errc errc = Errc::kUnavailable;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      errc = Errc::kTimeout;
      break;
    case CURLE_FILESIZE_EXCEEDED:
      errc = Errc::kTooLarge;
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      errc = Errc::kUnsupported;
      break;
    case CURLE_URL_MALFORMAT:
      errc = Errc::kInvalidArgument;
      break;
    case CURLE_OUT_OF_MEMORY:
      errc = Errc::kInternal;
      break;
    default:
      break;
  }
  std::string message = std::string(method) + " " + url + ": " + curl_easy_strerror(code);
  if (detail != nullptr && *detail != '\0') message += std::string(" (") + detail + ")";
  return Error(errc, std::move(message));
}

}  // namespace aloft::platform::http::detail
