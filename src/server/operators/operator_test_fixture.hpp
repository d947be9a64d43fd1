#pragma once

// An OperatorService over real SQLite stores (a fresh migrated database per test), a
// FakeClock and cheap Argon2 parameters, plus helpers to make users and log them in. Shared by
// the service tests and the management API's route tests.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/audit/sqlite/sqlite_audit_log.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/sqlite/sqlite_operator_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::operators {

class OperatorServiceTest : public aloft::testing::TempDirTest {
 protected:
  static constexpr const char* kPassword = "a long enough passphrase";
  static constexpr const char* kIp = "192.0.2.10";

  // The KEK the tests' TOTP seeds are sealed under (aloftd reads its own from a file).
  static constexpr const char* kTestKek =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  static TotpSeedCipher TestCipher(const char* kek = kTestKek) {
    auto cipher = TotpSeedCipher::Create(kek);
    EXPECT_TRUE(cipher) << cipher.error().ToString();
    return std::move(*cipher);
  }

  static OperatorOptions CheapOptions() {
    OperatorOptions o;
    o.password_hash = PasswordHashParams{1, 64, 1, 16, 32};
    return o;
  }

  void SetUp() override {
    TempDirTest::SetUp();
    auto pool = platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 3);
    ASSERT_TRUE(pool) << pool.error().ToString();
    pool_ = std::move(*pool);
    {
      auto lease = pool_->Acquire(std::chrono::seconds(1));
      ASSERT_TRUE(lease);
      auto migrated =
          platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease);
      ASSERT_TRUE(migrated) << migrated.error().ToString();
    }
    store_ = std::make_unique<sqlite::SqliteOperatorStore>(*pool_);
    audit_ = std::make_unique<audit::sqlite::SqliteAuditLog>(*pool_, clock_);
    auto service = OperatorService::Create(*store_, *audit_, clock_, TestCipher(), Options());
    ASSERT_TRUE(service) << service.error().ToString();
    service_ = std::move(*service);
  }

  virtual OperatorOptions Options() const { return CheapOptions(); }

  // Logs in through the service; fails the test unless the outcome is kOk.
  Principal LoginOk(const std::string& username, const std::string& password = kPassword,
                    std::optional<std::string> totp = std::nullopt, const char* ip = kIp) {
    std::optional<std::string_view> code;
    if (totp) code = *totp;
    auto result = service_->Login({username, password, code, ip});
    EXPECT_TRUE(result) << result.error().ToString();
    if (!result) return {};
    EXPECT_EQ(result->outcome, LoginOutcome::kOk) << username;
    last_session_secret_ = result->session_secret;
    return result->principal;
  }

  LoginOutcome LoginOutcomeFor(const std::string& username, const std::string& password,
                               std::optional<std::string> totp = std::nullopt,
                               const char* ip = kIp) {
    std::optional<std::string_view> code;
    if (totp) code = *totp;
    auto result = service_->Login({username, password, code, ip});
    EXPECT_TRUE(result) << result.error().ToString();
    return result ? result->outcome : LoginOutcome::kInvalidCredentials;
  }

  // The first admin "root", with kPassword instead of its one-time password.
  Principal Bootstrap() {
    auto otp = service_->CreateFirstAdmin("root");
    EXPECT_TRUE(otp) << otp.error().ToString();
    Principal p = LoginOk("root", otp ? *otp : "");
    EXPECT_TRUE(service_->ChangePassword(p, otp ? *otp : "", kPassword, kIp));
    return LoginOk("root");
  }

  // A user with `role` whose password is kPassword (the one-time password already changed).
  void AddUser(const Principal& admin, const std::string& username, Role role) {
    auto user = service_->CreateUser(admin, username, role);
    ASSERT_TRUE(user) << user.error().ToString();
    Principal p = LoginOk(username, user->one_time_password);
    ASSERT_TRUE(service_->ChangePassword(p, user->one_time_password, kPassword, kIp));
  }

  std::vector<audit::AuditRecord> AuditRecords() {
    auto records = audit_->List(0, 1000);
    EXPECT_TRUE(records) << records.error().ToString();
    return records ? *records : std::vector<audit::AuditRecord>{};
  }

  // Runs raw SQL on the database, as an attacker (or a test) with file access could.
  void RawSql(const std::string& sql) {
    auto lease = pool_->Acquire(std::chrono::seconds(1));
    ASSERT_TRUE(lease);
    Status s = (*lease)->Exec(sql);
    ASSERT_TRUE(s) << s.error().ToString();
  }

  aloft::testing::FakeClock clock_;
  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::unique_ptr<sqlite::SqliteOperatorStore> store_;
  std::unique_ptr<audit::sqlite::SqliteAuditLog> audit_;
  std::unique_ptr<OperatorService> service_;
  std::string last_session_secret_;
};

}  // namespace aloft::server::operators
