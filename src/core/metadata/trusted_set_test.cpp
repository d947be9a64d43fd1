// One test per verification rule of TrustedSet: each fails if its rule is removed.

#include "core/metadata/trusted_set.hpp"

#include <gtest/gtest.h>

#include "core/base/hex.hpp"
#include "testing/repo_builder.hpp"

namespace aloft::core::metadata {
namespace {

using codec::Json;
using crypto::PrivateKey;
using testing::RepoBuilder;

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Signs `signed_json` with `keys` and returns the served bytes.
Bytes SignWith(const Json& signed_json, const std::vector<PrivateKey>& keys) {
  return B(Serialize(*SignMetadata(signed_json, keys)));
}

class TrustedSetTest : public ::testing::Test {
 protected:
  TrustedSet Load() {
    auto set = TrustedSet::Create(repo.RootBytes(1), repo.now);
    EXPECT_TRUE(set) << set.error().ToString();
    return std::move(*set);
  }
  // A set with root, timestamp and snapshot trusted.
  TrustedSet LoadThroughSnapshot() {
    TrustedSet set = Load();
    EXPECT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
    EXPECT_TRUE(set.UpdateSnapshot(repo.RoleBytes(kSnapshot), false));
    return set;
  }
  const std::vector<PrivateKey>& Keys(std::string_view role) {
    return repo.signers.at(std::string(role));
  }
  RepoBuilder repo;
};

TEST_F(TrustedSetTest, LoadsSelfSignedRoot) { Load(); }

TEST_F(TrustedSetTest, RejectsRootNotSignedByItself) {
  Bytes unsigned_root = SignWith(ToJson(repo.root), {});
  auto set = TrustedSet::Create(unsigned_root, repo.now);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), Errc::kVerificationFailed);
}

TEST_F(TrustedSetTest, RejectsRootBelowThreshold) {
  repo.AddRoleKey(kRoot, repo.NewKey());
  repo.root.roles["root"].threshold = 2;
  Bytes one_sig = SignWith(ToJson(repo.root), {Keys(kRoot)[0]});
  EXPECT_FALSE(TrustedSet::Create(one_sig, repo.now));
  Bytes two_sigs = SignWith(ToJson(repo.root), Keys(kRoot));
  EXPECT_TRUE(TrustedSet::Create(two_sigs, repo.now));
}

TEST_F(TrustedSetTest, OneKeyUnderTwoIdsCountsOnce) {
  // The same public key listed under a second key ID must not meet a threshold of two.
  const PrivateKey& key = Keys(kRoot)[0];
  repo.root.keys["alias"] = ToListedKey(key.Public());
  repo.root.roles["root"].keyids.push_back("alias");
  repo.root.roles["root"].threshold = 2;
  Json envelope = *SignMetadata(ToJson(repo.root), {key});
  Json second = envelope["signatures"].AsArray()[0];
  second["keyid"] = "alias";
  envelope["signatures"].AsArray().push_back(second);
  auto set = TrustedSet::Create(B(Serialize(envelope)), repo.now);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("distinct keys"), std::string::npos);
}

TEST_F(TrustedSetTest, RejectsDuplicateSignatureKeyIds) {
  Json envelope = *SignMetadata(ToJson(repo.root), Keys(kRoot));
  envelope["signatures"].AsArray().push_back(envelope["signatures"].AsArray()[0]);
  auto set = TrustedSet::Create(B(Serialize(envelope)), repo.now);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("more than once"), std::string::npos);
}

TEST_F(TrustedSetTest, RejectsTamperedSignedContent) {
  Json envelope = *SignMetadata(ToJson(repo.root), Keys(kRoot));
  envelope["signed"]["consistent_snapshot"] = false;
  EXPECT_FALSE(TrustedSet::Create(B(Serialize(envelope)), repo.now));
}

TEST_F(TrustedSetTest, UnknownFieldsAreCoveredBySignatures) {
  Json signed_json = ToJson(repo.root);
  signed_json["x-vendor"] = Json::Object{{"zeta", 1}, {"alpha", Json::Array{"é", "\"q\""}}};
  Json envelope = *SignMetadata(signed_json, Keys(kRoot));
  EXPECT_TRUE(TrustedSet::Create(B(Serialize(envelope)), repo.now));
  // Not pretty-printed, not canonical on the wire: still the same signed content.
  EXPECT_TRUE(TrustedSet::Create(B(codec::DumpJson(envelope, true)), repo.now));
  envelope["signed"]["x-vendor"]["zeta"] = 2;
  EXPECT_FALSE(TrustedSet::Create(B(Serialize(envelope)), repo.now));
}

TEST_F(TrustedSetTest, UnsupportedKeyTypeDoesNotBreakParsing) {
  repo.root.keys["future"] = ListedKey{
      Json::Object{{"keytype", "sphincs"}, {"scheme", "sphincs"},
                   {"keyval", Json::Object{{"public", "00"}}}},
      std::nullopt};
  repo.root.roles["root"].keyids.push_back("future");
  EXPECT_TRUE(TrustedSet::Create(SignWith(ToJson(repo.root), Keys(kRoot)), repo.now));
}

TEST_F(TrustedSetTest, RootRotationNeedsOldAndNewThresholds) {
  TrustedSet set = Load();
  std::vector<PrivateKey> old_keys = Keys(kRoot);
  PrivateKey new_key = repo.NewKey();
  repo.SetRoleKeys(kRoot, {new_key});
  repo.root.common.version = 2;
  Json next = ToJson(repo.root);
  EXPECT_EQ(set.UpdateRoot(SignWith(next, {new_key})).error().code(), Errc::kVerificationFailed)
      << "signed only by the new key";
  EXPECT_EQ(set.UpdateRoot(SignWith(next, old_keys)).error().code(), Errc::kVerificationFailed)
      << "signed only by the old key";
  std::vector<PrivateKey> both = old_keys;
  both.push_back(new_key);
  ASSERT_TRUE(set.UpdateRoot(SignWith(next, both)));
  EXPECT_EQ(set.root().common.version, 2);
}

TEST_F(TrustedSetTest, RootRotationWithChangedThreshold) {
  TrustedSet set = Load();
  PrivateKey k2 = repo.NewKey(), k3 = repo.NewKey();
  std::vector<PrivateKey> old_keys = Keys(kRoot);
  repo.SetRoleKeys(kRoot, {k2, k3});
  repo.root.roles["root"].threshold = 2;
  repo.root.common.version = 2;
  std::vector<PrivateKey> old_and_one = old_keys;
  old_and_one.push_back(k2);
  EXPECT_FALSE(set.UpdateRoot(SignWith(ToJson(repo.root), old_and_one)));
  std::vector<PrivateKey> all = old_and_one;
  all.push_back(k3);
  ASSERT_TRUE(set.UpdateRoot(SignWith(ToJson(repo.root), all)));
  // Now v3 needs two of {k2, k3}.
  repo.root.common.version = 3;
  EXPECT_FALSE(set.UpdateRoot(SignWith(ToJson(repo.root), {k2})));
  EXPECT_TRUE(set.UpdateRoot(SignWith(ToJson(repo.root), {k2, k3})));
}

TEST_F(TrustedSetTest, RootVersionMustBeExactlyNext) {
  TrustedSet set = Load();
  repo.root.common.version = 3;
  EXPECT_EQ(set.UpdateRoot(SignWith(ToJson(repo.root), Keys(kRoot))).error().code(),
            Errc::kRollback);
  repo.root.common.version = 1;
  EXPECT_EQ(set.UpdateRoot(SignWith(ToJson(repo.root), Keys(kRoot))).error().code(),
            Errc::kRollback);
}

TEST_F(TrustedSetTest, ExpiredFinalRootIsRejected) {
  repo.root.common.expires = repo.now - std::chrono::seconds(1);
  repo.PublishRoot();
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateRoot(repo.RootBytes(2))) << "intermediate roots may be expired";
  EXPECT_EQ(set.CheckRootFresh().error().code(), Errc::kExpired);
}

TEST_F(TrustedSetTest, ExpiryIsInclusiveOfTheReferenceInstant) {
  repo.root.common.expires = repo.now;
  auto set = TrustedSet::Create(SignWith(ToJson(repo.root), Keys(kRoot)), repo.now);
  ASSERT_TRUE(set);
  EXPECT_FALSE(set->CheckRootFresh());
}

TEST_F(TrustedSetTest, TimestampSignatureChecked) {
  TrustedSet set = Load();
  Bytes bad = SignWith(ToJson(repo.timestamp), Keys(kSnapshot));  // wrong role's key
  EXPECT_EQ(set.UpdateTimestamp(bad).error().code(), Errc::kVerificationFailed);
}

TEST_F(TrustedSetTest, TimestampRollbackRejected) {
  TrustedSet set = Load();
  repo.BumpTimestamp();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  repo.timestamp.common.version = 1;
  EXPECT_EQ(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)).error().code(), Errc::kRollback);
}

TEST_F(TrustedSetTest, TimestampEqualVersionChangesNothing) {
  TrustedSet set = Load();
  ASSERT_TRUE(*set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  auto again = set.UpdateTimestamp(repo.RoleBytes(kTimestamp));
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(TrustedSetTest, TimestampCannotRollBackSnapshotVersion) {
  TrustedSet set = Load();
  repo.snapshot.common.version = 5;
  repo.BumpTimestamp();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  repo.timestamp.common.version += 1;
  repo.timestamp.snapshot_meta.version = 4;
  EXPECT_EQ(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)).error().code(), Errc::kRollback);
}

TEST_F(TrustedSetTest, ExpiredTimestampRejected) {
  TrustedSet set = Load();
  repo.timestamp.common.expires = repo.now - std::chrono::hours(1);
  EXPECT_EQ(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)).error().code(), Errc::kExpired);
}

TEST_F(TrustedSetTest, ExpiredRootBlocksTimestamp) {
  repo.root.common.expires = repo.now - std::chrono::hours(1);
  auto set = TrustedSet::Create(SignWith(ToJson(repo.root), Keys(kRoot)), repo.now);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->UpdateTimestamp(repo.RoleBytes(kTimestamp)).error().code(), Errc::kExpired);
}

TEST_F(TrustedSetTest, SnapshotHashAndLengthChecked) {
  repo.meta_hashes = true;
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  Bytes snap = repo.RoleBytes(kSnapshot);
  Bytes padded = snap;
  padded.push_back(' ');  // same JSON, different bytes: length check
  EXPECT_EQ(set.UpdateSnapshot(padded, false).error().code(), Errc::kVerificationFailed);
  // Same length, one signature digit changed: only the hash can tell.
  Bytes flipped = snap;
  std::string text = ToString(flipped);
  std::size_t at = text.find("\"sig\":\"") + 7;
  flipped[at] = flipped[at] == '0' ? '1' : '0';
  auto s = set.UpdateSnapshot(flipped, false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("hash mismatch"), std::string::npos);
  EXPECT_TRUE(set.UpdateSnapshot(snap, false));
}

TEST_F(TrustedSetTest, SnapshotVersionMustMatchTimestamp) {
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  repo.snapshot.common.version = 2;  // timestamp still names version 1
  auto s = set.UpdateSnapshot(repo.RoleBytes(kSnapshot), false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("does not match the timestamp"), std::string::npos);
}

TEST_F(TrustedSetTest, SnapshotSignatureChecked) {
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  Bytes bad = SignWith(ToJson(repo.snapshot), Keys(kTimestamp));
  EXPECT_EQ(set.UpdateSnapshot(bad, false).error().code(), Errc::kVerificationFailed);
}

TEST_F(TrustedSetTest, SnapshotMayNotRollBackTargets) {
  // The cached snapshot (v2) lists targets v3; the new one (v3) lists targets v2.
  repo.targets["targets"].common.version = 3;
  repo.BumpSnapshot();
  Bytes cached = repo.RoleBytes(kSnapshot);
  repo.snapshot.meta["targets.json"].version = 2;
  repo.snapshot.common.version = 3;
  repo.BumpTimestamp();
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  EXPECT_FALSE(set.UpdateSnapshot(cached, true)) << "stale, but kept as the rollback reference";
  EXPECT_EQ(set.UpdateSnapshot(repo.RoleBytes(kSnapshot), false).error().code(), Errc::kRollback);
}

TEST_F(TrustedSetTest, SnapshotMayNotDropTargets) {
  repo.BumpSnapshot();
  Bytes cached = repo.RoleBytes(kSnapshot);
  repo.snapshot.meta.erase("targets.json");
  repo.BumpSnapshot();
  repo.snapshot.meta.erase("targets.json");
  repo.BumpTimestamp();
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  EXPECT_FALSE(set.UpdateSnapshot(cached, true));
  EXPECT_EQ(set.UpdateSnapshot(repo.RoleBytes(kSnapshot), false).error().code(), Errc::kRollback);
}

TEST_F(TrustedSetTest, ExpiredSnapshotRejected) {
  TrustedSet set = Load();
  ASSERT_TRUE(set.UpdateTimestamp(repo.RoleBytes(kTimestamp)));
  repo.snapshot.common.expires = repo.now - std::chrono::seconds(1);
  EXPECT_EQ(set.UpdateSnapshot(repo.RoleBytes(kSnapshot), false).error().code(), Errc::kExpired);
}

TEST_F(TrustedSetTest, TargetsVersionMustMatchSnapshot) {
  TrustedSet set = LoadThroughSnapshot();
  repo.targets["targets"].common.version = 2;
  EXPECT_EQ(set.UpdateTargets(repo.RoleBytes(kTargets)).error().code(), Errc::kVerificationFailed);
}

TEST_F(TrustedSetTest, TargetsSignatureChecked) {
  TrustedSet set = LoadThroughSnapshot();
  Bytes bad = SignWith(ToJson(repo.targets["targets"]), Keys(kSnapshot));
  EXPECT_EQ(set.UpdateTargets(bad).error().code(), Errc::kVerificationFailed);
  EXPECT_TRUE(set.UpdateTargets(repo.RoleBytes(kTargets)));
}

TEST_F(TrustedSetTest, ExpiredTargetsRejected) {
  TrustedSet set = LoadThroughSnapshot();
  repo.targets["targets"].common.expires = repo.now - std::chrono::seconds(1);
  EXPECT_EQ(set.UpdateTargets(repo.RoleBytes(kTargets)).error().code(), Errc::kExpired);
  EXPECT_EQ(set.targets(), nullptr);
}

TEST_F(TrustedSetTest, TargetsHashCheckedWhenSnapshotListsIt) {
  repo.meta_hashes = true;
  TrustedSet set = LoadThroughSnapshot();
  Bytes targets = repo.RoleBytes(kTargets);
  targets.push_back('\n');
  EXPECT_EQ(set.UpdateTargets(targets).error().code(), Errc::kVerificationFailed);
}

TEST_F(TrustedSetTest, DelegatedRoleVerifiedWithDelegatorsKeys) {
  PrivateKey dkey = repo.NewKey();
  DelegatedRole role;
  role.name = "apps";
  role.paths = std::vector<std::string>{"apps/*"};
  repo.Delegate(kTargets, role, {dkey});
  repo.AddTarget("apps/a", ToBytes("a"), "apps");
  repo.BumpSnapshot();
  repo.BumpTimestamp();
  TrustedSet set = LoadThroughSnapshot();
  EXPECT_EQ(set.UpdateDelegatedTargets(repo.RoleBytes("apps"), "apps", kTargets).error().code(),
            Errc::kInternal)
      << "delegator not trusted yet";
  ASSERT_TRUE(set.UpdateTargets(repo.RoleBytes(kTargets)));
  Bytes wrong_key = SignWith(ToJson(repo.targets["apps"]), Keys(kTargets));
  EXPECT_EQ(set.UpdateDelegatedTargets(wrong_key, "apps", kTargets).error().code(),
            Errc::kVerificationFailed);
  EXPECT_FALSE(set.UpdateDelegatedTargets(repo.RoleBytes("apps"), "other", kTargets));
  ASSERT_TRUE(set.UpdateDelegatedTargets(repo.RoleBytes("apps"), "apps", kTargets));
  EXPECT_EQ(set.targets("apps")->targets.count("apps/a"), 1u);
}

TEST_F(TrustedSetTest, DelegatedRoleMustBeInSnapshot) {
  PrivateKey dkey = repo.NewKey();
  DelegatedRole role;
  role.name = "apps";
  role.paths = std::vector<std::string>{"*"};
  repo.Delegate(kTargets, role, {dkey});
  repo.snapshot.meta.erase("apps.json");
  repo.PublishTargetsChange();
  repo.snapshot.meta.erase("apps.json");
  TrustedSet set = LoadThroughSnapshot();
  ASSERT_TRUE(set.UpdateTargets(repo.RoleBytes(kTargets)));
  auto s = set.UpdateDelegatedTargets(repo.RoleBytes("apps"), "apps", kTargets);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("does not list"), std::string::npos);
}

}  // namespace
}  // namespace aloft::core::metadata
