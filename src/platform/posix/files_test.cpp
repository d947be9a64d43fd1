#include "platform/posix/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::posix {
namespace {

using FilesTest = testing::TempDirTest;

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST_F(FilesTest, AtomicWriteCreatesAndReplaces) {
  const auto path = dir_ / "root.json";
  ASSERT_TRUE(AtomicWriteFile(path, AsBytes("first")));
  auto read = ReadFile(path, 100);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(ToString(*read), "first");

  ASSERT_TRUE(AtomicWriteFile(path, AsBytes("second, longer")));
  read = ReadFile(path, 100);
  ASSERT_TRUE(read);
  EXPECT_EQ(ToString(*read), "second, longer");

  ASSERT_TRUE(AtomicWriteFile(path, {}));
  read = ReadFile(path, 100);
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->empty());
}

TEST_F(FilesTest, AtomicWriteLeavesNoTemporaryFile) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(AtomicWriteFile(dir_ / "a.json", AsBytes(std::to_string(i))));
  }
  ASSERT_TRUE(AtomicWriteFile(dir_ / "b.json", AsBytes("b")));
  EXPECT_EQ(Entries(), (std::vector<std::string>{"a.json", "b.json"}));
}

TEST_F(FilesTest, AtomicWriteHonoursModeWhateverTheUmask) {
  const mode_t old_umask = ::umask(0);
  ASSERT_TRUE(AtomicWriteFile(dir_ / "private", AsBytes("x"), 0600));
  ASSERT_TRUE(AtomicWriteFile(dir_ / "public", AsBytes("x")));
  ::umask(077);
  ASSERT_TRUE(AtomicWriteFile(dir_ / "public2", AsBytes("x"), 0644));
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(dir_ / "private"), 0600u);
  EXPECT_EQ(ModeOf(dir_ / "public"), 0644u);
  EXPECT_EQ(ModeOf(dir_ / "public2"), 0644u);
}

TEST_F(FilesTest, AtomicWriteNarrowsModeOfExistingFile) {
  const auto path = dir_ / "key";
  WriteText(path, "old");
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  ASSERT_TRUE(AtomicWriteFile(path, AsBytes("new"), 0600));
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(FilesTest, AtomicWriteIntoMissingDirectoryFails) {
  const auto path = dir_ / "missing" / "root.json";
  auto written = AtomicWriteFile(path, AsBytes("x"));
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::kIo);
  EXPECT_NE(written.error().message().find("missing"), std::string::npos)
      << written.error().message();
  EXPECT_NE(written.error().message().find("No such file"), std::string::npos)
      << written.error().message();
}

TEST_F(FilesTest, AtomicWriteOverDirectoryFailsAndCleansUp) {
  const auto path = dir_ / "taken";
  ASSERT_TRUE(std::filesystem::create_directory(path));
  auto written = AtomicWriteFile(path, AsBytes("x"));
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::kIo);
  EXPECT_EQ(Entries(), (std::vector<std::string>{"taken"}));
}

TEST_F(FilesTest, AtomicWriteRejectsPathWithoutFileName) {
  EXPECT_EQ(AtomicWriteFile(dir_ / "", AsBytes("x")).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(AtomicWriteFile(dir_ / "..", AsBytes("x")).error().code(), Errc::kInvalidArgument);
}

TEST_F(FilesTest, AtomicWriteOnFullDiskIsNoSpace) {
  // /dev/full answers every write with ENOSPC, but it is not a directory we can create files
  // in; a tmpfs with a size limit would need root. Check the mapping instead.
  EXPECT_EQ(ErrnoError(ENOSPC, "write", "/x").code(), Errc::kNoSpace);
  EXPECT_EQ(ErrnoError(EIO, "write", "/x").code(), Errc::kIo);
  EXPECT_EQ(ErrnoError(EIO, "write", "/x").message(), "write /x: Input/output error");
}

TEST_F(FilesTest, ReadFileLimits) {
  const auto path = dir_ / "ten";
  WriteText(path, "0123456789");
  auto exact = ReadFile(path, 10);
  ASSERT_TRUE(exact);
  EXPECT_EQ(ToString(*exact), "0123456789");
  auto over = ReadFile(path, 9);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Errc::kTooLarge);
  auto zero = ReadFile(path, 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code(), Errc::kTooLarge);
}

TEST_F(FilesTest, ReadFileLimitAppliesWithoutSizeFromStat) {
  // /proc files report size 0, so only the read loop can enforce the limit.
  auto limited = ReadFile("/proc/self/status", 8);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code(), Errc::kTooLarge);
  auto whole = ReadFile("/proc/self/status", 1 << 20);
  ASSERT_TRUE(whole);
  EXPECT_GT(whole->size(), 8u);
}

TEST_F(FilesTest, ReadFileLargerThanOneChunk) {
  const std::string big(200 * 1024 + 7, 'z');
  ASSERT_TRUE(AtomicWriteFile(dir_ / "big", AsBytes(big)));
  auto read = ReadFile(dir_ / "big", big.size());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->size(), big.size());
}

TEST_F(FilesTest, ReadFileErrors) {
  auto missing = ReadFile(dir_ / "nope", 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  auto missing_parent = ReadFile(dir_ / "nope" / "x", 10);
  ASSERT_FALSE(missing_parent);
  EXPECT_EQ(missing_parent.error().code(), Errc::kNotFound);
  auto directory = ReadFile(dir_, 10);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code(), Errc::kIo);
  EXPECT_NE(directory.error().message().find(dir_.string()), std::string::npos);
}

TEST_F(FilesTest, EnsurePrivateDirectory) {
  const auto path = dir_ / "a" / "b" / "c";
  ASSERT_TRUE(EnsurePrivateDirectory(path));
  EXPECT_TRUE(std::filesystem::is_directory(path));
  EXPECT_EQ(ModeOf(path), 0700u);
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  ASSERT_TRUE(EnsurePrivateDirectory(path));  // idempotent, and re-tightens
  EXPECT_EQ(ModeOf(path), 0700u);

  WriteText(dir_ / "file", "x");
  auto over_file = EnsurePrivateDirectory(dir_ / "file");
  ASSERT_FALSE(over_file);
  EXPECT_EQ(over_file.error().code(), Errc::kIo);
}

}  // namespace
}  // namespace aloft::platform::posix
