#include "platform/http/json_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <utility>

#include "platform/http/curl_common.hpp"

namespace aloft::platform::http {
namespace {

// The parts of a URL we decide on, through libcurl's own parser (the one that will be used
// to connect), so the check and the connection cannot disagree about the host.
struct UrlParts {
  std::string scheme;
  std::string host;  // IPv6 literals keep their brackets: "[::1]"
  std::string port;  // empty when the URL names none
};

Result<UrlParts> ParseUrl(const std::string& url) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return Fail(Errc::kInternal, "curl_url failed");
  UrlParts parts;
  Status status = Ok();
  if (curl_url_set(handle, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    status = Fail(Errc::kInvalidArgument, "malformed URL '" + url + "'");
  }
  const auto get = [&](CURLUPart part, std::string& out, bool required) {
    if (!status) return;
    char* value = nullptr;
    const CURLUcode rc = curl_url_get(handle, part, &value, 0);
    if (rc == CURLUE_OK && value != nullptr) {
      out = detail::LowerAscii(value);
    } else if (required) {
      status = Fail(Errc::kInvalidArgument, "URL '" + url + "' has no scheme");
    }
    curl_free(value);
  };
  get(CURLUPART_SCHEME, parts.scheme, true);
  get(CURLUPART_HOST, parts.host, false);
  get(CURLUPART_PORT, parts.port, false);
  curl_url_cleanup(handle);
  if (!status) return Fail(std::move(status).error());
  return parts;
}

// 127.0.0.0/8 as four decimal octets, ::1, or localhost.
bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  int octets = 0;
  int first = -1;
  std::string_view rest = host;
  while (true) {
    int value = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || end == rest.data() || value > 255) return false;
    if (first < 0) first = value;
    ++octets;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    if (rest.empty()) break;
    if (rest.front() != '.') return false;
    rest.remove_prefix(1);
  }
  return octets == 4 && first == 127;
}

// State of one exchange, shared with libcurl's callbacks through a void*.
struct Exchange {
  std::size_t max_bytes = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  std::optional<Error> abort_reason;

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Exchange*>(user);
    const std::string_view line(data, size * count);
    try {
      if (detail::StartsWithNoCase(line, "http/")) {
        self->headers.clear();  // a new response (after 100 Continue, say)
        return size * count;
      }
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return size * count;
      std::string name = detail::LowerAscii(detail::TrimHeaderText(line.substr(0, colon)));
      if (name == "content-type" || name == "retry-after" || name == "www-authenticate" ||
          name == "location") {
        self->headers[std::move(name)] =
            std::string(detail::TrimHeaderText(line.substr(colon + 1)));
      }
    } catch (...) {
      // Only allocation can throw here; an exception must not unwind through libcurl.
      self->abort_reason = Error(Errc::kInternal, "header callback failed");
      return 0;
    }
    return size * count;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Exchange*>(user);
    const std::size_t n = size * count;
    if (n > self->max_bytes - self->body.size()) {
      self->abort_reason = Error(
          Errc::kTooLarge, "answer larger than " + std::to_string(self->max_bytes) + " bytes");
      return CURL_WRITEFUNC_ERROR;
    }
    try {
      self->body.append(data, n);
    } catch (...) {
      self->abort_reason = Error(Errc::kInternal, "write callback failed");
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
};

// Owns the request header list.
struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list); }
  bool Append(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

}  // namespace

std::string_view HttpMethodName(HttpMethod method) noexcept {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kDelete:
      return "DELETE";
  }
  return "GET";
}

std::optional<std::chrono::seconds> JsonResponse::RetryAfter() const {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return std::nullopt;
  std::int64_t seconds = 0;
  const std::string& v = it->second;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || end != v.data() + v.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::string JsonResponse::ErrorText() const {
  std::string text = "HTTP " + std::to_string(status);
  const core::codec::Json* error = body.Find("error");
  if (error == nullptr) return text;
  const core::codec::Json* code = error->Find("code");
  const core::codec::Json* message = error->Find("message");
  if (code != nullptr && code->IsString()) text += " " + code->AsString();
  if (message != nullptr && message->IsString()) text += ": " + message->AsString();
  return text;
}

Status CheckUrlAllowed(const std::string& url, bool allow_insecure_loopback) {
  auto parts = ParseUrl(url);
  if (!parts) return Fail(std::move(parts).error());
  if ((parts->scheme == "https" || parts->scheme == "http") && parts->host.empty()) {
    return Fail(Errc::kInvalidArgument, "URL '" + url + "' has no host");
  }
  // libcurl's parser repairs "https:/host" and "https:host"; a configured URL is taken only as
  // written, so a typo is reported instead of guessed at.
  if (url.find("://") != parts->scheme.size()) {
    return Fail(Errc::kInvalidArgument,
                "URL '" + url + "' must start with " + parts->scheme + "://");
  }
  if (parts->scheme == "https") return Ok();
  if (parts->scheme == "http") {
    if (!allow_insecure_loopback) {
      return Fail(Errc::kUnsupported, "URL '" + url + "': plain http is not allowed, use https");
    }
    if (!IsLoopbackHost(parts->host)) {
      return Fail(Errc::kUnsupported,
                  "URL '" + url + "': plain http is allowed only to a loopback address");
    }
    return Ok();
  }
  return Fail(Errc::kUnsupported,
              "URL '" + url + "': scheme '" + parts->scheme + "' is not allowed, use https");
}

Result<std::string> UrlOrigin(const std::string& url) {
  auto parts = ParseUrl(url);
  if (!parts) return Fail(std::move(parts).error());
  if (parts->host.empty()) return Fail(Errc::kInvalidArgument, "URL '" + url + "' has no host");
  std::string origin = parts->scheme + "://" + parts->host;
  if (!parts->port.empty()) origin += ":" + parts->port;
  return origin;
}

Result<std::unique_ptr<JsonClient>> JsonClient::Create(Options options) {
  auto curl = detail::NewEasyHandle();
  if (!curl) return Fail(std::move(curl).error());
  return std::unique_ptr<JsonClient>(new JsonClient(*curl, std::move(options)));
}

JsonClient::~JsonClient() { curl_easy_cleanup(curl_); }

Result<JsonResponse> JsonClient::Request(HttpMethod method, const std::string& url,
                                         const std::optional<core::codec::Json>& body,
                                         const std::string& bearer_token) {
  const std::string what = std::string(HttpMethodName(method)) + " " + url;
  if (Status allowed = CheckUrlAllowed(url, options_.allow_insecure_loopback); !allowed) {
    return Fail(std::move(allowed).error());
  }
  const bool plain_http = detail::StartsWithNoCase(url, "http:");

  CURL* curl = curl_;
  Exchange exchange;
  exchange.max_bytes = options_.max_response_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const std::string payload = body ? core::codec::DumpJson(*body) : std::string();

  HeaderList headers;
  bool headers_ok = headers.Append("Accept: application/json") &&
                    headers.Append("Expect:");  // no 100-continue round trip
  if (body) headers_ok = headers_ok && headers.Append("Content-Type: application/json");
  if (!bearer_token.empty()) {
    headers_ok = headers_ok && headers.Append("Authorization: Bearer " + bearer_token);
  }
  if (!headers_ok) return Fail(Errc::kInternal, what + ": out of memory building headers");

  detail::OptionSetter set(curl);
  detail::ResetWithSettings(curl,
                            {.url = url,
                             .error_buffer = error_buffer,
                             .allow_http = options_.allow_insecure_loopback,
                             .ca_file = options_.ca_file,
                             .connect_timeout = options_.connect_timeout,
                             .total_timeout = options_.total_timeout,
                             .user_agent = options_.user_agent,
                             .max_body_bytes = options_.max_response_bytes},
                            set);
  // Loopback traffic must never leave the machine through a proxy from the environment.
  if (plain_http) set(CURLOPT_NOPROXY, "*");
  set(CURLOPT_HTTPHEADER, headers.list);
  switch (method) {
    case HttpMethod::kGet:
      set(CURLOPT_HTTPGET, 1L);
      break;
    case HttpMethod::kPost:
      set(CURLOPT_POST, 1L);
      break;
    case HttpMethod::kPut:
    case HttpMethod::kDelete:
      set(CURLOPT_CUSTOMREQUEST, HttpMethodName(method).data());
      break;
  }
  if (method != HttpMethod::kGet) {
    set(CURLOPT_POSTFIELDS, payload.c_str());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  }
  set(CURLOPT_HEADERFUNCTION, &Exchange::OnHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&exchange));
  set(CURLOPT_WRITEFUNCTION, &Exchange::OnBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&exchange));
  if (set.result() != CURLE_OK) {
    return Fail(detail::CurlError(set.result(), HttpMethodName(method), url, "setting options"));
  }

  const CURLcode rc = curl_easy_perform(curl);
  // The header list dies with this frame; keep no pointer to it in the reused handle.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));

  if (exchange.abort_reason) return Fail(std::move(*exchange.abort_reason).WithContext(what));
  if (rc != CURLE_OK) return Fail(detail::CurlError(rc, HttpMethodName(method), url, error_buffer));

  JsonResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  response.headers = std::move(exchange.headers);
  if (!exchange.body.empty()) {
    core::codec::ParseLimits limits;
    limits.max_bytes = options_.max_response_bytes;
    limits.max_depth = 32;
    auto parsed = core::codec::ParseJson(exchange.body, limits);
    if (parsed) {
      response.body = std::move(*parsed);
    } else if (response.ok()) {
      return Fail(Errc::kUnavailable, what + ": HTTP " + std::to_string(response.status) +
                                          " answer is not JSON: " + parsed.error().message());
    }
  }
  return response;
}

}  // namespace aloft::platform::http
