#include "platform/posix/key_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::posix {
namespace {

using KeyFilesTest = testing::TempDirTest;

constexpr char kPem[] =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n"
    "-----END PRIVATE KEY-----\n";

TEST_F(KeyFilesTest, SaveCreatesOwnerOnlyFileAndReadsBack) {
  const mode_t old_umask = ::umask(0);  // even a permissive umask must not widen the key
  const auto path = dir_ / "root.pem";
  auto saved = SavePrivateKeyFile(path, kPem);
  ::umask(old_umask);
  ASSERT_TRUE(saved) << saved.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto read = ReadPrivateKeyFile(path);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(*read, kPem);
  EXPECT_EQ(Entries(), (std::vector<std::string>{"root.pem"}));
}

TEST_F(KeyFilesTest, RefusesKeyReadableByOthers) {
  const auto path = dir_ / "root.pem";
  ASSERT_TRUE(SavePrivateKeyFile(path, kPem));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto read = ReadPrivateKeyFile(path);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(read.error().message(), "key file " + path.string() +
                                        " is accessible by group or others (mode 0644); "
                                        "chmod 600 it");
  ASSERT_EQ(::chmod(path.c_str(), 0620), 0);  // group-writable is refused too
  EXPECT_EQ(ReadPrivateKeyFile(path).error().code(), Errc::kInvalidArgument);
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadPrivateKeyFile(path));
}

TEST_F(KeyFilesTest, MissingAndOversizedKeys) {
  EXPECT_EQ(ReadPrivateKeyFile(dir_ / "none.pem").error().code(), Errc::kNotFound);
  const auto path = dir_ / "huge.pem";
  ASSERT_TRUE(SavePrivateKeyFile(path, std::string(kMaxKeyFileBytes + 1, 'k')));
  EXPECT_EQ(ReadPrivateKeyFile(path).error().code(), Errc::kTooLarge);
  EXPECT_EQ(ReadPrivateKeyFile(dir_).error().code(), Errc::kInvalidArgument);  // a directory
}

}  // namespace
}  // namespace aloft::platform::posix
