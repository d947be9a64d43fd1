// Transport-free tests: targets, routing, error bodies, security headers, ranges, rate limits.

#include "server/http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "server/http/range.hpp"
#include "server/http/rate_limiter.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::server::http {
namespace {

using core::codec::Json;
using core::codec::ParseJson;

TEST(ParseTarget, DecodesAndSplits) {
  auto t = ParseTarget("/api/v1/devices/a%20b/?x=1&y=a+b&x=2");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->path, "/api/v1/devices/a b");
  EXPECT_EQ(t->segments, (std::vector<std::string>{"api", "v1", "devices", "a b"}));
  EXPECT_EQ(t->query.at("x"), "1");
  EXPECT_EQ(t->query.at("y"), "a b");
  auto root = ParseTarget("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->path, "/");
  EXPECT_TRUE(root->segments.empty());
  // UTF-8 up to U+10FFFF passes; RejectsUnsafeTargets has the malformed forms.
  auto utf8 = ParseTarget("/caf%C3%A9/%F0%9F%9A%80?q=%E2%82%AC");
  ASSERT_TRUE(utf8) << utf8.error().ToString();
  EXPECT_EQ(utf8->path, "/caf\xC3\xA9/\xF0\x9F\x9A\x80");
  EXPECT_EQ(utf8->query.at("q"), "\xE2\x82\xAC");
}

TEST(ParseTarget, RejectsUnsafeTargets) {
  for (std::string_view bad : {"", "a/b", "http://x/y", "/a/../b", "/a/./b", "/a/%2e%2E/b",
                               "/a%2Fb", "/a%00b", "/a%zz", "/a%2", "/a//b", "/..", "/a%FF",
                               "/a%C0%AF", "/a%ED%A0%80", "/a?x=%C3%28", "/a%F4%90%80%80"}) {
    EXPECT_FALSE(ParseTarget(bad)) << bad;
  }
}

TEST(Headers, CaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "a");
  EXPECT_EQ(h.Get("content-type"), "a");
  h.Set("CONTENT-TYPE", "b");
  EXPECT_EQ(h.fields().size(), 1u);
  EXPECT_EQ(h.Get("Content-Type"), "b");
  EXPECT_EQ(h.Find("x"), nullptr);
}

Response Echo(const Request&, const RouteParams& params) {
  Json::Object o;
  for (const auto& [k, v] : params) o.emplace(k, v);
  return Response::Json(200, Json(std::move(o)));
}

TEST(Router, MatchesParamsLiteralsAndMethods) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/api/v1/devices/{id}", Echo));
  RouteOptions self_options;
  self_options.name = "self";
  ASSERT_TRUE(router.Add(Method::kGet, "/api/v1/devices/self", Echo, self_options));
  ASSERT_TRUE(router.Add(Method::kPost, "/api/v1/devices/{id}/events", Echo));
  ASSERT_TRUE(router.Add(Method::kPut, "/api/v1/devices/{id}", Echo));

  auto m = router.Find(Method::kGet, {"api", "v1", "devices", "d1"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("id"), "d1");
  auto self = router.Find(Method::kGet, {"api", "v1", "devices", "self"});
  ASSERT_NE(self.route, nullptr);
  EXPECT_EQ(self.route->options.name, "self");
  EXPECT_TRUE(self.params.empty());
  // HEAD falls back to GET.
  EXPECT_NE(router.Find(Method::kHead, {"api", "v1", "devices", "d1"}).route, nullptr);

  auto wrong_method = router.Find(Method::kDelete, {"api", "v1", "devices", "d1"});
  EXPECT_EQ(wrong_method.route, nullptr);
  EXPECT_EQ(AllowHeader(wrong_method.allowed), "GET, HEAD, PUT");
  auto unknown = router.Find(Method::kGet, {"api", "v2"});
  EXPECT_EQ(unknown.route, nullptr);
  EXPECT_TRUE(unknown.allowed.empty());

  auto routes = router.Routes();
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(routes[0].pattern, "/api/v1/devices/{id}");
  EXPECT_EQ(routes[0].name, "GET /api/v1/devices/{id}");
}

TEST(Router, GetFallbackOnlyForPathsNoPatternMatches) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kPost, "/api/v1/deployments", Echo));
  router.SetGetFallback(Echo);
  auto page = router.Find(Method::kGet, {"deployments", "dep-1"});
  ASSERT_NE(page.route, nullptr);
  EXPECT_EQ(page.route->options.name, "GET fallback");
  EXPECT_NE(router.Find(Method::kHead, {}).route, nullptr) << "the root too";
  EXPECT_EQ(router.Find(Method::kPost, {"deployments"}).route, nullptr) << "GET and HEAD only";
  auto post_only = router.Find(Method::kGet, {"api", "v1", "deployments"});
  EXPECT_EQ(post_only.route, nullptr) << "a known path keeps its 405";
  EXPECT_EQ(AllowHeader(post_only.allowed), "POST");
  EXPECT_EQ(router.Routes().size(), 1u) << "the fallback is not a documented route";
}

TEST(Router, AddAllAddsInOrderAndStopsAtTheFirstError) {
  Router router;
  const RouteSpec routes[] = {
      {Method::kGet, "/a", Echo, {}},
      {Method::kGet, "/a", Echo, {}},  // a duplicate: refused, and nothing after it is added
      {Method::kGet, "/b", Echo, {}},
  };
  EXPECT_EQ(router.AddAll(routes).error().code(), Errc::kAlreadyExists);
  ASSERT_EQ(router.Routes().size(), 1u);
  EXPECT_EQ(router.Routes()[0].pattern, "/a");
}

TEST(Router, RejectsBadPatterns) {
  Router router;
  EXPECT_FALSE(router.Add(Method::kGet, "nope", Echo));
  EXPECT_FALSE(router.Add(Method::kGet, "/a//b", Echo));
  EXPECT_FALSE(router.Add(Method::kGet, "/a/{}", Echo));
  EXPECT_FALSE(router.Add(Method::kGet, "/a/{x}/{x}", Echo));
  EXPECT_FALSE(router.Add(Method::kGet, "/a/x{y}", Echo));
  EXPECT_FALSE(router.Add(Method::kOther, "/a", Echo));
  ASSERT_TRUE(router.Add(Method::kGet, "/a/{x}", Echo));
  auto dup = router.Add(Method::kGet, "/a/{y}", Echo);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
}

TEST(Router, ThrowingHandlerBecomesOpaque500) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/boom", [](const Request&, const RouteParams&) -> Response {
    throw std::runtime_error("SELECT * FROM secrets at /var/lib/aloft/db");
  }));
  auto m = router.Find(Method::kGet, {"boom"});
  ASSERT_NE(m.route, nullptr);
  std::string logged;
  Response r =
      InvokeHandler(*m.route, Request{}, m.params, [&](std::string_view l) { logged = l; });
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":{"code":"internal","message":"internal error"}})");
  EXPECT_NE(logged.find("SELECT"), std::string::npos);
}

TEST(Response, ErrorJsonAndSecurityHeaders) {
  Response r = Response::Error(404, "not_found", "no \"such\" thing");
  auto parsed = ParseJson(r.body);
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed->Find("error")->Find("message")).AsString(), "no \"such\" thing");
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  ApplySecurityHeaders(r, /*tls=*/true);
  EXPECT_EQ(r.headers.Get("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.headers.Get("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r.headers.Get("X-Frame-Options"), "DENY");
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
  EXPECT_NE(r.headers.Get("Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_NE(r.headers.Get("Strict-Transport-Security").find("max-age="), std::string::npos);

  Response cached = Response::Text(200, "text/plain", "x");
  cached.headers.Set("Cache-Control", "public, max-age=60");
  ApplySecurityHeaders(cached, /*tls=*/false);
  EXPECT_EQ(cached.headers.Get("Cache-Control"), "public, max-age=60");
  EXPECT_FALSE(cached.headers.Has("Strict-Transport-Security"));
}

TEST(Range, Parse) {
  ByteRange r;
  EXPECT_EQ(ParseRange("bytes=2-5", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.first, 2u);
  EXPECT_EQ(r.last, 5u);
  EXPECT_EQ(ParseRange("bytes=7-", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(ParseRange("bytes=-3", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.first, 7u);
  EXPECT_EQ(ParseRange("bytes=-30", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(ParseRange("bytes=5-100", 10, r), RangeParse::kSatisfiable);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(ParseRange("bytes=10-", 10, r), RangeParse::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 10, r), RangeParse::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-1,4-5", 10, r), RangeParse::kNone);
  EXPECT_EQ(ParseRange("bytes=5-2", 10, r), RangeParse::kNone);
  EXPECT_EQ(ParseRange("items=0-1", 10, r), RangeParse::kNone);
  EXPECT_EQ(ParseRange("bytes=x-1", 10, r), RangeParse::kNone);
}

TEST(Range, ServeFileStatuses) {
  FileResource file{"/blobs/abc", 10, "abc", "application/octet-stream", true};
  Request req;
  Response full = ServeFile(req, file);
  EXPECT_EQ(full.status, 200);
  ASSERT_TRUE(full.file);
  EXPECT_EQ(full.file->length, 10u);
  EXPECT_EQ(full.headers.Get("ETag"), "\"abc\"");
  EXPECT_EQ(full.headers.Get("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(full.headers.Get("Accept-Ranges"), "bytes");

  req.headers.Set("Range", "bytes=2-5");
  Response part = ServeFile(req, file);
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.file->offset, 2u);
  EXPECT_EQ(part.file->length, 4u);
  EXPECT_EQ(part.headers.Get("Content-Range"), "bytes 2-5/10");

  req.headers.Set("If-Range", "\"other\"");
  EXPECT_EQ(ServeFile(req, file).status, 200);
  req.headers.Remove("If-Range");

  req.headers.Set("Range", "bytes=20-");
  Response bad = ServeFile(req, file);
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.headers.Get("Content-Range"), "bytes */10");

  req.headers.Set("If-None-Match", "\"zzz\", \"abc\"");
  Response not_modified = ServeFile(req, file);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.file);
}

TEST(RateLimiter, BucketRefillsWithTime) {
  aloft::testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{.capacity = 2, .refill_per_second = 0.5, .max_keys = 10});
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("a").allowed);
  RateDecision denied = limiter.Take("a");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, std::chrono::seconds(2));
  EXPECT_TRUE(limiter.Take("b").allowed);  // keys are independent
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(limiter.Take("a").retry_after, std::chrono::seconds(1));
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_FALSE(limiter.Take("a").allowed);
  // Never more than capacity, however long the wait.
  clock.Advance(std::chrono::hours(1));
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_FALSE(limiter.Take("a").allowed);
}

TEST(RateLimiter, MemoryIsBounded) {
  aloft::testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{.capacity = 1, .refill_per_second = 1, .max_keys = 3});
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.Take("ip" + std::to_string(i)).allowed);
    EXPECT_LE(limiter.KeyCountForTest(), 3u);
  }
  // The most recent key is still tracked.
  EXPECT_FALSE(limiter.Take("ip99").allowed);
}

TEST(RateLimiter, AtTheCapFullBucketsGoFirstAndBusyOnesStay) {
  aloft::testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{.capacity = 2, .refill_per_second = 1, .max_keys = 4});
  // "busy" is drained and keeps being used; "idle1".."idle3" take one token and go quiet.
  EXPECT_TRUE(limiter.Take("busy").allowed);
  EXPECT_TRUE(limiter.Take("busy").allowed);
  for (const char* idle : {"idle1", "idle2", "idle3"}) EXPECT_TRUE(limiter.Take(idle).allowed);
  clock.Advance(std::chrono::milliseconds(1500));  // idle buckets are full again; busy's is not
  EXPECT_TRUE(limiter.Take("busy").allowed);       // 1.5 tokens back, one taken
  EXPECT_TRUE(limiter.Take("new").allowed);        // the cap: the three full buckets go
  EXPECT_EQ(limiter.KeyCountForTest(), 2u);
  // busy kept its state: 0.5 tokens, so it is refused (a dropped bucket would have allowed it).
  EXPECT_FALSE(limiter.Take("busy").allowed);
}

TEST(RateLimiter, WhenEveryKeyIsBusyTheLeastRecentlyUsedGo) {
  aloft::testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{.capacity = 1, .refill_per_second = 0.001, .max_keys = 8});
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(limiter.Take("k" + std::to_string(i)).allowed);
    clock.Advance(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(limiter.Take("k8").allowed);  // k0 and k1, the oldest quarter, are dropped
  EXPECT_EQ(limiter.KeyCountForTest(), 7u);
  EXPECT_TRUE(limiter.Take("k0").allowed) << "dropped: a fresh bucket";
  for (int i = 2; i <= 8; ++i) EXPECT_FALSE(limiter.Take("k" + std::to_string(i)).allowed) << i;
}

}  // namespace
}  // namespace aloft::server::http
