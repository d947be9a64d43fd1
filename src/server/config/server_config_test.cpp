#include "server/config/server_config.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::config {
namespace {

Result<ServerConfig> Parse(std::string_view text, std::map<std::string, std::string> env = {}) {
  return ParseServerConfig(text, "aloftd.toml", env);
}

// The example shipped in deploy/ must stay a configuration aloftd accepts.
TEST(ServerConfig, ShippedExampleParses) {
  const char* source = std::getenv("ALOFT_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  auto config = LoadServerConfig(std::filesystem::path(source) / "deploy/config/aloftd.toml");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->listen_port, 8443);
  EXPECT_EQ(config->data_dir, "/var/lib/aloftd");
}

TEST(ServerConfig, ParsesEveryKnownKey) {
  auto c = Parse(R"(
[server]
listen = "0.0.0.0:9443"
public_url = "https://ota.example.com"
threads = 4
access_log = false
shutdown_drain_seconds = 5
[tls]
cert_file = "/etc/aloftd/cert.pem"
key_file = "/etc/aloftd/key.pem"
client_ca_file = "/etc/aloftd/devices-ca.pem"
client_certificates = "optional"
session_tickets = 2
[storage]
data_dir = "/srv/aloftd"
[limits]
per_ip_requests_per_second = 20.5
per_device_burst = 10
device_token_lifetime_seconds = 600
)");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->listen_address, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9443);
  EXPECT_EQ(c->threads, 4u);
  EXPECT_FALSE(c->access_log);
  EXPECT_EQ(c->client_certs, ClientCertMode::kOptional);
  EXPECT_EQ(c->tls_session_tickets, 2u);
  EXPECT_EQ(c->database_path(), "/srv/aloftd/aloft.db");
  EXPECT_DOUBLE_EQ(c->per_ip_requests_per_second, 20.5);
  EXPECT_EQ(c->device_token_lifetime, std::chrono::seconds(600));
}

TEST(ServerConfig, AccessLogIsOnByDefault) {
  auto c = Parse("[server]\nlisten = \"127.0.0.1:8443\"\n");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_TRUE(c->access_log);
  EXPECT_EQ(c->tls_session_tickets, 1u);
}

TEST(ServerConfig, ErrorsNameTheKey) {
  EXPECT_NE(Parse("[server]\nlisten = \"nope\"").error().message().find("server.listen"),
            std::string::npos);
  EXPECT_NE(Parse("[server]\nthreads = 0").error().message().find("server.threads"),
            std::string::npos);
  EXPECT_NE(Parse("[server]\nlisen = \"x:1\"").error().message().find("unknown key server.lisen"),
            std::string::npos)
      << "typos are errors, not silent defaults";
  EXPECT_NE(Parse("[tls]\nclient_certificates = \"maybe\"").error().message().find("none"),
            std::string::npos);
  EXPECT_NE(Parse("[tls]\nsession_tickets = 9").error().message().find("tls.session_tickets"),
            std::string::npos);
  EXPECT_NE(Parse("[server\n").error().message().find("aloftd.toml:"), std::string::npos);
  EXPECT_FALSE(Parse("listen = 5"));
}

TEST(ServerConfig, EnvironmentOverridesTheFile) {
  auto c = Parse("[server]\nlisten = \"127.0.0.1:1\"", {{"ALOFTD_SERVER_LISTEN", "127.0.0.1:2"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listen_port, 2);
  EXPECT_FALSE(Parse("", {{"ALOFTD_SERVER_THREADS", "many"}}));
}

TEST(ServerConfig, PlainHttpOnlyOnLoopbackOrBehindAProxy) {
  ServerConfig c;
  c.data_dir = "/nonexistent";
  c.listen_address = "127.0.0.1";
  EXPECT_TRUE(CheckSafety(c));
  c.listen_address = "0.0.0.0";
  auto s = CheckSafety(c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("plain HTTP"), std::string::npos);
  c.behind_tls_proxy = true;
  EXPECT_TRUE(CheckSafety(c));
}

class ServerConfigFiles : public testing::TempDirTest {};

TEST_F(ServerConfigFiles, KeyFileAndDataDirMustBePrivate) {
  ServerConfig c;
  c.data_dir = dir_;
  ::chmod(dir_.c_str(), 0755);
  c.tls_cert_file = dir_ / "cert.pem";
  c.tls_key_file = dir_ / "key.pem";
  ASSERT_TRUE(platform::posix::AtomicWriteFile(c.tls_key_file, ToBytes("k"), 0644));
  auto s = CheckSafety(c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("chmod 600"), std::string::npos);
  EXPECT_NE(s.error().message().find("chmod 700"), std::string::npos);
  ::chmod(c.tls_key_file.c_str(), 0600);
  ::chmod(dir_.c_str(), 0700);
  EXPECT_TRUE(CheckSafety(c));
}

TEST(ServerConfig, ReferenceListsEveryKeyWithItsEnvironmentName) {
  std::string ref = ConfigReference();
  EXPECT_NE(ref.find("ALOFTD_SERVER_LISTEN"), std::string::npos);
  EXPECT_NE(ref.find("[limits]"), std::string::npos);
}

}  // namespace
}  // namespace aloft::server::config
