#include "platform/posix/directory_metadata_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::posix {
namespace {

using DirectoryMetadataStoreTest = testing::TempDirTest;

TEST(RoleFileNameTest, EncodesRolesIntoOneSafeComponent) {
  EXPECT_EQ(RoleFileName("root"), "root.json");
  EXPECT_EQ(RoleFileName("/delegatedrole"), "%2Fdelegatedrole.json");
  EXPECT_EQ(RoleFileName("../x"), "..%2Fx.json");
  EXPECT_EQ(RoleFileName("."), "%2E.json");
  EXPECT_EQ(RoleFileName(".."), "%2E%2E.json");
  EXPECT_EQ(RoleFileName("..."), "....json");
  EXPECT_EQ(RoleFileName("a b"), "a%20b.json");
}

TEST_F(DirectoryMetadataStoreTest, StoreLoadRemoveRoundTrip) {
  DirectoryMetadataStore store(dir_);
  auto missing = store.Load("root");
  ASSERT_TRUE(missing) << missing.error().ToString();
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store.Store("root", AsBytes("{\"v\":1}")));
  ASSERT_TRUE(store.Store("root", AsBytes("{\"v\":2}")));
  auto loaded = store.Load("root");
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(ToString(**loaded), "{\"v\":2}");
  EXPECT_EQ(Entries(), (std::vector<std::string>{"root.json"}));

  ASSERT_TRUE(store.Remove("root"));
  loaded = store.Load("root");
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->has_value());
  EXPECT_TRUE(store.Remove("root"));  // already gone: still fine
  EXPECT_TRUE(Entries().empty());
}

TEST_F(DirectoryMetadataStoreTest, HostileRoleNamesStayInsideTheDirectory) {
  const auto inner = dir_ / "store";
  ASSERT_TRUE(EnsurePrivateDirectory(inner));
  DirectoryMetadataStore store(inner);
  for (const char* role : {"/delegatedrole", "../x", ".", "..", "../../etc/passwd", "a/b"}) {
    ASSERT_TRUE(store.Store(role, AsBytes(role))) << role;
    auto loaded = store.Load(role);
    ASSERT_TRUE(loaded) << role;
    ASSERT_TRUE(loaded->has_value()) << role;
    EXPECT_EQ(ToString(**loaded), role);
  }
  EXPECT_EQ(Entries(), (std::vector<std::string>{"store"}));  // nothing escaped
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(inner)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"%2E%2E.json", "%2E.json", "%2Fdelegatedrole.json",
                                      "..%2F..%2Fetc%2Fpasswd.json", "..%2Fx.json", "a%2Fb.json"}));
}

TEST_F(DirectoryMetadataStoreTest, StoredFilesArePublic) {
  DirectoryMetadataStore store(dir_);
  ASSERT_TRUE(store.Store("timestamp", AsBytes("{}")));
  struct stat st {};
  ASSERT_EQ(::stat(store.PathFor("timestamp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(DirectoryMetadataStoreTest, EmptyRoleIsRejected) {
  DirectoryMetadataStore store(dir_);
  EXPECT_EQ(store.Load("").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(store.Store("", AsBytes("x")).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(store.Remove("").error().code(), Errc::kInvalidArgument);
}

TEST_F(DirectoryMetadataStoreTest, MissingDirectoryIsAnErrorNotEmpty) {
  DirectoryMetadataStore store(dir_ / "absent");
  auto stored = store.Store("root", AsBytes("x"));
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code(), Errc::kIo);
  EXPECT_NE(stored.error().message().find("store root"), std::string::npos);
}

TEST_F(DirectoryMetadataStoreTest, OversizedFileIsTooLarge) {
  DirectoryMetadataStore store(dir_);
  const auto path = store.PathFor("targets");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kMaxStoredMetadataBytes + 1)), 0);
  auto loaded = store.Load("targets");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::kTooLarge);
}

TEST_F(DirectoryMetadataStoreTest, UnreadableEntryIsAnError) {
  DirectoryMetadataStore store(dir_);
  ASSERT_TRUE(std::filesystem::create_directory(store.PathFor("snapshot")));
  auto loaded = store.Load("snapshot");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::kIo);
}

}  // namespace
}  // namespace aloft::platform::posix
