#include "agent/bundle/bundle_reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::bundle {
namespace {

namespace posix = platform::posix;
using BundleReaderTest = aloft::testing::TempDirTest;

// One tar header block of `type` for `name` (ustar fields; the name is cut at 100 bytes).
Bytes Header(std::string_view name, std::size_t size, char type = '0') {
  std::array<char, 512> h{};
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  std::snprintf(&h[100], 8, "%07o", 0644u);
  std::snprintf(&h[124], 12, "%011llo", static_cast<unsigned long long>(size));
  h[156] = type;
  std::memcpy(&h[257], "ustar", 6);
  std::fill(h.begin() + 148, h.begin() + 156, ' ');
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(&h[148], 8, "%06o", sum);
  return Bytes(h.begin(), h.end());
}

void Append(Bytes& tar, std::string_view name, std::string_view data, char type = '0') {
  const Bytes header = Header(name, data.size(), type);
  tar.insert(tar.end(), header.begin(), header.end());
  tar.insert(tar.end(), data.begin(), data.end());
  tar.resize((tar.size() + 511) / 512 * 512, 0);
}

class Sink final : public core::io::Writer {
 public:
  Status Write(ByteView data) override {
    bytes.insert(bytes.end(), data.begin(), data.end());
    return Ok();
  }
  Bytes bytes;
};

TEST(IsSafeMemberNameTest, RefusesEscapes) {
  EXPECT_TRUE(IsSafeMemberName("metadata/1.root.json"));
  EXPECT_TRUE(IsSafeMemberName("targets/abc.img"));
  for (std::string_view bad :
       {"", "/etc/shadow", "../x", "metadata/../../x", "a//b", "a/./b", "a/", "."}) {
    EXPECT_FALSE(IsSafeMemberName(bad)) << bad;
  }
}

TEST_F(BundleReaderTest, TarWithLongAndPaxNamesLaterDuplicatesWin) {
  const std::string long_name = "targets/" + std::string(64, 'f') + ".a-rather-long-image-name.img";
  Bytes tar;
  Append(tar, "./bundle.json", "{\"old\":1}");
  Append(tar, "metadata/", "", '5');
  Append(tar, "././@LongLink", long_name + std::string(1, '\0'), 'L');
  Append(tar, long_name.substr(0, 100), "image bytes");
  const std::string record = "path=metadata/timestamp.json\n";
  const std::string pax = std::to_string(record.size() + 3) + " " + record;
  Append(tar, "PaxHeader", pax, 'x');
  Append(tar, "ignored-name", "{\"timestamp\":1}");
  Append(tar, "bundle.json", "{\"new\":1}");
  tar.resize(tar.size() + 1024, 0);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "b.tar", tar));

  auto reader = OpenBundleTar(dir_ / "b.tar");
  ASSERT_TRUE(reader) << reader.error().ToString();
  EXPECT_EQ(ToString(*(*reader)->Read("bundle.json", 100)), "{\"new\":1}");
  EXPECT_EQ(ToString(*(*reader)->Read("metadata/timestamp.json", 100)), "{\"timestamp\":1}");
  EXPECT_EQ((*reader)->Read("ignored-name", 100).error().code(), Errc::kNotFound);
  EXPECT_EQ((*reader)->Read("bundle.json", 3).error().code(), Errc::kTooLarge);
  EXPECT_EQ((*reader)->Read("../b.tar", 100).error().code(), Errc::kInvalidArgument);

  Sink sink;
  ASSERT_TRUE((*reader)->Stream(long_name, 11, "", sink));
  EXPECT_EQ(ToString(sink.bytes), "image bytes");
  Sink wrong;
  EXPECT_EQ((*reader)->Stream(long_name, 12, "", wrong).error().code(), Errc::kVerificationFailed);
  EXPECT_TRUE(wrong.bytes.empty());
}

TEST_F(BundleReaderTest, TarThatIsNotATarIsRefused) {
  Bytes tar;
  Append(tar, "bundle.json", "{}");
  Bytes corrupt = tar;
  corrupt[0] = 'X';  // the header checksum no longer matches
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "corrupt.tar", corrupt));
  EXPECT_EQ(OpenBundleTar(dir_ / "corrupt.tar").error().code(), Errc::kInvalidArgument);

  Bytes truncated = Header("big.img", 4096);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "truncated.tar", truncated));
  EXPECT_EQ(OpenBundleTar(dir_ / "truncated.tar").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(OpenBundleTar(dir_ / "missing.tar").error().code(), Errc::kNotFound);
}

TEST_F(BundleReaderTest, DirectoryStaysInside) {
  std::filesystem::create_directories(dir_ / "stick" / "targets");
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "stick" / "targets" / "a.img", AsBytes("abc")));
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "secret", AsBytes("secret")));
  auto reader = OpenBundleDirectory(dir_ / "stick");
  ASSERT_TRUE(reader);
  EXPECT_EQ((*reader)->Read("../secret", 100).error().code(), Errc::kInvalidArgument);
  Sink sink;
  ASSERT_TRUE((*reader)->Stream("targets/a.img", 3, "", sink));
  EXPECT_EQ(ToString(sink.bytes), "abc");
  Sink longer;
  EXPECT_EQ((*reader)->Stream("targets/a.img", 2, "", longer).error().code(),
            Errc::kVerificationFailed);
  EXPECT_EQ((*reader)->Stream("targets/none.img", 2, "", longer).error().code(), Errc::kNotFound);
  EXPECT_EQ(OpenBundleDirectory(dir_ / "nothing").error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace aloft::agent::bundle
