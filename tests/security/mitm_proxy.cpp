#include "security/mitm_proxy.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace aloft::security {
namespace {

constexpr std::size_t kMaxKeptBody = std::size_t{4} << 20;

// Response headers worth passing on to the device; Content-Length and Connection are the
// test server's own.
bool PassedOn(const std::string& name) {
  return name == "content-type" || name == "content-range" || name == "www-authenticate" ||
         name == "retry-after" || name == "cache-control" || name == "accept-ranges" ||
         name == "location";
}

struct Received {
  Bytes body;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  received->body.insert(received->body.end(), reinterpret_cast<const std::uint8_t*>(data),
                        reinterpret_cast<const std::uint8_t*>(data) + size * count);
  return size * count;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  std::string line(data, size * count);
  const std::size_t colon = line.find(':');
  if (colon == std::string::npos) return size * count;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
    value.erase(0, 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  if (PassedOn(name)) received->headers.emplace_back(name, value);
  return size * count;
}

}  // namespace

Result<std::unique_ptr<MitmProxy>> MitmProxy::Start() {
  auto server = TestHttpServer::Start();
  if (!server) return Fail(std::move(server).error());
  std::unique_ptr<MitmProxy> proxy(new MitmProxy(std::move(*server)));
  MitmProxy* raw = proxy.get();
  proxy->server_->SetHandler([raw](const TestHttpServer::Request& r) { return raw->Handle(r); });
  return proxy;
}

MitmProxy::~MitmProxy() { server_->Stop(); }

void MitmProxy::SetUpstream(std::string base_url, std::filesystem::path ca_file) {
  std::lock_guard lock(mutex_);
  upstream_ = std::move(base_url);
  ca_file_ = std::move(ca_file);
}

void MitmProxy::SetIntercept(Intercept intercept) {
  std::lock_guard lock(mutex_);
  intercept_ = std::move(intercept);
}

void MitmProxy::SetRewrite(Rewrite rewrite) {
  std::lock_guard lock(mutex_);
  rewrite_ = std::move(rewrite);
}

void MitmProxy::Honest() {
  std::lock_guard lock(mutex_);
  intercept_ = nullptr;
  rewrite_ = nullptr;
}

std::vector<Exchange> MitmProxy::Exchanges() const {
  std::lock_guard lock(mutex_);
  return exchanges_;
}

std::vector<Bytes> MitmProxy::Served(const std::string& path) const {
  std::lock_guard lock(mutex_);
  std::vector<Bytes> out;
  for (const Exchange& e : exchanges_) {
    if (e.method != "GET" || e.path != path || e.status != 200) continue;
    if (std::find(out.begin(), out.end(), e.response_body) == out.end()) {
      out.push_back(e.response_body);
    }
  }
  return out;
}

std::optional<TestHttpServer::Response> MitmProxy::Handle(const TestHttpServer::Request& request) {
  Intercept intercept;
  Rewrite rewrite;
  {
    std::lock_guard lock(mutex_);
    intercept = intercept_;
    rewrite = rewrite_;
  }
  if (intercept) {
    if (auto answer = intercept(request)) return answer;
  }
  TestHttpServer::Response response = Forward(request);
  {
    std::lock_guard lock(mutex_);
    Exchange e{request.method,  request.path,
               request.headers, request.body.size() <= kMaxKeptBody ? request.body : Bytes{},
               response.status, response.body.size() <= kMaxKeptBody ? response.body : Bytes{}};
    exchanges_.push_back(std::move(e));
  }
  if (rewrite) rewrite(request, response);
  return response;
}

TestHttpServer::Response MitmProxy::Forward(const TestHttpServer::Request& request) {
  std::string url;
  std::string ca;
  {
    std::lock_guard lock(mutex_);
    url = upstream_ + request.target;
    ca = ca_file_.string();
  }
  TestHttpServer::Response response;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    response.status = 502;
    return response;
  }
  Received received;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    if (name == "authorization" || name == "content-type" || name == "range" || name == "accept" ||
        name == "user-agent") {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
  }
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET" && request.method != "HEAD") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(request.body.data()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &received);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  long status = 502;
  if (code == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  response.status = static_cast<int>(status);
  if (code == CURLE_OK) {
    response.body = std::move(received.body);
    response.headers = std::move(received.headers);
  }
  return response;
}

}  // namespace aloft::security
