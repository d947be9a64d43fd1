// OperatorService over real SQLite: accounts, login and throttling, sessions, API tokens,
// TOTP, and what each leaves in the audit trail.

#include "server/operators/operator_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "core/codec/json.hpp"
#include "server/operators/audit_actions.hpp"
#include "server/operators/operator_test_fixture.hpp"
#include "server/operators/secrets.hpp"
#include "server/operators/totp.hpp"

namespace aloft::server::operators {
namespace {

// A Result's value, or nullopt for an error, so that EXPECT_EQ can compare it.
template <class T>
std::optional<T> ValueOf(const Result<T>& r) {
  return r ? std::optional<T>(*r) : std::nullopt;
}

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

bool HasAction(const std::vector<audit::AuditRecord>& records, std::string_view action,
               audit::Outcome outcome, std::string_view reason = "") {
  return std::any_of(records.begin(), records.end(), [&](const audit::AuditRecord& r) {
    if (r.action != action || r.outcome != outcome) return false;
    if (reason.empty()) return true;
    const auto* why = r.details.Find("reason");
    return why != nullptr && why->IsString() && why->AsString() == reason;
  });
}

TEST_F(OperatorServiceTest, TheFirstAdminCanBeCreatedOnlyOnce) {
  auto otp = service_->CreateFirstAdmin("root");
  ASSERT_TRUE(otp) << otp.error().ToString();
  auto again = service_->CreateFirstAdmin("other");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
  auto users = service_->ListUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].role, Role::kAdmin);
  EXPECT_TRUE((*users)[0].must_change_password);
  auto records = AuditRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].actor, "system");
  EXPECT_EQ(records[0].action, actions::kUserCreate);
  EXPECT_EQ(records[0].target, "root");
  EXPECT_EQ(records[0].details,
            core::codec::Json(core::codec::Json::Object{{"first_admin", true}, {"role", "admin"}}));
}

TEST_F(OperatorServiceTest, ANewUserLogsInWithTheOneTimePasswordAndMustChangeIt) {
  Principal root = Bootstrap();
  auto user = service_->CreateUser(root, "alice", Role::kOperator);
  ASSERT_TRUE(user);
  Principal alice = LoginOk("alice", user->one_time_password);
  EXPECT_TRUE(alice.must_change_password);
  ASSERT_TRUE(service_->ChangePassword(alice, user->one_time_password, kPassword, kIp));
  EXPECT_EQ(LoginOutcomeFor("alice", user->one_time_password), LoginOutcome::kInvalidCredentials);
  EXPECT_FALSE(LoginOk("alice").must_change_password);
}

TEST_F(OperatorServiceTest, UsernamesAreCheckedAndUnique) {
  Principal root = Bootstrap();
  for (const char* bad : {"", "Alice", "self", "-alice", "a b", "robert'); DROP TABLE operators;--",
                          "ali\xc3\xa7"
                          "e"}) {
    auto user = service_->CreateUser(root, bad, Role::kViewer);
    ASSERT_FALSE(user) << bad;
    EXPECT_EQ(user.error().code(), Errc::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(service_->CreateUser(root, std::string(65, 'a'), Role::kViewer));
  ASSERT_TRUE(service_->CreateUser(root, std::string(64, 'a'), Role::kViewer));
  auto dup = service_->CreateUser(root, "root", Role::kViewer);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(service_->ListUsers()->size(), 2u);
}

TEST_F(OperatorServiceTest, UnknownUsersAndWrongPasswordsGetTheSameAnswer) {
  Principal root = Bootstrap();
  EXPECT_EQ(LoginOutcomeFor("nobody", kPassword), LoginOutcome::kInvalidCredentials);
  EXPECT_EQ(LoginOutcomeFor("root", "not the passphrase"), LoginOutcome::kInvalidCredentials);
  EXPECT_EQ(LoginOutcomeFor("x'; DROP TABLE operators;--", kPassword),
            LoginOutcome::kInvalidCredentials);
  // Auditors may see the difference; callers may not.
  auto records = AuditRecords();
  EXPECT_TRUE(HasAction(records, actions::kLogin, audit::Outcome::kFailure, "unknown_user"));
  EXPECT_TRUE(HasAction(records, actions::kLogin, audit::Outcome::kFailure, "wrong_password"));
  EXPECT_EQ(service_->ListUsers()->size(), 1u);
}

TEST_F(OperatorServiceTest, RepeatedFailuresForOneUsernameAreThrottled) {
  Principal root = Bootstrap();
  AddUser(root, "bob", Role::kViewer);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(LoginOutcomeFor("root", "wrong password!"), LoginOutcome::kInvalidCredentials) << i;
  }
  auto throttled = service_->Login({"root", kPassword, std::nullopt, kIp});
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->outcome, LoginOutcome::kThrottled) << "even the right password waits";
  EXPECT_EQ(throttled->retry_after, seconds(60));
  EXPECT_TRUE(HasAction(AuditRecords(), actions::kLogin, audit::Outcome::kDenied, "throttled"));
  LoginOk("bob");  // another account from the same address is not affected
  clock_.Advance(seconds(60));
  LoginOk("root");  // one attempt is allowed again, and a success clears the count
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(LoginOutcomeFor("root", "wrong password!"), LoginOutcome::kInvalidCredentials) << i;
  }
  LoginOk("root");
}

TEST_F(OperatorServiceTest, RepeatedFailuresFromOneAddressAreThrottled) {
  Principal root = Bootstrap();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(LoginOutcomeFor("user" + std::to_string(i), kPassword, std::nullopt, "198.51.100.7"),
              LoginOutcome::kInvalidCredentials);
  }
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, std::nullopt, "198.51.100.7"),
            LoginOutcome::kThrottled);
  LoginOk("root", kPassword, std::nullopt, "198.51.100.8");
}

TEST_F(OperatorServiceTest, SessionsExpireWhenIdle) {
  Bootstrap();
  LoginOk("root");
  std::string secret = last_session_secret_;
  for (int i = 0; i < 4; ++i) {  // two hours of activity every 29 minutes
    clock_.Advance(minutes(29));
    auto p = service_->AuthenticateSession(secret);
    ASSERT_TRUE(p) << i << ": " << p.error().ToString();
    EXPECT_EQ(p->username, "root");
    EXPECT_EQ(p->expires, clock_.Now() + minutes(30));
  }
  clock_.Advance(minutes(30));
  auto expired = service_->AuthenticateSession(secret);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), Errc::kExpired);
  auto gone = service_->AuthenticateSession(secret);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), Errc::kVerificationFailed) << "the expired session was deleted";
}

TEST_F(OperatorServiceTest, SessionsEndAfterTwelveHoursHoweverActive) {
  Bootstrap();
  LoginOk("root");
  std::string secret = last_session_secret_;
  Timestamp start = clock_.Now();
  while (clock_.Now() - start < hours(12) - minutes(20)) {
    clock_.Advance(minutes(20));
    ASSERT_TRUE(service_->AuthenticateSession(secret));
  }
  clock_.Set(start + hours(12));
  auto expired = service_->AuthenticateSession(secret);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), Errc::kExpired);
}

TEST_F(OperatorServiceTest, OnlyTheHashOfASessionSecretIsStored) {
  Bootstrap();
  Principal p = LoginOk("root");
  std::string secret = last_session_secret_;
  EXPECT_TRUE(LooksLikeSecret(secret));
  EXPECT_EQ(p.session_hash, SecretHash(secret));
  auto row = store_->GetSession(SecretHash(secret));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->csrf_token, p.csrf_token);
  EXPECT_FALSE(store_->GetSession(secret)) << "the secret itself is not a key";
  EXPECT_NE(p.csrf_token, secret);
  for (const char* bad : {"", "short", "not base64url!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"}) {
    auto r = service_->AuthenticateSession(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::kVerificationFailed);
  }
}

TEST_F(OperatorServiceTest, LogoutEndsTheSession) {
  Bootstrap();
  Principal p = LoginOk("root");
  std::string secret = last_session_secret_;
  ASSERT_TRUE(service_->Logout(p));
  EXPECT_FALSE(service_->AuthenticateSession(secret));
  EXPECT_TRUE(HasAction(AuditRecords(), actions::kLogout, audit::Outcome::kSuccess));
}

TEST_F(OperatorServiceTest, TokensNeverExceedTheirCreatorsRole) {
  Principal root = Bootstrap();
  AddUser(root, "rm", Role::kReleaseManager);
  AddUser(root, "aud", Role::kAuditor);
  Principal rm = LoginOk("rm");
  Principal aud = LoginOk("aud");

  auto own = service_->CreateToken(rm, "ci", std::nullopt, 30);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->info.role, Role::kReleaseManager) << "defaults to the caller's role";
  auto smaller = service_->CreateToken(rm, "read-only", Role::kViewer, 30);
  ASSERT_TRUE(smaller);
  for (Role r : {Role::kAdmin, Role::kOperator, Role::kAuditor}) {
    auto bigger = service_->CreateToken(rm, "nope", r, 30);
    ASSERT_FALSE(bigger) << RoleName(r);
    EXPECT_EQ(bigger.error().code(), Errc::kVerificationFailed);
  }
  EXPECT_FALSE(service_->CreateToken(aud, "nope", Role::kViewer, 30));
  EXPECT_TRUE(service_->CreateToken(root, "any", Role::kAuditor, 30));

  // A viewer token cannot mint a release-manager token for its release-manager owner.
  auto viewer = service_->AuthenticateToken(smaller->secret);
  ASSERT_TRUE(viewer);
  EXPECT_EQ(viewer->role, Role::kViewer);
  EXPECT_FALSE(viewer->Can(Permission::kReleasesManage));
  EXPECT_FALSE(service_->CreateToken(*viewer, "escalate", Role::kReleaseManager, 30));
}

TEST_F(OperatorServiceTest, TokenInputIsChecked) {
  Principal root = Bootstrap();
  for (std::int64_t days : {0, -1, 367}) {
    auto t = service_->CreateToken(root, "t", std::nullopt, days);
    ASSERT_FALSE(t) << days;
    EXPECT_EQ(t.error().code(), Errc::kInvalidArgument);
  }
  for (const std::string& name : {std::string(), std::string(65, 'n'), std::string("a\nb")}) {
    EXPECT_FALSE(service_->CreateToken(root, name, std::nullopt, 1));
  }
  EXPECT_TRUE(service_->ListTokens(root)->empty());
}

TEST_F(OperatorServiceTest, TokensExpireAndRecordUseAtMostOnceAMinute) {
  Principal root = Bootstrap();
  auto token = service_->CreateToken(root, "ci", std::nullopt, 1);
  ASSERT_TRUE(token);
  EXPECT_TRUE(token->secret.starts_with("alo_"));
  EXPECT_EQ(token->secret.size(), 4u + 43u);
  EXPECT_EQ(store_->GetToken(token->info.id)->secret_hash, SecretHash(token->secret));
  EXPECT_FALSE(store_->GetToken(token->info.id)->last_used_at);

  Timestamp first = clock_.Now();
  ASSERT_TRUE(service_->AuthenticateToken(token->secret));
  EXPECT_EQ(store_->GetToken(token->info.id)->last_used_at, first);
  clock_.Advance(seconds(59));
  ASSERT_TRUE(service_->AuthenticateToken(token->secret));
  EXPECT_EQ(store_->GetToken(token->info.id)->last_used_at, first) << "not rewritten within 60 s";
  clock_.Advance(seconds(2));
  ASSERT_TRUE(service_->AuthenticateToken(token->secret));
  EXPECT_EQ(store_->GetToken(token->info.id)->last_used_at, clock_.Now());

  clock_.Set(first + hours(24));
  auto expired = service_->AuthenticateToken(token->secret);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), Errc::kExpired);
  EXPECT_EQ(expired.error().message().find(token->secret), std::string::npos);
  for (const std::string& bad : {std::string("alo_"), std::string("Bearer x"),
                                 "alo_" + std::string(43, 'A'), token->secret.substr(4)}) {
    auto r = service_->AuthenticateToken(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Errc::kVerificationFailed);
  }
}

TEST_F(OperatorServiceTest, OnlyOwnersAndAdminsSeeAndRevokeTokens) {
  Principal root = Bootstrap();
  AddUser(root, "op", Role::kOperator);
  AddUser(root, "viewer", Role::kViewer);
  Principal op = LoginOk("op");
  Principal viewer = LoginOk("viewer");
  auto op_token = service_->CreateToken(op, "op's", std::nullopt, 7);
  auto viewer_token = service_->CreateToken(viewer, "viewer's", std::nullopt, 7);
  ASSERT_TRUE(op_token && viewer_token);

  EXPECT_EQ(service_->ListTokens(op)->size(), 1u);
  EXPECT_EQ(service_->ListTokens(root)->size(), 2u);
  auto denied = service_->RevokeToken(viewer, op_token->info.id);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), Errc::kNotFound) << "someone else's token looks absent";
  EXPECT_TRUE(service_->AuthenticateToken(op_token->secret));
  ASSERT_TRUE(service_->RevokeToken(op, op_token->info.id));
  EXPECT_FALSE(service_->AuthenticateToken(op_token->secret));
  ASSERT_TRUE(service_->RevokeToken(root, viewer_token->info.id));
  EXPECT_FALSE(service_->AuthenticateToken(viewer_token->secret));
  EXPECT_TRUE(HasAction(AuditRecords(), actions::kTokenRevoke, audit::Outcome::kSuccess));
}

TEST_F(OperatorServiceTest, ATooLargeTokenCountIsRefused) {
  Principal root = Bootstrap();
  for (int i = 0; i < CheapOptions().max_tokens_per_user; ++i) {
    ASSERT_TRUE(service_->CreateToken(root, "t" + std::to_string(i), std::nullopt, 1));
  }
  auto over = service_->CreateToken(root, "one too many", std::nullopt, 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Errc::kTooLarge);
}

TEST_F(OperatorServiceTest, ADemotedOwnersTokensLoseTheLostPermissions) {
  Principal root = Bootstrap();
  AddUser(root, "ann", Role::kAdmin);
  auto token = service_->CreateToken(LoginOk("ann"), "admin work", std::nullopt, 7);
  ASSERT_TRUE(token);
  EXPECT_TRUE(service_->AuthenticateToken(token->secret)->Can(Permission::kUsersManage));
  ASSERT_TRUE(service_->SetRole(root, "ann", Role::kViewer));
  auto p = service_->AuthenticateToken(token->secret);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, Role::kAdmin);
  EXPECT_FALSE(p->Can(Permission::kUsersManage));
  EXPECT_FALSE(p->Can(Permission::kAuditRead));
  EXPECT_TRUE(p->Can(Permission::kDevicesRead));
}

TEST_F(OperatorServiceTest, TheLastAdminKeepsTheRole) {
  Principal root = Bootstrap();
  auto last = service_->SetRole(root, "root", Role::kViewer);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code(), Errc::kInvalidArgument);
  AddUser(root, "ann", Role::kAdmin);
  auto changed = service_->SetRole(root, "root", Role::kViewer);
  ASSERT_TRUE(changed) << changed.error().ToString();
  EXPECT_EQ(changed->role, Role::kViewer);
  EXPECT_FALSE(service_->SetRole(root, "ann", Role::kViewer)) << "ann is now the last admin";
  EXPECT_EQ(service_->SetRole(root, "ghost", Role::kViewer).error().code(), Errc::kNotFound);
  auto records = AuditRecords();
  auto change = std::find_if(records.begin(), records.end(), [](const audit::AuditRecord& r) {
    return r.action == actions::kRoleChange;
  });
  ASSERT_NE(change, records.end());
  EXPECT_EQ(change->target, "root");
  EXPECT_EQ(change->details,
            core::codec::Json(core::codec::Json::Object{{"from", "admin"}, {"to", "viewer"}}));
}

TEST_F(OperatorServiceTest, ChangingThePasswordNeedsTheCurrentOneAndEndsOtherSessions) {
  Principal root = Bootstrap();
  LoginOk("root");
  std::string other_session = last_session_secret_;
  Principal current = LoginOk("root");
  std::string current_session = last_session_secret_;

  auto wrong =
      service_->ChangePassword(current, "not the passphrase", "another long passphrase", kIp);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Errc::kVerificationFailed);
  auto weak = service_->ChangePassword(current, kPassword, "short", kIp);
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(service_->ChangePassword(current, kPassword, kPassword, kIp)) << "must differ";

  ASSERT_TRUE(service_->ChangePassword(current, kPassword, "another long passphrase", kIp));
  EXPECT_TRUE(service_->AuthenticateSession(current_session));
  EXPECT_FALSE(service_->AuthenticateSession(other_session));
  EXPECT_EQ(LoginOutcomeFor("root", kPassword), LoginOutcome::kInvalidCredentials);
  LoginOk("root", "another long passphrase");
  auto records = AuditRecords();
  EXPECT_TRUE(HasAction(records, actions::kPasswordChange, audit::Outcome::kFailure,
                        "wrong_current_password"));
  EXPECT_TRUE(HasAction(records, actions::kPasswordChange, audit::Outcome::kSuccess));
}

TEST_F(OperatorServiceTest, TotpEnrolmentThenEveryLoginNeedsAFreshCode) {
  Principal root = Bootstrap();
  auto enrollment = service_->BeginTotp(root);
  ASSERT_TRUE(enrollment) << enrollment.error().ToString();
  EXPECT_TRUE(enrollment->otpauth_uri.starts_with("otpauth://totp/Aloft:root?secret="));
  // Stored sealed (totp_at_rest_test.cpp has the details); the test opens it like aloftd.
  auto opened = TestCipher().Open(store_->GetUser("root")->totp_pending_secret, "root");
  ASSERT_TRUE(opened) << opened.error().ToString();
  Bytes secret = *opened;
  ASSERT_EQ(Base32Encode(secret), enrollment->secret_base32);

  auto step = [&] { return TotpStep(clock_.Now()); };
  EXPECT_EQ(service_->ConfirmTotp(root, "000000").error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(LoginOutcomeFor("root", kPassword), LoginOutcome::kOk) << "not on until confirmed";
  ASSERT_TRUE(service_->ConfirmTotp(root, *TotpCode(secret, step())));
  EXPECT_EQ(service_->BeginTotp(root).error().code(), Errc::kAlreadyExists);
  EXPECT_TRUE((*service_->ListUsers())[0].totp_enabled);

  EXPECT_EQ(LoginOutcomeFor("root", kPassword), LoginOutcome::kTotpRequired);
  EXPECT_EQ(LoginOutcomeFor("root", "wrong password!", std::string("123456")),
            LoginOutcome::kInvalidCredentials);
  // The code used to confirm enrolment is spent.
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, *TotpCode(secret, step())),
            LoginOutcome::kInvalidCredentials);
  clock_.Advance(seconds(30));
  std::string code = *TotpCode(secret, step());
  LoginOk("root", kPassword, code);
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, code), LoginOutcome::kInvalidCredentials)
      << "a replayed code is refused";
  clock_.Advance(seconds(30));
  LoginOk("root", kPassword, *TotpCode(secret, step() + 1));  // a phone 30 s ahead
  auto records = AuditRecords();
  EXPECT_TRUE(HasAction(records, actions::kTotpEnable, audit::Outcome::kSuccess));
  EXPECT_TRUE(HasAction(records, actions::kTotpEnable, audit::Outcome::kFailure, "wrong_code"));
  EXPECT_TRUE(HasAction(records, actions::kLogin, audit::Outcome::kFailure, "replayed_totp"));
}

TEST_F(OperatorServiceTest, AStrongerHashCostIsAppliedAtTheNextLogin) {
  Bootstrap();
  std::string before = store_->GetUser("root")->password_hash;
  OperatorOptions stronger = CheapOptions();
  stronger.password_hash.time_cost = 2;
  auto upgraded = OperatorService::Create(*store_, *audit_, clock_, TestCipher(), stronger);
  ASSERT_TRUE(upgraded);
  auto login = (*upgraded)->Login({"root", kPassword, std::nullopt, kIp});
  ASSERT_TRUE(login);
  EXPECT_EQ(login->outcome, LoginOutcome::kOk);
  std::string after = store_->GetUser("root")->password_hash;
  EXPECT_NE(after, before);
  EXPECT_FALSE(NeedsRehash(after, stronger.password_hash));
  EXPECT_EQ(ValueOf(VerifyPassword(kPassword, after)), true);
}

TEST_F(OperatorServiceTest, TheAuditTrailRecordsEverythingAndNoSecret) {
  Principal root = Bootstrap();
  auto user = service_->CreateUser(root, "alice", Role::kViewer);
  ASSERT_TRUE(user);
  auto token = service_->CreateToken(root, "ci", std::nullopt, 1);
  ASSERT_TRUE(token);
  EXPECT_EQ(LoginOutcomeFor("root", "a wrong passphrase"), LoginOutcome::kInvalidCredentials);
  Principal p = LoginOk("root");
  ASSERT_TRUE(service_->Logout(p));

  std::vector<std::string> secrets = {
      kPassword,     "a wrong passphrase",    user->one_time_password,
      token->secret, token->secret.substr(4), last_session_secret_,
      p.csrf_token};
  auto records = AuditRecords();
  for (const auto& r : records) {
    std::string line = core::codec::DumpJson(audit::ToJson(r));
    for (const std::string& secret : secrets) {
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
    }
  }
  for (auto action : {actions::kUserCreate, actions::kPasswordChange, actions::kTokenCreate,
                      actions::kLogin, actions::kLogout}) {
    EXPECT_TRUE(HasAction(records, action, audit::Outcome::kSuccess)) << action;
  }
  auto verified = audit_->Verify();
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_F(OperatorServiceTest, AChangeWhoseAuditRecordCannotBeWrittenFails) {
  Principal root = Bootstrap();
  RawSql("DROP TRIGGER audit_head_no_delete; DELETE FROM audit_head;");
  auto user = service_->CreateUser(root, "alice", Role::kViewer);
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code(), Errc::kCorrupt);
  auto login = service_->Login({"root", kPassword, std::nullopt, kIp});
  EXPECT_FALSE(login) << "a login that cannot be audited is refused";
  auto token = service_->CreateToken(root, "ci", std::nullopt, 1);
  ASSERT_FALSE(token);
  EXPECT_TRUE(store_->ListTokens(std::nullopt)->empty()) << "the unaudited token was removed";
}

// Real Argon2 cost, so the time of one verification dominates a login.
class OperatorTimingTest : public OperatorServiceTest {
 protected:
  OperatorOptions Options() const override {
    OperatorOptions o;
    o.password_hash = PasswordHashParams{2, 8 * 1024, 1, 16, 32};
    return o;
  }
};

TEST_F(OperatorTimingTest, AnUnknownUserCostsAsMuchAsAWrongPassword) {
  ASSERT_TRUE(service_->CreateFirstAdmin("root"));
  auto fastest = [&](const std::string& username) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(LoginOutcomeFor(username, "not the passphrase"), LoginOutcome::kInvalidCredentials);
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return std::chrono::duration<double>(best).count();
  };
  double wrong_password = fastest("root");
  double unknown_user = fastest("nobody");
  EXPECT_GT(unknown_user, wrong_password * 0.5)
      << "unknown " << unknown_user << " s vs wrong password " << wrong_password << " s";
}

}  // namespace
}  // namespace aloft::server::operators
