// The console's static files: SPA fallback, immutable assets, no escape from the directory.

#include "server/api/console_routes.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::api {
namespace {

class ConsoleRoutesTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    std::filesystem::create_directories(dir_ / "dist" / "assets");
    Write(dir_ / "dist" / "index.html", "<!doctype html><script src=/assets/app-1.js></script>");
    Write(dir_ / "dist" / "assets" / "app-1.js", "console.log(1)");
    Write(dir_ / "dist" / "favicon.svg", "<svg/>");
    Write(dir_ / "secret.txt", "outside");
    std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "dist" / "assets" / "link.txt");
    deps_.dist_dir = dir_ / "dist";
    ASSERT_TRUE(RegisterConsole(router_, deps_));
  }
  static void Write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p) << text;
  }
  http::Response Get(std::vector<std::string> segments) {
    http::Request request;
    request.method = http::Method::kGet;
    request.segments = std::move(segments);
    auto match = router_.Find(http::Method::kGet, request.segments);
    EXPECT_NE(match.route, nullptr);
    if (match.route == nullptr) return http::Response::Error(404, "not_found", "none");
    return http::InvokeHandler(*match.route, request, match.params, [](std::string_view) {});
  }

  ConsoleDeps deps_;
  http::Router router_;
};

TEST_F(ConsoleRoutesTest, ClientRoutesLoadIndex) {
  for (auto segments : std::vector<std::vector<std::string>>{{}, {"devices"}, {"deployments", "dep-1"}}) {
    http::Response r = Get(segments);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(r.file.has_value());
    EXPECT_EQ(r.file->path.filename(), "index.html");
    EXPECT_EQ(r.headers.Get("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.headers.Get("Cache-Control"), "public, no-cache");
  }
}

TEST_F(ConsoleRoutesTest, AssetsAreImmutableAndMissingOnesAre404) {
  http::Response js = Get({"assets", "app-1.js"});
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.headers.Get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.headers.Get("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Get({"assets", "gone-2.js"}).status, 404) << "never index.html for a script";
  EXPECT_EQ(Get({"favicon.svg"}).headers.Get("Content-Type"), "image/svg+xml");
}

TEST_F(ConsoleRoutesTest, NoEscapeAndNoApiFallback) {
  EXPECT_EQ(Get({"assets", "link.txt"}).status, 404) << "a link out of the directory";
  EXPECT_EQ(Get({"api", "v1", "nothing"}).status, 404);
  EXPECT_TRUE(Get({"api", "v1", "nothing"}).body.find("not_found") != std::string::npos);
}

TEST(ConsoleRoutes, RefusesADirectoryWithoutIndex) {
  http::Router router;
  ConsoleDeps deps{"/nonexistent/aloft/console"};
  EXPECT_EQ(RegisterConsole(router, deps).error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace aloft::server::api
