#include "core/base/percent_encode.hpp"

#include <gtest/gtest.h>

#include <string>

namespace aloft {
namespace {

// Expected values are Python's urllib.parse.quote(text, safe="").
TEST(PercentEncodeTest, MatchesPythonQuoteWithNoSafeCharacters) {
  EXPECT_EQ(PercentEncode(""), "");
  EXPECT_EQ(PercentEncode("root"), "root");
  EXPECT_EQ(PercentEncode("/delegatedrole"), "%2Fdelegatedrole");
  EXPECT_EQ(PercentEncode("../x"), "..%2Fx");
  EXPECT_EQ(PercentEncode("a b"), "a%20b");
  EXPECT_EQ(PercentEncode("a/b/c"), "a%2Fb%2Fc");
  EXPECT_EQ(PercentEncode("~user_.-"), "~user_.-");
  EXPECT_EQ(PercentEncode("%41"), "%2541");
  EXPECT_EQ(PercentEncode("\xC3\xBCn\xC3\xAF"), "%C3%BCn%C3%AF");  // "ünï" in UTF-8
  EXPECT_EQ(PercentEncode(std::string("\x00\x7F\xFF", 3)), "%00%7F%FF");
  EXPECT_EQ(PercentEncode("AZaz09"), "AZaz09");
  EXPECT_EQ(PercentEncode("+=?#&:;@!*'()"), "%2B%3D%3F%23%26%3A%3B%40%21%2A%27%28%29");
}

TEST(PercentEncodeTest, EveryByteOutsideTheSafeSetIsEncoded) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string encoded = PercentEncode(std::string(1, c));
    const bool safe = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
                      c == '_' || c == '.' || c == '-' || c == '~';
    EXPECT_EQ(encoded.size(), safe ? 1u : 3u) << b;
    EXPECT_EQ(encoded.find('/'), std::string::npos);
  }
}

TEST(PercentEncodeTest, FileNamesNeverNameTheDirectoryOrItsParent) {
  EXPECT_EQ(PercentEncodeFileName("."), "%2E");
  EXPECT_EQ(PercentEncodeFileName(".."), "%2E%2E");
  EXPECT_EQ(PercentEncodeFileName("..."), "...");
  EXPECT_EQ(PercentEncodeFileName("../x"), "..%2Fx");
}

}  // namespace
}  // namespace aloft
