#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "cli/aloftctl/output/progress.hpp"
#include "cli/aloftctl/output/table.hpp"

namespace aloft::cli::aloftctl::output {
namespace {

TEST(TableTest, AlignsColumnsWithoutTrailingBlanks) {
  Table table({"ID", "STATUS", "VERSION"});
  table.AddRow({"dev-1", "accepted", "2.0"});
  table.AddRow({"device-long", "", "1.9"});
  table.AddRow({"x"});  // missing cells are blank
  std::ostringstream out;
  table.Render(out);
  EXPECT_EQ(out.str(),
            "ID           STATUS    VERSION\n"
            "dev-1        accepted  2.0\n"
            "device-long            1.9\n"
            "x\n");
}

TEST(TableTest, EmptyTableSaysNone) {
  Table table({"A", "B"});
  std::ostringstream out;
  table.Render(out);
  EXPECT_EQ(out.str(), "A  B\n(none)\n");
}

TEST(TableTest, ControlCharactersAreEscapedAndUtf8CountsOnce) {
  EXPECT_EQ(Printable("a\x1b[2Jb\n"), "a\\x1b[2Jb\\x0a");
  Table table({"NAME", "X"});
  table.AddRow({"h\xc3\xa9", "1"});  // "hé": two columns wide
  table.AddRow({"bad\r", "2"});
  std::ostringstream out;
  table.Render(out);
  EXPECT_EQ(out.str(), "NAME     X\nh\xc3\xa9       1\nbad\\x0d  2\n");
}

TEST(TableTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(std::uint64_t{3} << 30), "3.0 GiB");
}

TEST(ProgressTest, RendersAndOnlyDrawsWhenEnabled) {
  EXPECT_EQ(ProgressBar::Render("upload x", 512, 1024),
            "upload x  [############            ]  50%  512 B / 1.0 KiB");
  EXPECT_EQ(ProgressBar::Render("x", 5, 0), "x  [########################] 100%  0 B / 0 B");
  std::ostringstream off;
  {
    ProgressBar bar(off, "x", false);
    bar.Update(1, 2);
    bar.Finish();
  }
  EXPECT_EQ(off.str(), "");
  std::ostringstream on;
  {
    ProgressBar bar(on, "x", true);
    for (int i = 0; i <= 1000; ++i) bar.Update(static_cast<std::uint64_t>(i), 1000);
    bar.Finish();
  }
  // One redraw per percent (101), not per update, and a final newline.
  const std::string drawn = on.str();
  EXPECT_EQ(std::count(drawn.begin(), drawn.end(), '\r'), 101);
  EXPECT_EQ(drawn.back(), '\n');
}

}  // namespace
}  // namespace aloft::cli::aloftctl::output
