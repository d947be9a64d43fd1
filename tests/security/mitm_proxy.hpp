#pragma once

// The network attacker of the attack suite: an HTTP server on 127.0.0.1 that devices use as
// their server URL, forwarding every request to the real aloftd over TLS (verified against
// aloftd's CA) and handing the exchange to hooks that may answer in aloftd's place (a rogue
// server), change the answer (a man in the middle) or just record it (to replay later).
//
// Devices talk plain HTTP to it on purpose: it stands for an attacker who has broken or
// bypassed TLS, which Uptane assumes can happen; everything the device accepts must then come
// from the signatures alone.
//
// Thread-safety: every method may be called from any thread; hooks run on the server thread.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "testing/http_server.hpp"

namespace aloft::security {

using testing::TestHttpServer;

// One request and the upstream's answer to it, as the proxy saw them.
struct Exchange {
  std::string method;
  std::string path;
  std::map<std::string, std::string> request_headers;  // lower-case names
  Bytes request_body;
  int status = 0;
  Bytes response_body;
};

class MitmProxy {
 public:
  // Decides before forwarding: an answer here is sent instead, and aloftd never sees the request.
  using Intercept =
      std::function<std::optional<TestHttpServer::Response>(const TestHttpServer::Request&)>;
  // Sees aloftd's answer and may change it before the device gets it.
  using Rewrite = std::function<void(const TestHttpServer::Request&, TestHttpServer::Response&)>;

  static Result<std::unique_ptr<MitmProxy>> Start();
  ~MitmProxy();

  // Where to forward: "https://127.0.0.1:PORT", verified with `ca_file`.
  void SetUpstream(std::string base_url, std::filesystem::path ca_file);
  void SetIntercept(Intercept intercept);
  void SetRewrite(Rewrite rewrite);
  // Back to a transparent (recording) proxy.
  void Honest();

  std::string BaseUrl() const { return server_->BaseUrl(); }
  std::uint16_t port() const { return server_->port(); }

  // Every forwarded exchange so far, oldest first (bodies above 4 MiB are not kept).
  std::vector<Exchange> Exchanges() const;
  // The bodies aloftd answered 200 to GET `path` with, oldest first, without repeats.
  std::vector<Bytes> Served(const std::string& path) const;

 private:
  explicit MitmProxy(std::unique_ptr<TestHttpServer> server) : server_(std::move(server)) {}
  std::optional<TestHttpServer::Response> Handle(const TestHttpServer::Request& request);
  TestHttpServer::Response Forward(const TestHttpServer::Request& request);

  std::unique_ptr<TestHttpServer> server_;
  mutable std::mutex mutex_;
  std::string upstream_;
  std::filesystem::path ca_file_;
  Intercept intercept_;
  Rewrite rewrite_;
  std::vector<Exchange> exchanges_;
};

}  // namespace aloft::security
