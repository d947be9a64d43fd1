#include "platform/http/curl_fetcher.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <string_view>
#include <utility>

#include "platform/http/curl_common.hpp"
#include "platform/http/json_client.hpp"

namespace aloft::platform::http {
namespace {

using detail::StartsWithNoCase;

// "Content-Range: bytes 100-199/200" -> 100.
std::optional<std::uint64_t> ParseContentRangeStart(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  constexpr std::string_view kUnit = "bytes ";
  if (!StartsWithNoCase(value, kUnit)) return std::nullopt;
  value.remove_prefix(kUnit.size());
  std::uint64_t start = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), start);
  if (ec != std::errc() || end == value.data() || end == value.data() + value.size() ||
      *end != '-') {
    return std::nullopt;
  }
  return start;
}

}  // namespace

// State of one transfer, shared with libcurl's callbacks through a void*.
struct CurlFetcher::Transfer {
  Transfer(CURL* handle, const std::string& target, std::optional<std::uint64_t> range_offset,
           std::size_t limit, core::io::Writer& out, const std::function<bool()>& cancel)
      : curl(handle),
        url(target),
        offset(range_offset),
        max_bytes(limit),
        sink(out),
        cancelled(cancel) {}

  CURL* curl;
  const std::string& url;
  std::optional<std::uint64_t> offset;  // set for range requests
  std::size_t max_bytes;
  core::io::Writer& sink;
  const std::function<bool()>& cancelled;
  bool sent_token = false;  // a 401 then means "token refused", not a generic failure

  std::size_t received = 0;
  bool status_checked = false;
  std::optional<std::uint64_t> content_range_start;
  // Why a callback aborted the transfer; takes precedence over libcurl's own error code.
  std::optional<Error> abort_reason;

  // Whether the HTTP status (and for ranges, the Content-Range) lets the body through.
  Status CheckResponse(long status) const {
    const std::string code = std::to_string(status);
    if (status == 401 && sent_token) {
      return Fail(Errc::kVerificationFailed, "HTTP 401 from " + url + " (credentials refused)");
    }
    if (status == 403 || status == 404) {
      return Fail(Errc::kNotFound, "HTTP " + code + " from " + url);
    }
    if (offset) {
      if (status == 200) {
        return Fail(Errc::kUnsupported,
                    "HTTP 200 for a range request to " + url + ": the server ignores ranges");
      }
      if (status == 416) {
        return Fail(Errc::kInvalidArgument, "HTTP 416 from " + url + ": offset " +
                                                std::to_string(*offset) + " is past the end");
      }
      if (status == 206 && content_range_start != offset) {
        return Fail(Errc::kUnavailable, "HTTP 206 from " + url +
                                            " without a Content-Range starting at " +
                                            std::to_string(*offset));
      }
    }
    if (status >= 300 && status < 400) {
      return Fail(Errc::kUnavailable,
                  "HTTP " + code + " from " + url + " (redirects are not followed)");
    }
    if (status < 200 || status >= 300) {
      return Fail(Errc::kUnavailable, "HTTP " + code + " from " + url);
    }
    return Ok();
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    try {
      if (StartsWithNoCase(line, "HTTP/")) {
        self->content_range_start.reset();  // a new response (e.g. after 100 Continue)
      } else if (StartsWithNoCase(line, "content-range:")) {
        self->content_range_start = ParseContentRangeStart(line.substr(14));
      }
    } catch (...) {
      // Only allocation can throw here; an exception must not unwind through libcurl.
      self->abort_reason = Error(Errc::kInternal, "header callback failed");
      return 0;
    }
    return size * count;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
    auto* self = static_cast<Transfer*>(user);
    try {
      if (self->cancelled && self->cancelled()) {
        self->abort_reason = Error(Errc::kCancelled, "GET " + self->url + ": cancelled");
        return 1;
      }
    } catch (...) {
      self->abort_reason = Error(Errc::kInternal, "progress callback threw");
      return 1;
    }
    return 0;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    try {
      if (!self->status_checked) {
        // Decide before the first byte reaches the sink, so an error page never does.
        self->status_checked = true;
        long status = 0;
        curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &status);
        if (Status ok = self->CheckResponse(status); !ok) {
          self->abort_reason = std::move(ok).error();
          return CURL_WRITEFUNC_ERROR;
        }
      }
      if (n > self->max_bytes - self->received) {
        self->abort_reason = Error(Errc::kTooLarge, "GET " + self->url + ": more than " +
                                                        std::to_string(self->max_bytes) + " bytes");
        return CURL_WRITEFUNC_ERROR;
      }
      self->received += n;
      if (n == 0) return 0;
      const ByteView chunk(reinterpret_cast<const std::uint8_t*>(data), n);
      if (Status written = self->sink.Write(chunk); !written) {
        self->abort_reason = std::move(written).error();
        return CURL_WRITEFUNC_ERROR;
      }
    } catch (const std::exception& e) {
      self->abort_reason = Error(Errc::kInternal, std::string("write callback: ") + e.what());
      return CURL_WRITEFUNC_ERROR;
    } catch (...) {
      self->abort_reason = Error(Errc::kInternal, "write callback threw");
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
};

Result<std::unique_ptr<CurlFetcher>> CurlFetcher::Create(Options options) {
  auto curl = detail::NewEasyHandle();
  if (!curl) return Fail(std::move(curl).error());
  return std::unique_ptr<CurlFetcher>(new CurlFetcher(*curl, std::move(options)));
}

CurlFetcher::~CurlFetcher() { curl_easy_cleanup(curl_); }

Status CurlFetcher::Fetch(const std::string& url, std::size_t max_bytes, core::io::Writer& sink) {
  return Run(url, std::nullopt, max_bytes, sink);
}

Status CurlFetcher::FetchRange(const std::string& url, std::uint64_t offset, std::size_t max_bytes,
                               core::io::Writer& sink) {
  return Run(url, offset, max_bytes, sink);
}

Status CurlFetcher::Run(const std::string& url, std::optional<std::uint64_t> offset,
                        std::size_t max_bytes, core::io::Writer& sink) {
  if (options_.allow_http && options_.http_loopback_only) {
    if (Status allowed = CheckUrlAllowed(url, /*allow_insecure_loopback=*/true); !allowed) {
      return allowed;
    }
  }
  if (!options_.bearer_token) return RunOnce(url, offset, max_bytes, sink, "");
  // A 401 means the token went stale (expired early, the server's signing key changed): one
  // fresh token and one more try. No body byte reached the sink on a 401 (the status is
  // checked before the first byte is passed on), so repeating the request is safe.
  for (bool renew : {false, true}) {
    auto token = options_.bearer_token(renew);
    if (!token) return Fail(std::move(token).error());
    Status done = RunOnce(url, offset, max_bytes, sink, *token);
    if (done || done.error().code() != Errc::kVerificationFailed || renew) return done;
  }
  return Fail(Errc::kInternal, "GET " + url + ": unreachable");
}

Status CurlFetcher::RunOnce(const std::string& url, std::optional<std::uint64_t> offset,
                            std::size_t max_bytes, core::io::Writer& sink,
                            const std::string& token) {
  CURL* curl = curl_;
  Transfer transfer(curl, url, offset, max_bytes, sink, options_.cancelled);
  char error_buffer[CURL_ERROR_SIZE] = {};

  detail::OptionSetter set(curl);
  detail::ResetWithSettings(curl,
                            {.url = url,
                             .error_buffer = error_buffer,
                             .allow_http = options_.allow_http,
                             .ca_file = options_.ca_file,
                             .connect_timeout = options_.connect_timeout,
                             .total_timeout = options_.total_timeout,
                             .user_agent = options_.user_agent,
                             .max_body_bytes = max_bytes},
                            set);
  set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_limit));
  set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  if (options_.max_recv_bytes_per_second > 0) {
    set(CURLOPT_MAX_RECV_SPEED_LARGE,
        static_cast<curl_off_t>(std::min<std::uint64_t>(options_.max_recv_bytes_per_second,
                                                        std::uint64_t{1} << 62)));
  }
  // Loopback traffic over plain http must not leave the machine through a proxy from the
  // environment.
  if (options_.http_loopback_only && detail::StartsWithNoCase(url, "http:")) {
    set(CURLOPT_NOPROXY, "*");
  }
  // CURLOPT_RANGE rather than CURLOPT_RESUME_FROM_LARGE: the latter has libcurl second-guess
  // the answer (it turns a 200 whose length equals the offset into success, and treats
  // offset 0 as "no range"); we check the 206 and its Content-Range ourselves instead.
  std::string range;
  if (offset) {
    range = std::to_string(*offset) + "-";
    set(CURLOPT_RANGE, range.c_str());
  }
  // The header list lives in this frame; it is detached from the reused handle before return.
  curl_slist* headers = nullptr;
  if (!token.empty()) {
    const std::string line = "Authorization: Bearer " + token;
    headers = curl_slist_append(nullptr, line.c_str());
    if (headers == nullptr) return Fail(Errc::kInternal, "GET " + url + ": out of memory");
    set(CURLOPT_HTTPHEADER, headers);
    transfer.sent_token = true;
  }
  if (options_.cancelled) {
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &Transfer::OnProgress);
    set(CURLOPT_XFERINFODATA, static_cast<void*>(&transfer));
  }
  set(CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  set(CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  CURLcode rc = set.result();
  if (rc == CURLE_OK) rc = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_slist_free_all(headers);
  if (set.result() != CURLE_OK) {
    return Fail(detail::CurlError(set.result(), "GET", url, "setting options"));
  }

  // 1. A callback's reason is the most precise (sink error, cap, bad status, cancellation).
  if (transfer.abort_reason) return Fail(std::move(*transfer.abort_reason));
  // 2. A bad status without a body never reached OnBody.
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 0) {
    if (Status ok = transfer.CheckResponse(status); !ok) return ok;
  }
  // 3. Transport trouble: timeouts, refused connections, TLS, announced size over the cap.
  if (rc != CURLE_OK) return Fail(detail::CurlError(rc, "GET", url, error_buffer));
  return Ok();
}

}  // namespace aloft::platform::http
