#include "cli/aloftctl/keys/ceremony.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/metadata/trusted_set.hpp"
#include "platform/posix/files.hpp"
#include "testing/repo_builder.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::keys {
namespace {

namespace md = core::metadata;
using core::crypto::KeyType;
using core::crypto::PrivateKey;

constexpr std::string_view kPassphrase = "correct horse battery";

unsigned Mode(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class CeremonyTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    snapshot_ = *PrivateKey::Generate(KeyType::kEd25519);
    timestamp_ = *PrivateKey::Generate(KeyType::kEd25519);
    online_ = OnlinePublicKeys{snapshot_.Public(), timestamp_.Public()};
  }

  InitResult Init(RoleSpec root, RoleSpec targets) {
    InitOptions options;
    options.root = root;
    options.targets = targets;
    auto result = InitRepository(RepoDir(), options, online_, kPassphrase, now_);
    EXPECT_TRUE(result) << result.error().ToString();
    return result ? *result : InitResult{};
  }
  std::filesystem::path RepoDir() const { return dir_ / "aloft-repo"; }
  repo::OfflineRepo Repo() const { return *repo::OfflineRepo::Open(RepoDir()); }

  std::vector<PrivateKey> Keys(const InitResult& init, std::string_view role) {
    std::vector<PrivateKey> out;
    for (const auto& file : init.keys) {
      if (file.role != role) continue;
      auto key = LoadKey(file.path, kPassphrase);
      EXPECT_TRUE(key) << key.error().ToString();
      if (key) out.push_back(*key);
    }
    return out;
  }

  Bytes RootBytes(std::int64_t version) { return *Repo().ReadMetadata("root", version); }

  Timestamp now_ = testing::RepoBuilder::DefaultNow();
  PrivateKey snapshot_, timestamp_;
  OnlinePublicKeys online_;
};

TEST_F(CeremonyTest, InitWritesRootV1ThatCoreTrusts) {
  const InitResult init = Init({3, 2}, {2, 1});
  ASSERT_EQ(init.keys.size(), 5u);

  auto trusted = md::TrustedSet::Create(RootBytes(1), now_);
  ASSERT_TRUE(trusted) << trusted.error().ToString();
  ASSERT_TRUE(trusted->CheckRootFresh());
  const md::RootMetadata& root = trusted->root();
  EXPECT_EQ(root.common.version, 1);
  EXPECT_TRUE(root.consistent_snapshot);
  EXPECT_EQ(root.common.expires, now_ + std::chrono::days(365));
  EXPECT_EQ(root.roles.at("root").threshold, 2);
  EXPECT_EQ(root.roles.at("root").keyids.size(), 3u);
  EXPECT_EQ(root.roles.at("targets").threshold, 1);
  EXPECT_EQ(root.roles.at("targets").keyids.size(), 2u);
  EXPECT_EQ(root.roles.at("snapshot").keyids, std::vector<std::string>{snapshot_.KeyId()});
  EXPECT_EQ(root.roles.at("timestamp").keyids, std::vector<std::string>{timestamp_.KeyId()});
  // Signed by every root key, not just a threshold.
  auto parsed = md::ParseRoot(RootBytes(1));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->signatures.size(), 3u);
}

TEST_F(CeremonyTest, KeysArePrivateAndEncrypted) {
  const InitResult init = Init({1, 1}, {1, 1});
  EXPECT_EQ(Mode(RepoDir()), 0700u);
  EXPECT_EQ(Mode(RepoDir() / "keys"), 0700u);
  for (const auto& file : init.keys) {
    EXPECT_EQ(Mode(file.path), 0600u) << file.path;
    EXPECT_EQ(file.path.filename(), KeyFileName(file.role, file.keyid));
    auto pem = platform::posix::ReadFile(file.path, 1 << 16);
    ASSERT_TRUE(pem);
    EXPECT_NE(ToString(*pem).find("ENCRYPTED PRIVATE KEY"), std::string::npos);
    auto key = LoadKey(file.path, kPassphrase);
    ASSERT_TRUE(key) << key.error().ToString();
    EXPECT_EQ(key->KeyId(), file.keyid);
  }
}

TEST_F(CeremonyTest, WrongPassphraseIsRefused) {
  const InitResult init = Init({1, 1}, {1, 1});
  auto key = LoadKey(init.keys.front().path, "not the passphrase");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), Errc::kVerificationFailed) << key.error().ToString();
  auto none = LoadKey(init.keys.front().path, "");
  EXPECT_FALSE(none);
}

TEST_F(CeremonyTest, RefusesWeakPassphraseBadThresholdsAndSecondInit) {
  InitOptions options;
  EXPECT_FALSE(InitRepository(RepoDir(), options, online_, "short", now_));
  options.root = {2, 3};
  auto bad = InitRepository(RepoDir(), options, online_, kPassphrase, now_);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  Init({1, 1}, {1, 1});
  auto again = InitRepository(RepoDir(), InitOptions{}, online_, kPassphrase, now_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
}

TEST_F(CeremonyTest, OnlineKeysDocumentIsChecked) {
  const std::string good = R"({"snapshot":{"keyid":")" + snapshot_.KeyId() + R"(","key":)" +
                           core::codec::CanonicalJson(snapshot_.Public().ToTufJson()) +
                           R"(},"timestamp":{"keyid":")" + timestamp_.KeyId() + R"(","key":)" +
                           core::codec::CanonicalJson(timestamp_.Public().ToTufJson()) +
                           R"(},"director":{}})";
  auto parsed = ParseOnlineKeysText(good);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->snapshot.SameKeyAs(snapshot_.Public()));
  // A keyid that is not the key's own: a copy-paste mix-up.
  std::string swapped = good;
  swapped.replace(swapped.find(snapshot_.KeyId()), 64, timestamp_.KeyId());
  EXPECT_FALSE(ParseOnlineKeysText(swapped));
  EXPECT_FALSE(ParseOnlineKeysText(R"({"snapshot":{}})"));
  EXPECT_FALSE(ParseOnlineKeysText("not json"));
}

TEST_F(CeremonyTest, TargetsThresholdTwoOfThree) {
  const InitResult init = Init({1, 1}, {3, 2});
  const repo::OfflineRepo repo = Repo();
  // An unsigned targets version, as release create stages it.
  md::TargetsMetadata targets;
  targets.common.type = "targets";
  targets.common.version = 1;
  targets.common.expires = now_ + std::chrono::days(30);
  ASSERT_TRUE(
      repo.WriteMetadata("targets", 1,
                         core::codec::Json::Object{{"signatures", core::codec::Json::Array{}},
                                                   {"signed", md::ToJson(targets)}}));
  const auto keys = Keys(init, "targets");
  ASSERT_EQ(keys.size(), 3u);

  auto signed1 = repo::SignStaged(repo, keys[0]);
  ASSERT_TRUE(signed1) << signed1.error().ToString();
  ASSERT_EQ(signed1->size(), 1u);
  EXPECT_EQ((*signed1)[0].role, "targets");
  EXPECT_FALSE((*signed1)[0].complete);
  auto state = repo::TargetsSigningState(repo);
  ASSERT_TRUE(state && *state);
  EXPECT_FALSE((*state)->complete);
  EXPECT_EQ((*state)->requirements.at(0).signed_by.size(), 1u);
  auto one = repo::VerifyLatestTargets(repo, now_);
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().code(), Errc::kVerificationFailed);
  // The same key twice still counts once.
  EXPECT_FALSE(repo::SignStaged(repo, keys[0]));
  EXPECT_FALSE(repo::VerifyLatestTargets(repo, now_));

  auto signed2 = repo::SignStaged(repo, keys[1]);
  ASSERT_TRUE(signed2) << signed2.error().ToString();
  EXPECT_TRUE((*signed2)[0].complete);
  EXPECT_TRUE(repo::VerifyLatestTargets(repo, now_));
  // Complete: the third holder has nothing left to sign.
  EXPECT_FALSE(repo::SignStaged(repo, keys[2]));
  // A root key may not sign targets.
  auto wrong = repo::SignStaged(repo, Keys(init, "root")[0], std::string("targets"));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("is not a targets key"), std::string::npos);
  // And the signed targets expire like any other.
  EXPECT_EQ(repo::VerifyLatestTargets(repo, now_ + std::chrono::days(31)).error().code(),
            Errc::kExpired);
}

TEST_F(CeremonyTest, RootRotationChainVerifiesWithCore) {
  const InitResult init = Init({3, 2}, {1, 1});
  const repo::OfflineRepo repo = Repo();
  const auto old_root_keys = Keys(init, "root");

  RotateOptions rotate;
  rotate.role = RotatedRole::kRoot;
  rotate.spec = RoleSpec{2, 2};
  rotate.signers = {old_root_keys[0]};  // one old holder signs right away
  auto rotated = RotateKeys(repo, rotate, kPassphrase, now_);
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  EXPECT_EQ(rotated->root_version, 2);
  EXPECT_EQ(rotated->new_keys.size(), 2u);

  // New keys signed (both, 2 of 2), but only 1 of the 2 old signatures required.
  auto state = repo::RootSigningState(repo);
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->complete);
  ASSERT_EQ(state->requirements.size(), 2u);
  EXPECT_TRUE(state->requirements[0].met());
  EXPECT_FALSE(state->requirements[1].met());
  auto chain = md::TrustedSet::Create(RootBytes(1), now_);
  ASSERT_TRUE(chain);
  EXPECT_FALSE(chain->UpdateRoot(RootBytes(2)));
  EXPECT_FALSE(repo::VerifyRootChain(repo, now_));
  // A second rotation must wait until this one is signed.
  EXPECT_FALSE(RotateKeys(repo, rotate, kPassphrase, now_));

  auto more = repo::SignStaged(repo, old_root_keys[2]);
  ASSERT_TRUE(more) << more.error().ToString();
  EXPECT_TRUE(more->at(0).complete);
  EXPECT_TRUE(repo::VerifyRootChain(repo, now_));
  auto device = md::TrustedSet::Create(RootBytes(1), now_);
  ASSERT_TRUE(device);
  ASSERT_TRUE(device->UpdateRoot(RootBytes(2)));
  EXPECT_EQ(device->root().roles.at("root").keyids.size(), 2u);
  // The old root keys are gone from the new root entirely.
  for (const auto& key : old_root_keys) EXPECT_FALSE(device->root().keys.contains(key.KeyId()));
}

TEST_F(CeremonyTest, TargetsRotationRestagesTargetsForTheNewKeys) {
  const InitResult init = Init({1, 1}, {1, 1});
  const repo::OfflineRepo repo = Repo();
  md::TargetsMetadata targets;
  targets.common.type = "targets";
  targets.common.version = 1;
  targets.common.expires = now_ + std::chrono::days(30);
  ASSERT_TRUE(repo.WriteMetadata("targets", 1,
                                 *md::SignMetadata(md::ToJson(targets), Keys(init, "targets"))));

  RotateOptions rotate;
  rotate.role = RotatedRole::kTargets;
  rotate.signers = Keys(init, "root");
  auto rotated = RotateKeys(repo, rotate, kPassphrase, now_);
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  EXPECT_EQ(rotated->restaged_targets_version, 2);
  EXPECT_TRUE(repo::VerifyRootChain(repo, now_));  // root keys unchanged: old = new signers
  EXPECT_FALSE(repo::VerifyLatestTargets(repo, now_));
  auto new_key = LoadKey(rotated->new_keys.at(0).path, kPassphrase);
  ASSERT_TRUE(new_key);
  EXPECT_FALSE(repo::SignStaged(repo, Keys(init, "targets")[0]));  // the old key is out
  ASSERT_TRUE(repo::SignStaged(repo, *new_key));
  EXPECT_TRUE(repo::VerifyLatestTargets(repo, now_));
}

TEST_F(CeremonyTest, OnlineKeyRotation) {
  const InitResult init = Init({1, 1}, {1, 1});
  const repo::OfflineRepo repo = Repo();
  PrivateKey new_timestamp = *PrivateKey::Generate(KeyType::kEd25519);
  RotateOptions rotate;
  rotate.role = RotatedRole::kOnline;
  rotate.online = OnlinePublicKeys{snapshot_.Public(), new_timestamp.Public()};
  rotate.signers = Keys(init, "root");
  auto rotated = RotateKeys(repo, rotate, "", now_);
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  EXPECT_TRUE(rotated->new_keys.empty());
  ASSERT_TRUE(repo::VerifyRootChain(repo, now_));
  auto root = repo::LoadLatestRoot(repo);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->parsed.content.roles.at("timestamp").keyids,
            std::vector<std::string>{new_timestamp.KeyId()});
  EXPECT_FALSE(root->parsed.content.keys.contains(timestamp_.KeyId()));
}

}  // namespace
}  // namespace aloft::cli::aloftctl::keys
