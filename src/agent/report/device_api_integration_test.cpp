// The agent's device-API modules against aloftd's real device routes, in-process on
// 127.0.0.1: enroll (pending) → operator accepts → authenticate → inventory → reports queued
// through a server outage and delivered exactly once, in order, by a new server instance on
// the same database; and a decommissioned device stopped at its next request.

#include <gtest/gtest.h>

#include "agent/identity/device_api_client.hpp"
#include "agent/identity/device_identity.hpp"
#include "agent/report/report_queue.hpp"
#include "platform/posix/system_clock.hpp"
#include "server/api/device_routes.hpp"
#include "server/http/server.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::report {
namespace {

namespace wire = core::wire;
namespace srv = server;
using identity::DeviceApiClient;
using identity::DeviceIdentity;
using identity::Enroller;
using identity::TokenSource;

// One aloftd instance: its own objects over a shared database file.
struct ServerStack {
  ServerStack(const std::filesystem::path& dir, const std::string& audience, std::uint8_t key_byte,
              const Clock& clock, std::uint16_t port) {
    pool = std::move(*platform::sqlite::ConnectionPool::Open(dir / "aloft.db", {}, 2));
    {
      auto lease = pool->Acquire(std::chrono::seconds(1));
      EXPECT_TRUE(
          platform::sqlite::Migrator(srv::store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    store.emplace(*pool);
    enrollment.emplace(*store, *store, clock);
    directory.emplace(*store);
    authenticator.emplace(
        *directory, clock,
        srv::auth::DeviceAuthenticator::Options{audience, std::chrono::seconds(300), 1000});
    tokens.emplace(
        *srv::auth::TokenService::Create(Bytes(32, key_byte), clock, std::chrono::minutes(15)));
    limiter.emplace(clock, srv::http::RateLimit{1000, 1000, 1000});
    deps.emplace(srv::api::DeviceApiDeps{*enrollment, *authenticator, *tokens, *store, *store,
                                         *limiter, clock});
    EXPECT_TRUE(srv::api::RegisterDeviceRoutes(router, *deps));
    srv::http::ServerConfig config;
    config.allow_plain_http = true;
    config.upload_dir = dir;
    config.port = port;
    auto started = srv::http::HttpServer::Start(config, router, clock);
    EXPECT_TRUE(started) << started.error().ToString();
    if (started) server = std::move(*started);
  }

  std::unique_ptr<platform::sqlite::ConnectionPool> pool;
  std::optional<srv::store::sqlite::SqliteDeviceStore> store;
  std::optional<srv::devices::EnrollmentService> enrollment;
  std::optional<srv::devices::StoreDeviceDirectory> directory;
  std::optional<srv::auth::DeviceAuthenticator> authenticator;
  std::optional<srv::auth::TokenService> tokens;
  std::optional<srv::http::RateLimiter> limiter;
  std::optional<srv::api::DeviceApiDeps> deps;
  srv::http::Router router;
  std::unique_ptr<srv::http::HttpServer> server;  // last: stops first
};

class DeviceApiIntegrationTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    clock_.Set(std::chrono::floor<std::chrono::seconds>(platform::posix::SystemClock().Now()));
    // Learn a free port first: the audience the server checks names it.
    {
      srv::http::Router empty;
      srv::http::ServerConfig probe;
      probe.allow_plain_http = true;
      probe.upload_dir = dir_;
      auto server = srv::http::HttpServer::Start(probe, empty, clock_);
      ASSERT_TRUE(server) << server.error().ToString();
      port_ = (*server)->port();
    }
    config_.server_url = "http://127.0.0.1:" + std::to_string(port_);
    config_.allow_insecure_loopback = true;
    config_.device_id = "dev-1";
    config_.hardware_id = "rpi4";
    config_.data_dir = dir_ / "agent";
    config_.key_file = config_.data_dir / "device.key";
    StartServer(9);

    auto id = DeviceIdentity::LoadOrCreate(config_);
    ASSERT_TRUE(id) << id.error().ToString();
    identity_.emplace(std::move(*id));
    platform::http::JsonClientOptions options;
    options.allow_insecure_loopback = true;
    options.connect_timeout = std::chrono::seconds(2);
    options.total_timeout = std::chrono::seconds(5);
    client_ = std::move(*platform::http::JsonClient::Create(options));
    tokens_.emplace(*TokenSource::Create(*client_, *identity_, config_.server_url, clock_));
    api_.emplace(*client_, *tokens_, config_.server_url);
  }

  void StartServer(std::uint8_t token_key_byte) {
    stack_ = std::make_unique<ServerStack>(dir_, config_.server_url, token_key_byte, clock_, port_);
  }
  void StopServer() { stack_.reset(); }

  // Enrolled with a preauthorized key, so accepted at once.
  void EnrollAccepted() {
    ASSERT_TRUE(stack_->enrollment->PreauthorizeKey("dev-1", "rpi4",
                                                    identity_->key().Public().ToTufJson()));
    Enroller enroller(*client_, *identity_, config_.server_url, "");
    auto status = enroller.Enroll();
    ASSERT_TRUE(status) << status.error().ToString();
    ASSERT_EQ(*status, wire::EnrollmentStatus::kAccepted);
  }

  wire::Report MakeReport(wire::UpdateState state, std::int64_t done) {
    return wire::Report{"", "dep-1", state, done, 100, "", "", clock_.Now()};
  }

  testing::FakeClock clock_;
  std::uint16_t port_ = 0;
  config::AgentConfig config_;
  std::unique_ptr<ServerStack> stack_;
  std::optional<DeviceIdentity> identity_;
  std::unique_ptr<platform::http::JsonClient> client_;
  std::optional<TokenSource> tokens_;
  std::optional<DeviceApiClient> api_;
};

TEST_F(DeviceApiIntegrationTest, EnrollAuthenticateInventoryAndReportsAcrossAnOutage) {
  // 1. Enrolment with a token: pending until the operator decides; no token meanwhile.
  auto secret = stack_->enrollment->CreateEnrollmentToken(std::chrono::hours(1), 5);
  ASSERT_TRUE(secret);
  Enroller enroller(*client_, *identity_, config_.server_url, secret->secret);
  auto pending = enroller.Enroll();
  ASSERT_TRUE(pending) << pending.error().ToString();
  EXPECT_EQ(*pending, wire::EnrollmentStatus::kPending);
  auto refused = tokens_->Token();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument) << refused.error().ToString();

  // 2. Accepted: authenticate once, then the cached token serves every call.
  ASSERT_TRUE(stack_->enrollment->Accept("dev-1"));
  EXPECT_EQ(*enroller.Enroll(), wire::EnrollmentStatus::kAccepted);
  const int before = tokens_->authentications();
  wire::Inventory inventory{"rpi4", std::string(64, 'a'), "1.0", "0.1", 1, {}};
  Status put = api_->PutInventory(inventory);
  ASSERT_TRUE(put) << put.error().ToString();
  ASSERT_TRUE(api_->PutInventory(inventory));
  EXPECT_EQ(tokens_->authentications(), before + 1);
  EXPECT_EQ(stack_->store->GetDevice("dev-1")->inventory.image_version, "1.0");

  // 3. Near expiry the token is renewed before it is used.
  clock_.Advance(std::chrono::minutes(14) + std::chrono::seconds(30));
  ASSERT_TRUE(api_->PutInventory(inventory));
  EXPECT_EQ(tokens_->authentications(), before + 2);

  // 4. Reports queued while the server is down stay queued, across an agent restart too.
  auto queue = ReportQueue::Open(config_.data_dir / "reports");
  ASSERT_TRUE(queue) << queue.error().ToString();
  std::vector<std::string> ids;
  for (auto [state, done] : {std::pair{wire::UpdateState::kDownloading, 10},
                             std::pair{wire::UpdateState::kDownloading, 60},
                             std::pair{wire::UpdateState::kInstalling, 100}}) {
    auto id = queue->Enqueue(MakeReport(state, done));
    ASSERT_TRUE(id) << id.error().ToString();
    ids.push_back(*id);
  }
  StopServer();
  auto down = queue->Flush(*api_);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), Errc::kUnavailable) << down.error().ToString();
  EXPECT_EQ(queue->size(), 3u);
  queue = ReportQueue::Open(config_.data_dir / "reports");
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 3u);

  // 5. A new server instance on the same database, with a new token key: the old token gets
  // a 401, the agent authenticates again, and every report arrives once, in order.
  StartServer(10);
  auto delivered = queue->Flush(*api_);
  ASSERT_TRUE(delivered) << delivered.error().ToString();
  EXPECT_EQ(*delivered, 3u);
  EXPECT_EQ(queue->size(), 0u);
  EXPECT_EQ(tokens_->authentications(), before + 3);
  auto stored = stack_->store->RecentReports("dev-1", 10);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_EQ((*stored)[0].id, ids[2]) << "newest first";
  EXPECT_EQ((*stored)[2].id, ids[0]);
  EXPECT_EQ(*queue->Flush(*api_), 0u);

  // 6. A resend after a lost answer is harmless.
  wire::Report again = MakeReport(wire::UpdateState::kDownloading, 10);
  again.id = ids[0];
  ASSERT_TRUE(queue->Enqueue(again));
  EXPECT_EQ(*queue->Flush(*api_), 1u);
  EXPECT_EQ(stack_->store->RecentReports("dev-1", 10)->size(), 3u);
}

TEST_F(DeviceApiIntegrationTest, DecommissionedDeviceGetsTheDistinctErrorAtItsNextRequest) {
  EnrollAccepted();
  wire::Inventory inventory{"rpi4", "", "", "", 0, {}};
  ASSERT_TRUE(api_->PutInventory(inventory));
  ASSERT_TRUE(stack_->enrollment->Decommission("dev-1"));

  Status put = api_->PutInventory(inventory);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code(), Errc::kInvalidArgument) << put.error().ToString();
  tokens_->Invalidate();
  EXPECT_EQ(tokens_->Token().error().code(), Errc::kInvalidArgument);
  Enroller enroller(*client_, *identity_, config_.server_url, "");
  auto enrolled = enroller.Enroll();
  ASSERT_FALSE(enrolled);
  EXPECT_EQ(enrolled.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(enrolled.error().message().find("decommissioned"), std::string::npos)
      << enrolled.error().message();
}

TEST_F(DeviceApiIntegrationTest, UnknownKeyIsVerificationFailedAndServerDownIsUnavailable) {
  EnrollAccepted();
  DeviceIdentity impostor("dev-1", "rpi4",
                          *core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519));
  auto tokens = TokenSource::Create(*client_, impostor, config_.server_url, clock_);
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->Token().error().code(), Errc::kVerificationFailed);
  StopServer();
  EXPECT_EQ(tokens_->Token().error().code(), Errc::kUnavailable);
}

}  // namespace
}  // namespace aloft::agent::report
