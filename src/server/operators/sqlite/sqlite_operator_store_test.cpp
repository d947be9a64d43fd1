#include "server/operators/sqlite/sqlite_operator_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "platform/sqlite/migrator.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::operators::sqlite {
namespace {

// A Result's value, or nullopt for an error, so that EXPECT_EQ can compare it.
template <class T>
std::optional<T> ValueOf(const Result<T>& r) {
  return r ? std::optional<T>(*r) : std::nullopt;
}

using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kT0{std::chrono::seconds(1704067200)};  // 2024-01-01T00:00:00Z

class SqliteOperatorStoreTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    pool_ = std::move(*platform::sqlite::ConnectionPool::Open(dir_ / "aloft.db", {}, 4));
    auto lease = pool_->Acquire(seconds(1));
    ASSERT_TRUE(platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease));
    store_.emplace(*pool_);
  }

  static UserRow User(std::string name, Role role = Role::kViewer) {
    UserRow u;
    u.username = std::move(name);
    u.role = role;
    u.password_hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
    u.created_at = u.updated_at = kT0;
    return u;
  }

  static ApiTokenRow Token(std::string id, std::string owner, Timestamp created = kT0) {
    return ApiTokenRow{id,
                       "name of " + id,
                       std::move(owner),
                       Role::kViewer,
                       "hash-" + id,
                       created,
                       created + std::chrono::days(1),
                       std::nullopt};
  }

  std::unique_ptr<platform::sqlite::ConnectionPool> pool_;
  std::optional<SqliteOperatorStore> store_;
};

TEST_F(SqliteOperatorStoreTest, UsersRoundTripWithAnyCharacters) {
  // The store binds everything, so even names the service would refuse are stored verbatim.
  UserRow u = User("a'; DROP TABLE operators;--", Role::kReleaseManager);
  u.must_change_password = true;
  u.totp_pending_secret = Bytes{0, 1, 2, 255};
  ASSERT_TRUE(store_->InsertUser(u));
  auto back = store_->GetUser(u.username);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->username, u.username);
  EXPECT_EQ(back->role, Role::kReleaseManager);
  EXPECT_TRUE(back->must_change_password);
  EXPECT_TRUE(back->totp_secret.empty());
  EXPECT_EQ(back->totp_pending_secret, u.totp_pending_secret);
  EXPECT_EQ(back->totp_last_step, -1);
  EXPECT_EQ(back->created_at, kT0);
  EXPECT_EQ(store_->InsertUser(u).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(store_->GetUser("nobody").error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->ListUsers()->size(), 1u);
}

TEST_F(SqliteOperatorStoreTest, OnlyOneFirstUserWinsARace) {
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      if (store_->InsertFirstUser(User("admin" + std::to_string(i), Role::kAdmin))) ++won;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(store_->ListUsers()->size(), 1u);
}

TEST_F(SqliteOperatorStoreTest, TotpStepsOnlyMoveForward) {
  ASSERT_TRUE(store_->InsertUser(User("alice")));
  EXPECT_EQ(store_->EnableTotp("alice", 5, kT0).error().code(), Errc::kNotFound)
      << "nothing pending";
  ASSERT_TRUE(store_->SetPendingTotp("alice", Bytes(20, 7), kT0));
  ASSERT_TRUE(store_->EnableTotp("alice", 5, kT0));
  auto u = store_->GetUser("alice");
  EXPECT_EQ(u->totp_secret, Bytes(20, 7));
  EXPECT_TRUE(u->totp_pending_secret.empty());
  EXPECT_EQ(u->totp_last_step, 5);
  EXPECT_EQ(ValueOf(store_->UseTotpStep("alice", 5)), false);
  EXPECT_EQ(ValueOf(store_->UseTotpStep("alice", 4)), false);
  EXPECT_EQ(ValueOf(store_->UseTotpStep("alice", 6)), true);
  EXPECT_EQ(ValueOf(store_->UseTotpStep("alice", 6)), false);
}

TEST_F(SqliteOperatorStoreTest, RoleChangesKeepAnAdmin) {
  ASSERT_TRUE(store_->InsertUser(User("root", Role::kAdmin)));
  ASSERT_TRUE(store_->InsertUser(User("bob")));
  EXPECT_EQ(store_->SetRole("root", Role::kAuditor, kT0).error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(store_->SetRole("bob", Role::kAdmin, kT0));
  ASSERT_TRUE(store_->SetRole("root", Role::kAuditor, kT0));
  EXPECT_EQ(*store_->CountUsersWithRole(Role::kAdmin), 1);
  EXPECT_EQ(store_->SetRole("ghost", Role::kAdmin, kT0).error().code(), Errc::kNotFound);
}

TEST_F(SqliteOperatorStoreTest, SessionsAreSweptAndDeletedPerUser) {
  ASSERT_TRUE(store_->InsertUser(User("alice")));
  ASSERT_TRUE(store_->InsertUser(User("bob")));
  // fresh, idle since T0, absolute expiry reached, bob's
  ASSERT_TRUE(
      store_->InsertSession({"h1", "alice", "c1", kT0, kT0 + minutes(50), kT0 + minutes(600)}));
  ASSERT_TRUE(store_->InsertSession({"h2", "alice", "c2", kT0, kT0, kT0 + minutes(600)}));
  ASSERT_TRUE(
      store_->InsertSession({"h3", "alice", "c3", kT0, kT0 + minutes(59), kT0 + minutes(60)}));
  ASSERT_TRUE(
      store_->InsertSession({"h4", "bob", "c4", kT0, kT0 + minutes(50), kT0 + minutes(600)}));
  Timestamp now = kT0 + minutes(60);
  ASSERT_TRUE(store_->DeleteExpiredSessions(now, now - minutes(30)));
  EXPECT_TRUE(store_->GetSession("h1"));
  EXPECT_FALSE(store_->GetSession("h2"));
  EXPECT_FALSE(store_->GetSession("h3"));
  ASSERT_TRUE(store_->TouchSession("h1", now));
  EXPECT_EQ(store_->GetSession("h1")->last_seen_at, now);
  ASSERT_TRUE(store_->InsertSession({"h5", "alice", "c5", kT0, now, kT0 + minutes(600)}));
  ASSERT_TRUE(store_->DeleteSessionsOf("alice", "h5"));
  EXPECT_FALSE(store_->GetSession("h1"));
  EXPECT_TRUE(store_->GetSession("h5"));
  EXPECT_TRUE(store_->GetSession("h4")) << "bob's session stays";
}

TEST_F(SqliteOperatorStoreTest, TokensListPerOwnerAndTouchAtMostOnceAMinute) {
  ASSERT_TRUE(store_->InsertUser(User("alice")));
  ASSERT_TRUE(store_->InsertUser(User("bob")));
  ASSERT_TRUE(store_->InsertToken(Token("tok_1", "alice")));
  ASSERT_TRUE(store_->InsertToken(Token("tok_2", "bob", kT0 + seconds(1))));
  ASSERT_TRUE(store_->InsertToken(Token("tok_3", "alice", kT0 + seconds(2))));
  EXPECT_EQ(store_->InsertToken(Token("tok_1", "bob")).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(store_->ListTokens(std::nullopt)->size(), 3u);
  auto alices = store_->ListTokens(std::string_view("alice"));
  ASSERT_EQ(alices->size(), 2u);
  EXPECT_EQ((*alices)[0].id, "tok_1");
  EXPECT_EQ((*alices)[1].id, "tok_3");
  EXPECT_EQ(*store_->CountTokensOf("alice"), 2);
  EXPECT_TRUE(store_->ListTokens(std::string_view("' OR 1=1 --"))->empty());
  EXPECT_EQ(store_->FindTokenBySecretHash("hash-tok_2")->id, "tok_2");

  ASSERT_TRUE(store_->TouchToken("tok_1", kT0, kT0 - minutes(1)));
  ASSERT_TRUE(store_->TouchToken("tok_1", kT0 + seconds(30), kT0 - seconds(30)));
  EXPECT_EQ(store_->GetToken("tok_1")->last_used_at, kT0);
  ASSERT_TRUE(store_->TouchToken("tok_1", kT0 + seconds(61), kT0 + seconds(1)));
  EXPECT_EQ(store_->GetToken("tok_1")->last_used_at, kT0 + seconds(61));

  ASSERT_TRUE(store_->DeleteToken("tok_1"));
  EXPECT_EQ(store_->DeleteToken("tok_1").error().code(), Errc::kNotFound);
  EXPECT_EQ(store_->GetToken("tok_1").error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace aloft::server::operators::sqlite
