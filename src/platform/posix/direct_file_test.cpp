#include "platform/posix/direct_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::posix {
namespace {

using DirectFileTest = testing::TempDirTest;

Bytes Pattern(std::size_t size) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 131 + i / 4093);
  return bytes;
}

// DirectFile with and without O_DIRECT: aligned and unaligned writes land byte for byte, and
// reads stop at the end of the file.
TEST_F(DirectFileTest, WritesAndReadsWithAndWithoutDirectIo) {
  for (const auto mode : {DirectFile::DirectIo::kWhereSupported, DirectFile::DirectIo::kNever}) {
    const std::filesystem::path path = dir_ / "direct-io";
    std::filesystem::remove(path);
    auto file = DirectFile::Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600, mode);
    ASSERT_TRUE(file) << file.error().ToString();
    if (mode == DirectFile::DirectIo::kNever) {
      EXPECT_FALSE(file->direct());
    }
    AlignedBuffer buffer = AllocateAligned(DirectFile::kAlignment * 4);
    ASSERT_TRUE(buffer);
    const Bytes head = Pattern(DirectFile::kAlignment * 4);
    std::memcpy(buffer.get(), head.data(), head.size());
    ASSERT_TRUE(file->WriteAt(ByteView(buffer.get(), head.size()), 0));
    const Bytes tail = Pattern(1000);  // unaligned: written buffered
    ASSERT_TRUE(file->WriteAt(tail, head.size()));
    EXPECT_FALSE(file->direct());

    Bytes expected = head;
    expected.insert(expected.end(), tail.begin(), tail.end());
    EXPECT_EQ(*ReadFile(path, 1 << 20), expected);
    auto n = file->ReadAt(buffer.get(), DirectFile::kAlignment * 4, DirectFile::kAlignment * 4);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, tail.size());
    n = file->ReadAt(buffer.get(), DirectFile::kAlignment, expected.size());
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
  }
}

TEST_F(DirectFileTest, ErrorsSayWhatAndWhere) {
  auto missing = DirectFile::Open(dir_ / "missing", O_RDONLY | O_CLOEXEC);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_NE(missing.error().message().find("missing"), std::string::npos);
  EXPECT_EQ(FileError(ENOSPC, "write", "/x").code(), Errc::kNoSpace);
  EXPECT_EQ(FileError(EFBIG, "write", "/x").code(), Errc::kNoSpace);
  EXPECT_EQ(FileError(EIO, "write", "/x").code(), Errc::kIo);
}

}  // namespace
}  // namespace aloft::platform::posix
