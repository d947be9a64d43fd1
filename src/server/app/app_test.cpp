// aloftd assembled in-process: init, start, serve, refuse unsafe configurations, and document
// every route it serves.

#include "server/app/app.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::app {
namespace {

long Get(const std::string& url, const std::string& ca_file = "") {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char*, size_t s, size_t n, void*) -> size_t { return s * n; });
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return status;
}

class AppTest : public testing::TempDirTest {
 protected:
  config::ServerConfig Config() {
    config::ServerConfig c;
    c.listen_address = "127.0.0.1";
    c.listen_port = 0;
    c.data_dir = dir_ / "data";
    c.public_url = "http://127.0.0.1";
    c.shutdown_drain = std::chrono::seconds(1);
    return c;
  }
};

TEST_F(AppTest, InitThenServePlainHttpOnLoopback) {
  config::ServerConfig c = Config();
  auto summary = Init(c, {});
  ASSERT_TRUE(summary) << summary.error().ToString();
  auto server = Aloftd::Start(c);
  ASSERT_TRUE(server) << server.error().ToString();
  std::string base = "http://127.0.0.1:" + std::to_string((*server)->port());
  EXPECT_EQ(Get(base + "/healthz"), 200);
  EXPECT_EQ(Get(base + "/readyz"), 200);
  EXPECT_EQ(Get(base + "/api/v1/device/enroll"), 405);
  EXPECT_EQ(Get(base + "/metrics"), 200) << "loopback scrapes need no token";
  EXPECT_EQ(Get(base + "/api/v1/targets/" + std::string(64, 'a') + ".img"), 404);
}

TEST_F(AppTest, InitWithGeneratedTlsServesHttpsTrustedByTheNewCa) {
  config::ServerConfig c = Config();
  c.tls_cert_file = dir_ / "tls" / "cert.pem";
  c.tls_key_file = dir_ / "tls" / "key.pem";
  std::filesystem::create_directories(dir_ / "tls");
  c.public_url = "https://127.0.0.1";
  InitOptions tls;
  tls.generate_tls = true;
  ASSERT_TRUE(Init(c, tls));
  EXPECT_FALSE(Init(c, tls)) << "existing TLS files are never overwritten";
  auto server = Aloftd::Start(c);
  ASSERT_TRUE(server) << server.error().ToString();
  std::string url = "https://127.0.0.1:" + std::to_string((*server)->port()) + "/healthz";
  EXPECT_EQ(Get(url, (dir_ / "tls" / "ca.pem").string()), 200);
  EXPECT_EQ(Get(url), 0) << "not trusted without the CA";
}

TEST_F(AppTest, RefusesUnsafeConfigurationAndMissingSecrets) {
  config::ServerConfig c = Config();
  EXPECT_FALSE(Aloftd::Start(c)) << "no token key before init";
  ASSERT_TRUE(Init(c, {}));
  c.listen_address = "0.0.0.0";
  auto refused = Aloftd::Start(c);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("plain HTTP"), std::string::npos);
}

TEST_F(AppTest, EveryRouteIsDocumentedInOpenApi) {
  config::ServerConfig c = Config();
  ASSERT_TRUE(Init(c, {}));
  auto server = Aloftd::Start(c);
  ASSERT_TRUE(server);
  const char* source = std::getenv("ALOFT_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  auto spec = platform::posix::ReadFile(std::filesystem::path(source) / "docs/api/openapi.yaml",
                                        1 << 22);
  ASSERT_TRUE(spec) << spec.error().ToString();
  std::string text = ToString(*spec);
  for (const std::string& route : (*server)->Routes()) {
    std::string method = route.substr(0, route.find(' '));
    std::string path = route.substr(route.find(' ') + 1);
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::size_t at = text.find("\n  " + path + ":\n");
    ASSERT_NE(at, std::string::npos) << path << " is not in docs/api/openapi.yaml";
    std::size_t next = text.find("\n  /", at + 1);
    std::string block = text.substr(at, next == std::string::npos ? std::string::npos : next - at);
    EXPECT_NE(block.find("\n    " + method + ":"), std::string::npos)
        << route << " is not documented in docs/api/openapi.yaml";
  }
}

}  // namespace
}  // namespace aloft::server::app
