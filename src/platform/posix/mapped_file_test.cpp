#include "platform/posix/mapped_file.hpp"

#include <gtest/gtest.h>

#include <string>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::platform::posix {
namespace {

using MappedFileTest = testing::TempDirTest;

TEST_F(MappedFileTest, MapsTheWholeFileAndSurvivesMoves) {
  const Bytes content = {1, 2, 3, 4, 5, 250};
  ASSERT_TRUE(AtomicWriteFile(dir_ / "f", content));
  auto mapped = MappedFile::Open(dir_ / "f");
  ASSERT_TRUE(mapped) << mapped.error().message();
  MappedFile moved = std::move(*mapped);
  EXPECT_EQ(Bytes(moved.bytes().begin(), moved.bytes().end()), content);
  EXPECT_TRUE(mapped->bytes().empty());
}

TEST_F(MappedFileTest, EmptyAndMissingFiles) {
  ASSERT_TRUE(AtomicWriteFile(dir_ / "empty", Bytes{}));
  auto empty = MappedFile::Open(dir_ / "empty");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->bytes().empty());
  auto missing = MappedFile::Open(dir_ / "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

TEST_F(MappedFileTest, PrefixOfAFileLongEnough) {
  ASSERT_TRUE(AtomicWriteFile(dir_ / "f", Bytes{1, 2, 3, 4}));
  auto prefix = MappedFile::OpenPrefix(dir_ / "f", 2);
  ASSERT_TRUE(prefix) << prefix.error().message();
  EXPECT_EQ(Bytes(prefix->bytes().begin(), prefix->bytes().end()), (Bytes{1, 2}));
  prefix->AdviseSequential();
  auto nothing = MappedFile::OpenPrefix(dir_ / "f", 0);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->bytes().empty());
  auto too_long = MappedFile::OpenPrefix(dir_ / "f", 5);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(too_long.error().message().find("holds 4 bytes, fewer than 5"), std::string::npos);
}

}  // namespace
}  // namespace aloft::platform::posix
