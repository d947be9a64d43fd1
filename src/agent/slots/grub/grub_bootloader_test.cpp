#include "agent/slots/grub/grub_bootloader.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "agent/slots/grub/run_command.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::slots::grub {
namespace {

namespace posix = platform::posix;
using namespace std::chrono_literals;

class GrubBootloaderTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    options_.env_file = dir_ / "grubenv";
    options_.booted = [this]() -> Result<SlotId> { return booted_; };
  }

  EnvVars Vars() {
    auto vars = GrubEnv(options_).Load();
    EXPECT_TRUE(vars) << vars.error().ToString();
    return vars ? *vars : EnvVars{};
  }

  std::filesystem::path Script(const std::string& name, const std::string& body) {
    const auto path = dir_ / name;
    EXPECT_TRUE(posix::AtomicWriteFile(path, AsBytes("#!/bin/sh\n" + body + "\n"), 0700));
    return path;
  }

  GrubOptions options_;
  SlotId booted_ = SlotId::kA;
};

TEST_F(GrubBootloaderTest, TrialCommitAndRollbackThroughGrubEditenv) {
  ASSERT_TRUE(InitializeGrubEnv(options_, {{"boot_part", "a"}, {"saved_entry", "0"}}));
  auto boot = CreateGrubBootloader(options_);
  ASSERT_TRUE(boot) << boot.error().ToString();
  auto state = (*boot)->State();
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, (BootState{SlotId::kA, SlotId::kA, false, 0, 0}));

  ASSERT_TRUE((*boot)->PrepareTrialBoot(SlotId::kB));
  EnvVars vars = Vars();
  EXPECT_EQ(vars, (EnvVars{{"boot_part", "b"},
                           {"bootcount", "0"},
                           {"bootlimit", "3"},
                           {"saved_entry", "0"},
                           {"upgrade_available", "1"}}));

  // grub.cfg boots b and counts.
  booted_ = SlotId::kB;
  ASSERT_TRUE(GrubEnv(options_).Store({{"bootcount", "2"}}));
  state = (*boot)->State();
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->IsTrialBoot());
  EXPECT_EQ(state->boot_count, 2);

  ASSERT_TRUE((*boot)->MarkGood());
  vars = Vars();
  EXPECT_EQ(vars["upgrade_available"], "0");
  EXPECT_EQ(vars["bootcount"], "0");
  EXPECT_EQ(vars["boot_part"], "b");

  ASSERT_TRUE((*boot)->MarkBad(SlotId::kB));
  EXPECT_EQ(Vars()["boot_part"], "a");
}

// grub-editenv lists a missing file as empty: no slot variable, so the state is unknowable.
TEST_F(GrubBootloaderTest, MissingEnvFileIsCorrupt) {
  auto boot = CreateGrubBootloader(options_);
  ASSERT_TRUE(boot);
  auto state = (*boot)->State();
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().code(), Errc::kCorrupt) << state.error().ToString();
}

TEST_F(GrubBootloaderTest, MissingBinaryIsNotFound) {
  options_.editenv = dir_ / "no-grub-editenv";
  auto vars = GrubEnv(options_).Load();
  ASSERT_FALSE(vars);
  EXPECT_EQ(vars.error().code(), Errc::kNotFound) << vars.error().ToString();
}

TEST_F(GrubBootloaderTest, HungBinaryTimesOut) {
  options_.editenv = Script("hang", "exec sleep 10");
  options_.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto vars = GrubEnv(options_).Load();
  ASSERT_FALSE(vars);
  EXPECT_EQ(vars.error().code(), Errc::kTimeout) << vars.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(GrubBootloaderTest, FailingBinaryReportsItsOutput) {
  options_.editenv = Script("fail", "echo 'disk on fire' >&2; exit 3");
  auto vars = GrubEnv(options_).Load();
  ASSERT_FALSE(vars);
  EXPECT_EQ(vars.error().code(), Errc::kIo);
  EXPECT_NE(vars.error().message().find("disk on fire"), std::string::npos);
  EXPECT_NE(vars.error().message().find("exit 3"), std::string::npos);
}

TEST_F(GrubBootloaderTest, GarbledListingIsCorrupt) {
  options_.editenv = Script("garble", "echo 'no equals sign here'");
  EXPECT_EQ(GrubEnv(options_).Load().error().code(), Errc::kCorrupt);
}

TEST_F(GrubBootloaderTest, RejectsUnsafeValues) {
  ASSERT_TRUE(InitializeGrubEnv(options_, {}));
  EXPECT_EQ(GrubEnv(options_).Store({{"x", "a\nb"}}).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(GrubEnv(options_).Store({{"a b", "1"}}).error().code(), Errc::kInvalidArgument);
}

TEST(RunCommandTest, CapturesOutputAndExitCode) {
  auto run = RunCommand({"/bin/sh", "-c", "echo hi; echo err >&2; exit 4"}, 5s);
  ASSERT_TRUE(run) << run.error().ToString();
  EXPECT_EQ(run->exit_code, 4);
  EXPECT_NE(run->output.find("hi"), std::string::npos);
  EXPECT_NE(run->output.find("err"), std::string::npos);
  auto capped = RunCommand({"/bin/sh", "-c", "yes | head -c 100000"}, 5s, 1000);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->output.size(), 1000U);
}

}  // namespace
}  // namespace aloft::agent::slots::grub
