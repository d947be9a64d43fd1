#include "cli/aloftctl/repo/offline_repo.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::repo {
namespace {

using OfflineRepoTest = testing::TempDirTest;

TEST_F(OfflineRepoTest, LayoutVersionsAndPermissions) {
  EXPECT_EQ(OfflineRepo::Open(dir_ / "r").error().code(), Errc::kNotFound);
  auto repo = OfflineRepo::Create(dir_ / "r");
  ASSERT_TRUE(repo) << repo.error().ToString();
  for (const auto& sub :
       {dir_ / "r", dir_ / "r" / "keys", dir_ / "r" / "metadata", dir_ / "r" / "artifacts"}) {
    struct stat st {};
    ASSERT_EQ(::stat(sub.c_str(), &st), 0) << sub;
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub;
  }
  EXPECT_EQ(*repo->LatestVersion("root"), 0);
  const core::codec::Json envelope =
      core::codec::Json::Object{{"signatures", core::codec::Json::Array{}}, {"signed", 1}};
  for (std::int64_t v : {1, 2, 10}) ASSERT_TRUE(repo->WriteMetadata("root", v, envelope));
  ASSERT_TRUE(repo->WriteMetadata("targets", 3, envelope));
  // Names that only look like versions do not count.
  ASSERT_TRUE(platform::posix::AtomicWriteFile(dir_ / "r" / "metadata" / "011x.root.json", {}));
  ASSERT_TRUE(platform::posix::AtomicWriteFile(dir_ / "r" / "metadata" / "-4.root.json", {}));
  EXPECT_EQ(*repo->LatestVersion("root"), 10);
  EXPECT_EQ(*repo->LatestVersion("targets"), 3);
  EXPECT_FALSE(repo->LatestVersion("snapshot"));
  EXPECT_EQ(repo->ReadMetadata("root", 4).error().code(), Errc::kNotFound);
  auto bytes = repo->ReadMetadata("root", 2);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*core::codec::ParseJson(AsChars(*bytes)), envelope);
  EXPECT_EQ(repo->ArtifactPath("ab"), dir_ / "r" / "artifacts" / "ab");

  // With a root in it, the directory is a repository: never created over.
  EXPECT_EQ(OfflineRepo::Create(dir_ / "r").error().code(), Errc::kAlreadyExists);
  EXPECT_TRUE(OfflineRepo::Open(dir_ / "r"));
}

}  // namespace
}  // namespace aloft::cli::aloftctl::repo
