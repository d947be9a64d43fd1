#include "core/base/base64.hpp"

#include <gtest/gtest.h>

namespace aloft {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(AsBytes(plain)), encoded);
    EXPECT_EQ(ToString(*Base64UrlDecode(encoded)), plain);
  }
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(all)), all);
  EXPECT_EQ(Base64UrlEncode(Bytes{0xfb, 0xff}), "-_8");
}

TEST(Base64Url, RejectsNonCanonicalInput) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v="));   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm+v"));    // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9 v"));   // whitespace
  EXPECT_FALSE(Base64UrlDecode("Z"));       // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh"));      // non-zero trailing bits ("Zg" is canonical)
  // A bad character anywhere: in a full group, in the tail, as a high byte.
  for (std::size_t at = 0; at < 11; ++at) {
    for (char bad : {'=', '+', '/', '.', '\0', '\xff', '\x80'}) {
      std::string text = "Zm9vYmFyYmF";  // 11 characters: two groups and a tail of three
      text[at] = bad;
      EXPECT_FALSE(Base64UrlDecode(text)) << at << " " << int(bad);
    }
  }
  EXPECT_TRUE(Base64UrlDecode("Zm9vYmFyYmE"));
}

}  // namespace
}  // namespace aloft
