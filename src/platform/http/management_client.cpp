#include "platform/http/management_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>

#include "platform/http/curl_common.hpp"

namespace aloft::platform::http {
namespace {

// The request body read from disk, closed on every path out.
class BodyFile {
 public:
  BodyFile() = default;
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;
  ~BodyFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(const std::filesystem::path& path) {
    do {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) {
      const int err = errno;
      if (err == ENOENT) return Fail(Errc::kNotFound, "no such file " + path.string());
      return Fail(Errc::kIo, "open " + path.string() + ": " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd_, &st) < 0 || !S_ISREG(st.st_mode)) {
      return Fail(Errc::kIo, path.string() + " is not a readable regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    path_ = path;
    return Ok();
  }
  std::uint64_t size() const noexcept { return size_; }

  // libcurl's read callback. A file that shrinks under us ends the upload early, which the
  // server sees as a short body (and refuses by length and hash).
  static size_t OnRead(char* buffer, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<BodyFile*>(user);
    for (;;) {
      const ssize_t n = ::read(self->fd_, buffer, size * count);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) {
        self->error_ = errno;
        return CURL_READFUNC_ABORT;
      }
    }
  }
  std::optional<Error> ReadError() const {
    if (error_ == 0) return std::nullopt;
    return Error(Errc::kIo, "read " + path_.string() + ": " + std::strerror(error_));
  }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  int error_ = 0;
  std::filesystem::path path_;
};

// State of one exchange, shared with libcurl's callbacks through a void*.
struct Exchange {
  std::size_t max_bytes = 0;
  core::io::Writer* sink = nullptr;  // used for 2xx answers when set
  long status = 0;                   // of the response whose headers arrived last
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<Error> abort_reason;
  const UploadProgress* progress = nullptr;
  std::uint64_t upload_total = 0;

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) noexcept {
    auto* self = static_cast<Exchange*>(user);
    const std::string_view line(data, size * count);
    try {
      if (detail::StartsWithNoCase(line, "http/")) {
        // A new response (after 100 Continue, say): "HTTP/1.1 201 Created".
        self->headers.clear();
        const std::size_t sp = line.find(' ');
        self->status = 0;
        if (sp != std::string_view::npos) {
          for (std::size_t i = sp + 1; i < line.size() && i < sp + 4; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(line[i]))) break;
            self->status = self->status * 10 + (line[i] - '0');
          }
        }
        return size * count;
      }
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return size * count;
      self->headers.emplace_back(detail::LowerAscii(detail::TrimHeaderText(line.substr(0, colon))),
                                 std::string(detail::TrimHeaderText(line.substr(colon + 1))));
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
    if (self->sink != nullptr && self->status >= 200 && self->status < 300) {
      Status written = self->sink->Write(ByteView(reinterpret_cast<const std::uint8_t*>(data), n));
      if (!written) {
        self->abort_reason = std::move(written).error();
        return CURL_WRITEFUNC_ERROR;
      }
      return n;
    }
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

  static int OnProgress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/,
                        curl_off_t /*ultotal*/, curl_off_t ulnow) noexcept {
    auto* self = static_cast<Exchange*>(user);
    if (self->progress != nullptr && *self->progress) {
      try {
        (*self->progress)(static_cast<std::uint64_t>(ulnow), self->upload_total);
      } catch (...) {
        return 1;  // aborts the transfer; a progress display must not throw through libcurl
      }
    }
    return 0;
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

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

std::optional<std::string> ManagementResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> ManagementResponse::Cookie(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key != "set-cookie") continue;
    const std::string_view pair = std::string_view(value).substr(0, value.find(';'));
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || detail::TrimHeaderText(pair.substr(0, eq)) != name) {
      continue;
    }
    return std::string(detail::TrimHeaderText(pair.substr(eq + 1)));
  }
  return std::nullopt;
}

Result<std::unique_ptr<ManagementClient>> ManagementClient::Create(Options options) {
  auto curl = detail::NewEasyHandle();
  if (!curl) return Fail(std::move(curl).error());
  return std::unique_ptr<ManagementClient>(new ManagementClient(*curl, std::move(options)));
}

ManagementClient::~ManagementClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<ManagementResponse> ManagementClient::Send(const ManagementRequest& request) {
  const std::string_view method = HttpMethodName(request.method);
  const std::string what = std::string(method) + " " + request.url;
  if (Status allowed = CheckUrlAllowed(request.url, options_.allow_insecure_loopback); !allowed) {
    return Fail(std::move(allowed).error());
  }
  if (request.body && request.body_file) {
    return Fail(Errc::kInvalidArgument, what + ": a request has at most one body");
  }
  const bool plain_http = detail::StartsWithNoCase(request.url, "http:");

  BodyFile file;
  if (request.body_file) {
    if (Status opened = file.Open(*request.body_file); !opened) {
      return Fail(std::move(opened).error().WithContext(what));
    }
  }
  const bool has_body = request.body.has_value() || request.body_file.has_value();

  HeaderList headers;
  bool headers_ok = headers.Append("Accept: application/json") &&
                    headers.Append("Expect:");  // no 100-continue round trip
  if (has_body) {
    if (HasLineBreak(request.content_type)) {
      return Fail(Errc::kInvalidArgument, what + ": malformed content type");
    }
    headers_ok = headers_ok && headers.Append("Content-Type: " + request.content_type);
  }
  for (const auto& [name, value] : request.headers) {
    // The value is not named: it is usually a secret.
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return Fail(Errc::kInvalidArgument, what + ": malformed header '" + name + "'");
    }
    headers_ok = headers_ok && headers.Append(name + ": " + value);
  }
  if (!headers_ok) return Fail(Errc::kInternal, what + ": out of memory building headers");

  CURL* curl = static_cast<CURL*>(curl_);
  Exchange exchange;
  exchange.max_bytes = options_.max_response_bytes;
  exchange.sink = request.response_sink;
  exchange.progress = &request.upload_progress;
  exchange.upload_total = file.size();
  char error_buffer[CURL_ERROR_SIZE] = {};
  const bool streaming = request.body_file.has_value() || request.response_sink != nullptr;

  detail::OptionSetter set(curl);
  detail::ResetWithSettings(
      curl,
      {.url = request.url,
       .error_buffer = error_buffer,
       .allow_http = options_.allow_insecure_loopback,
       .ca_file = options_.ca_file,
       .connect_timeout = options_.connect_timeout,
       .total_timeout = streaming ? std::chrono::milliseconds(0) : options_.total_timeout,
       .user_agent = options_.user_agent,
       // Streamed answers are bounded by their sink; Content-Length is checked for the rest.
       .max_body_bytes = request.response_sink != nullptr ? std::numeric_limits<std::size_t>::max()
                                                          : options_.max_response_bytes},
      set);
  // Loopback traffic must never leave the machine through a proxy from the environment.
  if (plain_http) set(CURLOPT_NOPROXY, "*");
  set(CURLOPT_HTTPHEADER, headers.list);
  if (streaming && options_.low_speed_limit > 0) {
    set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_limit));
    set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  }
  if (request.body_file) {
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_READFUNCTION, &BodyFile::OnRead);
    set(CURLOPT_READDATA, static_cast<void*>(&file));
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(file.size()));
    set(CURLOPT_CUSTOMREQUEST, method.data());
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &Exchange::OnProgress);
    set(CURLOPT_XFERINFODATA, static_cast<void*>(&exchange));
  } else {
    switch (request.method) {
      case HttpMethod::kGet:
        set(CURLOPT_HTTPGET, 1L);
        break;
      case HttpMethod::kPost:
        set(CURLOPT_POST, 1L);
        break;
      case HttpMethod::kPut:
      case HttpMethod::kDelete:
        set(CURLOPT_CUSTOMREQUEST, method.data());
        break;
    }
    if (request.method != HttpMethod::kGet) {
      // libcurl copies nothing: the string lives in `request` until we return.
      static const std::string kEmpty;
      const std::string& payload = request.body ? *request.body : kEmpty;
      set(CURLOPT_POSTFIELDS, payload.c_str());
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    }
  }
  set(CURLOPT_HEADERFUNCTION, &Exchange::OnHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&exchange));
  set(CURLOPT_WRITEFUNCTION, &Exchange::OnBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&exchange));
  if (set.result() != CURLE_OK) {
    return Fail(detail::CurlError(set.result(), method, request.url, "setting options"));
  }

  const CURLcode rc = curl_easy_perform(curl);
  // The header list and the file die with this frame; keep no pointer to them in the handle.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_READDATA, static_cast<void*>(nullptr));

  if (exchange.abort_reason) return Fail(std::move(*exchange.abort_reason).WithContext(what));
  if (std::optional<Error> read_error = file.ReadError()) {
    return Fail(std::move(*read_error).WithContext(what));
  }
  if (rc != CURLE_OK) return Fail(detail::CurlError(rc, method, request.url, error_buffer));

  ManagementResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  response.headers = std::move(exchange.headers);
  response.body = std::move(exchange.body);
  if (request.upload_progress && request.body_file) {
    request.upload_progress(file.size(), file.size());  // the bar ends at 100%
  }
  return response;
}

}  // namespace aloft::platform::http
