// /metrics is for the operator's Prometheus, not for the internet.

#include "server/api/metrics_routes.hpp"

#include <gtest/gtest.h>

#include "core/crypto/hash.hpp"

namespace aloft::server::api {
namespace {

http::Response Scrape(http::Router& router, const std::string& peer, const std::string& auth) {
  http::Request request;
  request.method = http::Method::kGet;
  request.path = "/metrics";
  request.segments = {"metrics"};
  request.peer_address = peer;
  if (!auth.empty()) request.headers.Add("Authorization", auth);
  auto match = router.Find(http::Method::kGet, request.segments);
  EXPECT_NE(match.route, nullptr);
  return http::InvokeHandler(*match.route, request, match.params, [](std::string_view) {});
}

TEST(MetricsRoutes, LoopbackOnlyWithoutAToken) {
  metrics::Registry registry;
  registry.Counter("aloft_test_total", "Test.", {}).Add({});
  MetricsDeps deps{registry, ""};
  http::Router router;
  ASSERT_TRUE(RegisterMetricsRoutes(router, deps));
  http::Response ok = Scrape(router, "127.0.0.1", "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("aloft_test_total 1"), std::string::npos);
  EXPECT_EQ(Scrape(router, "::1", "").status, 200);
  EXPECT_EQ(Scrape(router, "10.0.0.7", "").status, 401);
  EXPECT_EQ(Scrape(router, "::ffff:10.0.0.7", "").status, 401);
}

TEST(MetricsRoutes, TokenRequiredEverywhereOnceConfigured) {
  metrics::Registry registry;
  MetricsDeps deps{registry, core::crypto::Sha256Hex(ToBytes("scrape-secret"))};
  http::Router router;
  ASSERT_TRUE(RegisterMetricsRoutes(router, deps));
  EXPECT_EQ(Scrape(router, "127.0.0.1", "").status, 401);
  EXPECT_EQ(Scrape(router, "10.0.0.7", "Bearer wrong").status, 401);
  EXPECT_EQ(Scrape(router, "10.0.0.7", "Bearer scrape-secret").status, 200);
}

}  // namespace
}  // namespace aloft::server::api
