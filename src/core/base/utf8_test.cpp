#include "core/base/utf8.hpp"

#include <gtest/gtest.h>

namespace aloft {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  for (std::string_view ok : {"", "ascii", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x9A\x80",
                              "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
    EXPECT_EQ(ToValidUtf8(ok), ok);
  }
}

TEST(Utf8, RejectsAndRepairsMalformedText) {
  for (std::string_view bad : {"\xFF", "\xC3", "\xC3\x28", "\xC0\xAF", "\xE0\x80\xAF",
                               "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80",
                               "ab\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(bad))) << bad;
  }
  EXPECT_EQ(ToValidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  // A character cut in half at the end of a byte-capped excerpt.
  EXPECT_EQ(ToValidUtf8("x\xC3\xA9\xC3"), "x\xC3\xA9\xEF\xBF\xBD");
}

}  // namespace
}  // namespace aloft
