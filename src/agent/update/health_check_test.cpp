#include "agent/update/health_check.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "agent/update/update_record.hpp"

namespace aloft::agent::update {
namespace {

using namespace std::chrono_literals;

TEST(CommandHealthCheckerTest, NoCommandsIsHealthy) {
  CommandHealthChecker checker({});
  EXPECT_TRUE(checker.Run().status);
}

TEST(CommandHealthCheckerTest, PassingCommandsAreHealthy) {
  CommandHealthChecker checker({{{"/bin/true"}, 5000ms}, {{"/bin/echo", "ready"}, 5000ms}});
  const HealthOutcome outcome = checker.Run();
  ASSERT_TRUE(outcome.status) << outcome.status.error().ToString();
  EXPECT_EQ(outcome.log_tail, "$ /bin/true\nexit 0\n$ /bin/echo ready\nready\nexit 0\n");
}

TEST(CommandHealthCheckerTest, ChecksSeeTheEnvironmentTheAgentPasses) {
  CommandHealthChecker checker(
      {{{"/bin/sh", "-c", "echo \"$ALOFT_SLOT $ALOFT_IMAGE_VERSION\"; test \"$HOME\" != replaced"},
        5000ms}},
      [] { return std::vector<std::string>{"ALOFT_SLOT=b", "ALOFT_IMAGE_VERSION=2.0"}; });
  const HealthOutcome outcome = checker.Run();
  ASSERT_TRUE(outcome.status) << outcome.status.error().ToString() << outcome.log_tail;
  EXPECT_NE(outcome.log_tail.find("\nb 2.0\n"), std::string::npos) << outcome.log_tail;

  // A variable the agent sets replaces the inherited one of the same name.
  CommandHealthChecker replacing({{{"/bin/sh", "-c", "test \"$HOME\" = /nowhere"}, 5000ms}},
                                 [] { return std::vector<std::string>{"HOME=/nowhere"}; });
  EXPECT_TRUE(replacing.Run().status);
}

TEST(CommandHealthCheckerTest, FailingCommandStopsTheRun) {
  CommandHealthChecker checker({{{"/bin/false"}, 5000ms}, {{"/bin/echo", "never runs"}, 5000ms}});
  const HealthOutcome outcome = checker.Run();
  ASSERT_FALSE(outcome.status);
  EXPECT_EQ(outcome.status.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(outcome.status.error().message().find("/bin/false exited with status 1"),
            std::string::npos);
  EXPECT_EQ(outcome.log_tail, "$ /bin/false\nexit 1\n");
}

TEST(CommandHealthCheckerTest, HungCommandIsKilledAtItsTimeout) {
  CommandHealthChecker checker({{{"/bin/sleep", "30"}, 200ms}});
  const auto start = std::chrono::steady_clock::now();
  const HealthOutcome outcome = checker.Run();
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcome.status);
  EXPECT_EQ(outcome.status.error().code(), Errc::kTimeout);
  EXPECT_LT(took, 5s);
  EXPECT_NE(outcome.log_tail.find("timeout"), std::string::npos) << outcome.log_tail;
}

TEST(CommandHealthCheckerTest, MissingProgramIsNotFound) {
  CommandHealthChecker checker({{{"/nonexistent/check"}, 1000ms}});
  const HealthOutcome outcome = checker.Run();
  ASSERT_FALSE(outcome.status);
  EXPECT_EQ(outcome.status.error().code(), Errc::kNotFound);
}

TEST(CommandHealthCheckerTest, LogTailKeepsOnlyTheLastBytes) {
  // 10000 bytes of 'x' then a final marker: the tail must end with the marker.
  CommandHealthChecker checker(
      {{{"/bin/sh", "-c", "head -c 10000 /dev/zero | tr '\\0' x; echo END; exit 4"}, 5000ms}});
  const HealthOutcome outcome = checker.Run();
  ASSERT_FALSE(outcome.status);
  EXPECT_EQ(outcome.log_tail.size(), kMaxLogTailBytes);
  EXPECT_NE(outcome.log_tail.find("END\nexit 4\n"), std::string::npos);
}

}  // namespace
}  // namespace aloft::agent::update
