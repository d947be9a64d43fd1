#include "server/api/metrics_routes.hpp"

#include "core/base/bytes.hpp"
#include "core/crypto/hash.hpp"

namespace aloft::server::api {
namespace {

using http::Request;
using http::Response;

bool Authorized(const Request& request, const MetricsDeps& deps) {
  if (deps.token_sha256.empty()) return IsLoopbackPeer(request.peer_address);
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view header = request.headers.Get("Authorization");
  if (header.substr(0, kBearer.size()) != kBearer) return false;
  // Compare hashes, so the comparison's time says nothing about the token.
  const std::string presented = core::crypto::Sha256Hex(ToBytes(header.substr(kBearer.size())));
  return core::crypto::ConstantTimeEqual(ToBytes(presented), ToBytes(deps.token_sha256));
}

}  // namespace

bool IsLoopbackPeer(std::string_view peer) noexcept {
  if (peer == "::1") return true;
  constexpr std::string_view kMapped = "::ffff:";
  if (peer.substr(0, kMapped.size()) == kMapped) peer.remove_prefix(kMapped.size());
  return peer.substr(0, 4) == "127.";
}

Status RegisterMetricsRoutes(http::Router& router, MetricsDeps& deps) {
  http::RouteOptions options;
  options.max_body_bytes = 0;
  return router.Add(
      http::Method::kGet, "/metrics",
      [&deps](const Request& request, const http::RouteParams&) {
        if (!Authorized(request, deps)) {
          Response r = Response::Error(401, "unauthenticated",
                                       "metrics need the scrape token (or a loopback client)");
          r.headers.Set("WWW-Authenticate", "Bearer");
          return r;
        }
        Response r = Response::Text(200, "text/plain; version=0.0.4; charset=utf-8",
                                    deps.registry.Render());
        r.headers.Set("Cache-Control", "no-store");
        return r;
      },
      options);
}

}  // namespace aloft::server::api
