#include "server/repo/online_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::repo {
namespace {

using OnlineKeysTest = testing::TempDirTest;

constexpr std::string_view kKek = "0123456789abcdef0123456789abcdef";

TEST_F(OnlineKeysTest, CreatedOnceThenLoaded) {
  auto first = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_TRUE(first) << first.error().ToString();
  for (const char* name : {"image-snapshot", "image-timestamp", "director-root", "director-targets",
                           "director-snapshot", "director-timestamp"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "secrets" / (std::string(name) + ".pem")).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600) << name;
  }
  struct stat dir_stat {};
  ASSERT_EQ(::stat((dir_ / "secrets").c_str(), &dir_stat), 0);
  EXPECT_EQ(dir_stat.st_mode & 0777, 0700);
  auto again = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->image_timestamp.KeyId(), first->image_timestamp.KeyId());
  EXPECT_EQ(again->director_root.KeyId(), first->director_root.KeyId());
  EXPECT_NE(first->image_snapshot.KeyId(), first->image_timestamp.KeyId());
}

TEST_F(OnlineKeysTest, ExposedKeyFileIsRefusedNotReplaced) {
  ASSERT_TRUE(OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek));
  const auto path = dir_ / "secrets" / "director-root.pem";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto keys = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(keys.error().message().find("director-root"), std::string::npos);
}

TEST_F(OnlineKeysTest, KeysAreEncryptedAtRestWithTheKek) {
  auto keys = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_TRUE(keys) << keys.error().ToString();
  auto pem = platform::posix::ReadFile(dir_ / "secrets" / "image-timestamp.pem", 1 << 16);
  ASSERT_TRUE(pem);
  EXPECT_NE(ToString(*pem).find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);

  auto wrong = OnlineKeys::LoadOrCreate(dir_ / "secrets", "another-key-encryption-key-0123456789");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(wrong.error().message().find("image-snapshot"), std::string::npos);

  EXPECT_EQ(OnlineKeys::LoadOrCreate(dir_ / "secrets", "short").error().code(),
            Errc::kInvalidArgument);
}

TEST_F(OnlineKeysTest, PlainKeyFilesAreReEncrypted) {
  auto generated = core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
  ASSERT_TRUE(generated);
  ASSERT_TRUE(platform::posix::EnsurePrivateDirectory(dir_ / "secrets"));
  ASSERT_TRUE(platform::posix::SavePrivateKeyFile(dir_ / "secrets" / "director-root.pem",
                                                  *generated->ToPem()));
  auto keys = OnlineKeys::LoadOrCreate(dir_ / "secrets", kKek);
  ASSERT_TRUE(keys) << keys.error().ToString();
  EXPECT_EQ(keys->director_root.KeyId(), generated->KeyId());
  auto pem = platform::posix::ReadFile(dir_ / "secrets" / "director-root.pem", 1 << 16);
  ASSERT_TRUE(pem);
  EXPECT_NE(ToString(*pem).find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace aloft::server::repo
