// TOTP seeds at rest: what reaches the database is sealed; an altered or swapped seed refuses
// the login (never a crash); plaintext seeds of older databases are sealed at start-up.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/base/hex.hpp"
#include "server/operators/audit_actions.hpp"
#include "server/operators/operator_test_fixture.hpp"
#include "server/operators/totp.hpp"
#include "server/operators/totp_seed_migration.hpp"

namespace aloft::server::operators {
namespace {

using std::chrono::seconds;

class TotpAtRestTest : public OperatorServiceTest {
 protected:
  // Turns TOTP on for `username` and returns its seed (as the authenticator app holds it).
  Bytes EnableTotp(const Principal& who) {
    auto enrollment = service_->BeginTotp(who);
    EXPECT_TRUE(enrollment) << enrollment.error().ToString();
    auto seed = TestCipher().Open(store_->GetUser(who.username)->totp_pending_secret, who.username);
    EXPECT_TRUE(seed) << seed.error().ToString();
    if (!seed) return {};
    EXPECT_EQ(Base32Encode(*seed), enrollment->secret_base32);
    EXPECT_TRUE(service_->ConfirmTotp(who, Code(*seed)));
    clock_.Advance(seconds(30));  // the confirming code is spent
    return *seed;
  }

  std::string Code(const Bytes& seed) { return *TotpCode(seed, TotpStep(clock_.Now())); }

  bool Audited(std::string_view reason) {
    auto records = AuditRecords();
    return std::any_of(records.begin(), records.end(), [&](const audit::AuditRecord& r) {
      const auto* why = r.details.Find("reason");
      return r.action == actions::kLogin && r.outcome == audit::Outcome::kFailure &&
             why != nullptr && why->IsString() && why->AsString() == reason;
    });
  }
};

bool Contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST_F(TotpAtRestTest, TheStoredSeedIsSealedNeverThePlaintext) {
  Principal root = Bootstrap();
  auto enrollment = service_->BeginTotp(root);
  ASSERT_TRUE(enrollment);
  const Bytes pending = store_->GetUser("root")->totp_pending_secret;
  EXPECT_TRUE(TotpSeedCipher::IsSealed(pending));
  const Bytes seed = *TestCipher().Open(pending, "root");
  EXPECT_EQ(seed.size(), kTotpSecretBytes);
  EXPECT_FALSE(Contains(pending, seed));
  ASSERT_TRUE(service_->ConfirmTotp(root, Code(seed)));
  const Bytes active = store_->GetUser("root")->totp_secret;
  EXPECT_TRUE(TotpSeedCipher::IsSealed(active));
  EXPECT_FALSE(Contains(active, seed));
  clock_.Advance(seconds(30));
  LoginOk("root", kPassword, Code(seed));
}

TEST_F(TotpAtRestTest, ATamperedSeedRefusesTheLoginWithAClearAuditReason) {
  Principal root = Bootstrap();
  const Bytes seed = EnableTotp(root);
  // Flip the last byte (inside the GCM tag) directly in the database.
  Bytes stored = store_->GetUser("root")->totp_secret;
  stored.back() ^= 0x01;
  RawSql("UPDATE operators SET totp_secret = X'" + HexEncode(stored) + "' WHERE username = 'root'");
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, Code(seed)), LoginOutcome::kInvalidCredentials);
  EXPECT_TRUE(Audited("totp_seed_unreadable"));
}

TEST_F(TotpAtRestTest, ASeedCopiedFromAnotherOperatorDoesNotOpen) {
  Principal root = Bootstrap();
  AddUser(root, "alice", Role::kViewer);
  Principal alice = LoginOk("alice");
  const Bytes alice_seed = EnableTotp(alice);
  const Bytes root_seed = EnableTotp(root);
  // An attacker with write access to the database copies alice's sealed seed (whose codes
  // they can make) onto root's row: it is bound to "alice" and does not open for root.
  RawSql(
      "UPDATE operators SET totp_secret = (SELECT totp_secret FROM operators WHERE"
      " username = 'alice') WHERE username = 'root'");
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, Code(alice_seed)),
            LoginOutcome::kInvalidCredentials);
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, Code(root_seed)), LoginOutcome::kInvalidCredentials);
  EXPECT_TRUE(Audited("totp_seed_unreadable"));
  LoginOk("alice", kPassword, Code(alice_seed));  // alice's own row still works
}

TEST_F(TotpAtRestTest, AnUnreadablePendingSeedAsksToEnrolAgain) {
  Principal root = Bootstrap();
  ASSERT_TRUE(service_->BeginTotp(root));
  RawSql("UPDATE operators SET totp_pending_secret = X'00' WHERE username = 'root'");
  Status confirmed = service_->ConfirmTotp(root, "123456");
  ASSERT_FALSE(confirmed);
  EXPECT_EQ(confirmed.error().code(), Errc::kNotFound);
  EXPECT_TRUE(service_->BeginTotp(root)) << "a new enrolment replaces it";
}

TEST_F(TotpAtRestTest, PlaintextSeedsOfAnOlderDatabaseAreSealedAtStartUp) {
  Principal root = Bootstrap();
  AddUser(root, "alice", Role::kViewer);
  // What an older aloftd stored: raw 20-byte seeds, one active (root), one pending (alice).
  const Bytes seed = *NewTotpSecret();
  const Bytes pending = *NewTotpSecret();
  RawSql("UPDATE operators SET totp_secret = X'" + HexEncode(seed) +
         "', totp_last_step = -1 WHERE username = 'root'");
  RawSql("UPDATE operators SET totp_pending_secret = X'" + HexEncode(pending) +
         "' WHERE username = 'alice'");
  // Until converted, a plaintext seed is not trusted.
  EXPECT_EQ(LoginOutcomeFor("root", kPassword, Code(seed)), LoginOutcome::kInvalidCredentials);

  auto converted = SealPlaintextTotpSeeds(*store_, TestCipher());
  ASSERT_TRUE(converted) << converted.error().ToString();
  EXPECT_EQ(*converted, 2);
  const Bytes stored = store_->GetUser("root")->totp_secret;
  EXPECT_TRUE(TotpSeedCipher::IsSealed(stored));
  EXPECT_FALSE(Contains(stored, seed));
  EXPECT_EQ(*TestCipher().Open(store_->GetUser("alice")->totp_pending_secret, "alice"), pending);

  clock_.Advance(seconds(30));
  LoginOk("root", kPassword, Code(seed));  // the operator's authenticator app still works
  EXPECT_EQ(*SealPlaintextTotpSeeds(*store_, TestCipher()), 0) << "idempotent";
}

TEST_F(TotpAtRestTest, ReplaceTotpSeedIsACompareAndSet) {
  Principal root = Bootstrap();
  RawSql("UPDATE operators SET totp_secret = X'0102' WHERE username = 'root'");
  EXPECT_EQ(*store_->ReplaceTotpSeed("root", false, ToBytes("xx"), ToBytes("new")), false);
  EXPECT_EQ(store_->GetUser("root")->totp_secret, (Bytes{1, 2}));
  EXPECT_EQ(*store_->ReplaceTotpSeed("root", false, Bytes{1, 2}, ToBytes("new")), true);
  EXPECT_EQ(store_->GetUser("root")->totp_secret, ToBytes("new"));
  EXPECT_EQ(store_->ReplaceTotpSeed("nobody", false, Bytes{1}, Bytes{2}).error().code(),
            Errc::kNotFound);
}

}  // namespace
}  // namespace aloft::server::operators
