#include "cli/aloftctl/commands/deploy_spec.hpp"

#include <gtest/gtest.h>

namespace aloft::cli::aloftctl::commands {
namespace {

using core::codec::Json;

TEST(DeploySpecTest, Durations) {
  EXPECT_EQ(*ParseDuration("90"), 90);
  EXPECT_EQ(*ParseDuration("90s"), 90);
  EXPECT_EQ(*ParseDuration("10m"), 600);
  EXPECT_EQ(*ParseDuration("2h"), 7200);
  EXPECT_EQ(*ParseDuration("1d"), 86400);
  for (const char* bad : {"", "m", "-5m", "5x", "1.5h", "367d", "99999999999999999999"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

TEST(DeploySpecTest, Phases) {
  auto phases = ParsePhases("1%,10%:1h,100%", 600);
  ASSERT_TRUE(phases) << phases.error().ToString();
  EXPECT_EQ(core::codec::CanonicalJson(*phases),
            R"([{"percent":1,"wait_seconds":600},{"percent":10,"wait_seconds":3600},)"
            R"({"percent":100,"wait_seconds":0}])");
  EXPECT_EQ(core::codec::CanonicalJson(*ParsePhases("100", 60)),
            R"([{"percent":100,"wait_seconds":0}])");
  for (const char* bad : {"", "10%,5%,100%", "10%,10%,100%", "0%,100%", "50%", "1%,101%",
                          "1%:x,100%", "a,100%", "1%,,100%"}) {
    EXPECT_FALSE(ParsePhases(bad, 60)) << bad;
  }
}

TEST(DeploySpecTest, SelectorAndWindow) {
  DeploySelector s;
  EXPECT_FALSE(MakeSelector(s));
  s.image_version = "1.0";
  EXPECT_FALSE(MakeSelector(s));  // a version alone selects no group
  s.hardware_id = "rpi4";
  s.attributes = {"site=berlin", "rack=a=b"};
  auto json = MakeSelector(s);
  ASSERT_TRUE(json) << json.error().ToString();
  EXPECT_EQ(
      core::codec::CanonicalJson(*json),
      R"({"attributes":{"rack":"a=b","site":"berlin"},"hardware_id":"rpi4","image_version":"1.0"})");
  s.attributes = {"=x"};
  EXPECT_FALSE(MakeSelector(s));
  DeploySelector group;
  group.group = "lab";
  EXPECT_EQ(core::codec::CanonicalJson(*MakeSelector(group)), R"({"group":"lab"})")
      << "a group alone selects devices";
  EXPECT_EQ(core::codec::CanonicalJson(*ParseWindow("22:00-04:30")),
            R"({"end":"04:30","start":"22:00"})");
  for (const char* bad : {"", "22:00", "24:00-01:00", "1:00-2:00", "22:60-01:00"}) {
    EXPECT_FALSE(ParseWindow(bad)) << bad;
  }
}

}  // namespace
}  // namespace aloft::cli::aloftctl::commands
