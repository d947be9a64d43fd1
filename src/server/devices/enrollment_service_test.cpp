#include "server/devices/enrollment_service.hpp"

#include <gtest/gtest.h>

#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::devices {
namespace {

using core::crypto::KeyType;
using core::crypto::PrivateKey;
using core::wire::EnrollmentStatus;
using core::wire::EnrollRequest;

class EnrollmentServiceTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    pool_ = std::move(*platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 1));
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    }
    store_.emplace(*pool_);
    service_.emplace(*store_, *store_, clock_);
  }
  EnrollRequest Request(const PrivateKey& key, std::string id = "dev-1", std::string token = "") {
    return {std::move(id), "rpi4", key.Public().ToTufJson(), std::move(token)};
  }
  testing::FakeClock clock_{*aloft::ParseTimestamp("2030-01-01T00:00:00Z")};
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<store::sqlite::SqliteDeviceStore> store_;
  std::optional<EnrollmentService> service_;
  PrivateKey key_ = *PrivateKey::Generate(KeyType::kEd25519);
};

TEST_F(EnrollmentServiceTest, PreauthorizedKeyIsAcceptedAtOnce) {
  ASSERT_TRUE(service_->PreauthorizeKey("dev-1", "rpi4", key_.Public().ToTufJson()));
  auto r = service_->Enroll(Request(key_));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, EnrollmentStatus::kAccepted);
  auto wrong_id = service_->Enroll(Request(key_, "dev-9"));
  EXPECT_FALSE(wrong_id) << "the preauthorization names one device id";
}

TEST_F(EnrollmentServiceTest, TokenEnrollmentWaitsForTheOperator) {
  auto token = service_->CreateEnrollmentToken(std::chrono::hours(1), 10);
  ASSERT_TRUE(token);
  auto r = service_->Enroll(Request(key_, "dev-1", token->secret));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, EnrollmentStatus::kPending);
  ASSERT_TRUE(service_->Accept("dev-1"));
  EXPECT_EQ(service_->Enroll(Request(key_, "dev-1", token->secret))->status,
            EnrollmentStatus::kAccepted)
      << "a retry learns the current status";
}

TEST_F(EnrollmentServiceTest, NoTokenNoPreauthorizationNoEntry) {
  EXPECT_EQ(service_->Enroll(Request(key_)).error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(service_->Enroll(Request(key_, "dev-1", "aloft-et-guess")).error().code(),
            Errc::kVerificationFailed);
  auto token = service_->CreateEnrollmentToken(std::chrono::hours(1), 1);
  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(service_->Enroll(Request(key_, "dev-1", token->secret)).error().code(),
            Errc::kExpired);
}

TEST_F(EnrollmentServiceTest, ADeviceIdCannotBeTakenOverWithAnotherKey) {
  auto token = service_->CreateEnrollmentToken(std::chrono::hours(1), 10);
  ASSERT_TRUE(service_->Enroll(Request(key_, "dev-1", token->secret)));
  PrivateKey attacker = *PrivateKey::Generate(KeyType::kEd25519);
  EXPECT_EQ(service_->Enroll(Request(attacker, "dev-1", token->secret)).error().code(),
            Errc::kAlreadyExists);
}

TEST_F(EnrollmentServiceTest, MalformedKeyIsABadRequest) {
  EnrollRequest r = Request(key_);
  r.public_key["keyval"]["public"] = "not hex";
  EXPECT_EQ(service_->Enroll(r).error().code(), Errc::kInvalidArgument);
}

TEST_F(EnrollmentServiceTest, OperatorTransitions) {
  auto token = service_->CreateEnrollmentToken(std::chrono::hours(1), 10);
  ASSERT_TRUE(service_->Enroll(Request(key_, "dev-1", token->secret)));
  ASSERT_TRUE(service_->Reject("dev-1"));
  EXPECT_FALSE(service_->Reject("dev-1")) << "only pending devices are rejected";
  ASSERT_TRUE(service_->Accept("dev-1"));
  ASSERT_TRUE(service_->Decommission("dev-1"));
  EXPECT_EQ(service_->Accept("dev-1").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(service_->Accept("ghost").error().code(), Errc::kNotFound);
  StoreDeviceDirectory directory(*store_);
  EXPECT_EQ(directory.FindDevice("dev-1")->status, EnrollmentStatus::kDecommissioned);
}

}  // namespace
}  // namespace aloft::server::devices
