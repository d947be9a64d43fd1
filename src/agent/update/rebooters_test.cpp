#include "agent/update/rebooters.hpp"

#include <gtest/gtest.h>

namespace aloft::agent::update {
namespace {

using namespace std::chrono_literals;

TEST(CommandRebooterTest, SuccessMeansTheRebootIsOnItsWay) {
  CommandRebooter rebooter({"/bin/true"}, 5000ms);
  ASSERT_TRUE(rebooter.Reboot());
  EXPECT_TRUE(rebooter.requested());
}

TEST(CommandRebooterTest, FailureCarriesTheCommandsOutput) {
  CommandRebooter rebooter({"/bin/sh", "-c", "echo 'Failed to connect to bus'; exit 1"}, 5000ms);
  Status rebooted = rebooter.Reboot();
  ASSERT_FALSE(rebooted);
  EXPECT_EQ(rebooted.error().code(), Errc::kUnavailable);
  EXPECT_NE(rebooted.error().message().find("Failed to connect to bus"), std::string::npos)
      << rebooted.error().message();
  EXPECT_FALSE(rebooter.requested());
  EXPECT_EQ(CommandRebooter({"/nonexistent/reboot"}, 5000ms).Reboot().error().code(),
            Errc::kNotFound);
  EXPECT_EQ(CommandRebooter({}, 5000ms).Reboot().error().code(), Errc::kInvalidArgument);
}

TEST(DeferredRebooterTest, OnlyRecords) {
  DeferredRebooter rebooter;
  EXPECT_FALSE(rebooter.requested());
  ASSERT_TRUE(rebooter.Reboot());
  EXPECT_TRUE(rebooter.requested());
  rebooter.Clear();
  EXPECT_FALSE(rebooter.requested());
}

}  // namespace
}  // namespace aloft::agent::update
