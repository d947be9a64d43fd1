#include "server/repo/online_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::repo {
namespace {

using OnlineKeysTest = testing::TempDirTest;

TEST_F(OnlineKeysTest, CreatedOnceThenLoaded) {
  auto first = OnlineKeys::LoadOrCreate(dir_ / "secrets");
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
  auto again = OnlineKeys::LoadOrCreate(dir_ / "secrets");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->image_timestamp.KeyId(), first->image_timestamp.KeyId());
  EXPECT_EQ(again->director_root.KeyId(), first->director_root.KeyId());
  EXPECT_NE(first->image_snapshot.KeyId(), first->image_timestamp.KeyId());
}

TEST_F(OnlineKeysTest, ExposedKeyFileIsRefusedNotReplaced) {
  ASSERT_TRUE(OnlineKeys::LoadOrCreate(dir_ / "secrets"));
  const auto path = dir_ / "secrets" / "director-root.pem";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto keys = OnlineKeys::LoadOrCreate(dir_ / "secrets");
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(keys.error().message().find("director-root"), std::string::npos);
}

}  // namespace
}  // namespace aloft::server::repo
