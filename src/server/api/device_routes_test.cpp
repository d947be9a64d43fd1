// The device API over real HTTP on 127.0.0.1: enroll, authenticate, inventory, reports, and
// the ways each can be misused. Every bad input must get a 4xx and change nothing.

#include "server/api/device_routes.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "server/http/server.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "platform/posix/system_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::api {
namespace {

using core::codec::Json;
using core::crypto::PrivateKey;
namespace wire = core::wire;

struct HttpResult {
  long status = 0;
  std::string body;
};

// A small libcurl client: method, URL, optional bearer token and JSON body.
HttpResult Call(const std::string& method, const std::string& url, const std::string& body = "",
                const std::string& token = "") {
  HttpResult out;
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::string auth = "Authorization: Bearer " + token;
  if (!token.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* p, size_t s, size_t n, void* u) -> size_t {
                     static_cast<std::string*>(u)->append(p, s * n);
                     return s * n;
                   });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return out;
}

class DeviceRoutesTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    pool_ = std::move(*platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 2));
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    store_.emplace(*pool_);
    enrollment_.emplace(*store_, *store_, clock_);
    directory_.emplace(*store_);
    authenticator_.emplace(*directory_, clock_,
                           auth::DeviceAuthenticator::Options{kAudience, std::chrono::seconds(300),
                                                              1000});
    tokens_.emplace(*auth::TokenService::Create(Bytes(32, 9), clock_, std::chrono::minutes(15)));
    limiter_.emplace(clock_, http::RateLimit{1000, 1000, 1000});
    deps_.emplace(DeviceApiDeps{*enrollment_, *authenticator_, *tokens_, *store_, *store_,
                                *limiter_, clock_});
    ASSERT_TRUE(RegisterDeviceRoutes(router_, *deps_));
    http::ServerConfig config;
    config.allow_plain_http = true;
    config.upload_dir = dir_;
    auto server = http::HttpServer::Start(config, router_, clock_);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    base_ = "http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/device/";
  }

  std::string EnrollBody(const PrivateKey& key, const std::string& id, const std::string& token) {
    return core::codec::DumpJson(
        wire::ToJson(wire::EnrollRequest{id, "rpi4", key.Public().ToTufJson(), token}));
  }
  std::string AuthBody(const PrivateKey& key, const std::string& id, char nonce = 'a') {
    wire::AuthRequest r{id, kAudience, std::chrono::floor<std::chrono::seconds>(clock_.Now()),
                        std::string(32, nonce), ""};
    r.signature = HexEncode(*key.Sign(AsBytes(core::codec::CanonicalJson(wire::AuthStatement(r)))));
    return core::codec::DumpJson(wire::ToJson(r));
  }
  // Enrolled, accepted and authenticated: returns the token.
  std::string Login(const PrivateKey& key, const std::string& id) {
    EXPECT_TRUE(enrollment_->PreauthorizeKey(id, "rpi4", key.Public().ToTufJson()));
    EXPECT_EQ(Call("POST", base_ + "enroll", EnrollBody(key, id, "")).status, 200);
    HttpResult auth = Call("POST", base_ + "auth", AuthBody(key, id));
    EXPECT_EQ(auth.status, 200) << auth.body;
    auto parsed = wire::ParseAuthResponse(*core::codec::ParseJson(auth.body));
    return parsed ? parsed->token : "";
  }

  static constexpr const char* kAudience = "https://ota.test";
  platform::posix::SystemClock clock_;
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<store::sqlite::SqliteDeviceStore> store_;
  std::optional<devices::EnrollmentService> enrollment_;
  std::optional<devices::StoreDeviceDirectory> directory_;
  std::optional<auth::DeviceAuthenticator> authenticator_;
  std::optional<auth::TokenService> tokens_;
  std::optional<http::RateLimiter> limiter_;
  std::optional<DeviceApiDeps> deps_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string base_;
  PrivateKey key_ = *PrivateKey::Generate(core::crypto::KeyType::kEd25519);
};

TEST_F(DeviceRoutesTest, EnrollWithTokenThenOperatorAcceptsThenAuthenticate) {
  auto token = enrollment_->CreateEnrollmentToken(std::chrono::hours(1), 5);
  HttpResult enrolled = Call("POST", base_ + "enroll", EnrollBody(key_, "dev-1", token->secret));
  EXPECT_EQ(enrolled.status, 202) << enrolled.body;
  EXPECT_EQ(Call("POST", base_ + "auth", AuthBody(key_, "dev-1")).status, 403)
      << "pending devices get no token";
  ASSERT_TRUE(enrollment_->Accept("dev-1"));
  HttpResult auth = Call("POST", base_ + "auth", AuthBody(key_, "dev-1", 'b'));
  EXPECT_EQ(auth.status, 200) << auth.body;
}

TEST_F(DeviceRoutesTest, InventoryAndReportsNeedAValidToken) {
  std::string token = Login(key_, "dev-1");
  wire::Inventory inv{"rpi4", std::string(64, 'c'), "1.0", "0.1", 1, {}};
  std::string inv_body = core::codec::DumpJson(wire::ToJson(inv));
  EXPECT_EQ(Call("PUT", base_ + "inventory", inv_body, token).status, 204);
  EXPECT_EQ(store_->GetDevice("dev-1")->inventory.image_version, "1.0");
  EXPECT_EQ(Call("PUT", base_ + "inventory", inv_body).status, 401);
  EXPECT_EQ(Call("PUT", base_ + "inventory", inv_body, token + "x").status, 401);

  wire::Report r{"r-1", "", wire::UpdateState::kDownloading, 1, 2, "", "",
                 std::chrono::floor<std::chrono::seconds>(clock_.Now())};
  std::string batch = core::codec::DumpJson(wire::ToJson(wire::ReportBatch{{r}}));
  HttpResult first = Call("POST", base_ + "reports", batch, token);
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Call("POST", base_ + "reports", batch, token).status, 200) << "a resend is fine";
  EXPECT_EQ(store_->RecentReports("dev-1", 10)->size(), 1u) << "and stored once";
}

TEST_F(DeviceRoutesTest, RevocationTakesEffectAtTheNextRequest) {
  std::string token = Login(key_, "dev-1");
  std::string inv = core::codec::DumpJson(wire::ToJson(wire::Inventory{"rpi4", "", "", "", 0, {}}));
  EXPECT_EQ(Call("PUT", base_ + "inventory", inv, token).status, 204);
  ASSERT_TRUE(enrollment_->Decommission("dev-1"));
  EXPECT_EQ(Call("PUT", base_ + "inventory", inv, token).status, 403);
}

TEST_F(DeviceRoutesTest, ReplayedAuthenticationIsRefused) {
  ASSERT_TRUE(enrollment_->PreauthorizeKey("dev-1", "rpi4", key_.Public().ToTufJson()));
  ASSERT_EQ(Call("POST", base_ + "enroll", EnrollBody(key_, "dev-1", "")).status, 200);
  std::string auth = AuthBody(key_, "dev-1");
  EXPECT_EQ(Call("POST", base_ + "auth", auth).status, 200);
  EXPECT_EQ(Call("POST", base_ + "auth", auth).status, 401);
}

TEST_F(DeviceRoutesTest, AnotherDevicesInventoryCannotBeWritten) {
  std::string token_a = Login(key_, "dev-a");
  PrivateKey key_b = *PrivateKey::Generate(core::crypto::KeyType::kEd25519);
  std::string token_b = Login(key_b, "dev-b");
  // Device B's token writes B's inventory, whatever the body says; a hardware id that is not
  // B's is refused.
  wire::Inventory inv{"rpi3", "", "9.9", "", 0, {}};
  EXPECT_EQ(Call("PUT", base_ + "inventory", core::codec::DumpJson(wire::ToJson(inv)), token_b)
                .status,
            409);
  EXPECT_EQ(store_->GetDevice("dev-a")->inventory.image_version, "");
}

TEST_F(DeviceRoutesTest, BadInputGets4xxAndChangesNothing) {
  std::string token = Login(key_, "dev-1");
  const std::pair<std::string, std::string> bodies[] = {
      {"enroll", "{"},
      {"enroll", "[]"},
      {"enroll", R"({"deviceId": "../../etc", "hardwareId": "x", "publicKey": {}})"},
      {"enroll", R"({"deviceId": "a'; DROP TABLE devices;--", "hardwareId": "x", "publicKey": {}})"},
      {"enroll", std::string("{\"deviceId\": \"\xff\xfe\"}")},
      {"auth", R"({"deviceId": 5})"},
      {"auth", R"({"deviceId": "dev-1", "aud": "x", "issuedAt": "yesterday", "nonce": "", "signature": ""})"},
      {"reports", R"({"reports": [{"id": "r", "state": "exploded"}]})"},
      {"reports", R"({"reports": 7})"},
  };
  for (const auto& [route, body] : bodies) {
    HttpResult r = Call(route == "reports" ? "POST" : "POST", base_ + route, body, token);
    EXPECT_GE(r.status, 400) << route << " " << body << " -> " << r.body;
    EXPECT_LT(r.status, 500) << route << " " << body << " -> " << r.body;
  }
  EXPECT_EQ(store_->ListDevices({})->size(), 1u);
  EXPECT_TRUE(store_->RecentReports("dev-1", 10)->empty());
  EXPECT_EQ(Call("POST", base_ + "enroll", std::string(20000, ' ')).status, 413);
}

}  // namespace
}  // namespace aloft::server::api
