#include "agent/slots/uboot/uboot_bootloader.hpp"

#include <gtest/gtest.h>

#include <string>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::slots::uboot {
namespace {

namespace posix = platform::posix;

constexpr std::size_t kEnvSize = 0x4000;

// A U-Boot environment in a plain 16 KiB file, as fw_env.config describes it.
class UbootBootloaderTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    env_file_ = dir_ / "uboot.env";
    config_ = dir_ / "fw_env.config";
    ASSERT_TRUE(posix::AtomicWriteFile(env_file_, Bytes(kEnvSize, 0)));
    const std::string line = env_file_.string() + " 0x0 0x4000\n";
    ASSERT_TRUE(posix::AtomicWriteFile(config_, AsBytes(line)));
  }

  std::unique_ptr<Bootloader> Create(EnvScheme scheme = {}) {
    UbootOptions options;
    options.config = config_;
    options.scheme = std::move(scheme);
    options.booted = [this]() -> Result<SlotId> { return booted_; };
    auto created = CreateUbootBootloader(std::move(options));
    EXPECT_TRUE(created) << created.error().ToString();
    return created ? std::move(*created) : nullptr;
  }

  EnvVars Vars() {
    auto vars = UbootEnv(config_).Load();
    EXPECT_TRUE(vars) << vars.error().ToString();
    return vars ? *vars : EnvVars{};
  }

  std::filesystem::path env_file_;
  std::filesystem::path config_;
  SlotId booted_ = SlotId::kA;
};

TEST_F(UbootBootloaderTest, ZeroedEnvironmentIsCorrupt) {
  auto boot = Create();
  auto state = boot->State();
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().code(), Errc::kCorrupt) << state.error().ToString();
  EXPECT_EQ(boot->PrepareTrialBoot(SlotId::kB).error().code(), Errc::kCorrupt);
}

TEST_F(UbootBootloaderTest, MissingConfigIsIoError) {
  ASSERT_TRUE(std::filesystem::remove(config_));
  auto vars = UbootEnv(config_).Load();
  ASSERT_FALSE(vars);
  EXPECT_EQ(vars.error().code(), Errc::kIo);
}

TEST_F(UbootBootloaderTest, TrialCommitAndRollbackThroughLibubootenv) {
  ASSERT_TRUE(InitializeUbootEnv(config_, {{"boot_part", "a"}, {"bootcmd", "run boot_a"}}));
  auto boot = Create();
  auto state = boot->State();
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, (BootState{SlotId::kA, SlotId::kA, false, 0, 0}));

  ASSERT_TRUE(boot->PrepareTrialBoot(SlotId::kB));
  EnvVars vars = Vars();
  EXPECT_EQ(vars["boot_part"], "b");
  EXPECT_EQ(vars["upgrade_available"], "1");
  EXPECT_EQ(vars["bootcount"], "0");
  EXPECT_EQ(vars["bootlimit"], "3");
  EXPECT_EQ(vars["bootcmd"], "run boot_a");  // untouched
  EXPECT_TRUE(boot->State()->TrialPending());

  // U-Boot boots b and counts the boot.
  booted_ = SlotId::kB;
  ASSERT_TRUE(UbootEnv(config_).Store({{"bootcount", "1"}}));
  state = boot->State();
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->IsTrialBoot());
  EXPECT_EQ(state->boot_count, 1);
  EXPECT_EQ(state->boot_limit, 3);

  ASSERT_TRUE(boot->MarkGood());
  vars = Vars();
  EXPECT_EQ(vars["boot_part"], "b");
  EXPECT_EQ(vars["upgrade_available"], "0");
  EXPECT_EQ(vars["bootcount"], "0");

  ASSERT_TRUE(boot->MarkBad(SlotId::kB));
  EXPECT_EQ(Vars()["boot_part"], "a");
  EXPECT_EQ(boot->PrepareTrialBoot(SlotId::kB).error().code(), Errc::kInvalidArgument);
}

TEST_F(UbootBootloaderTest, MenderStyleScheme) {
  EnvScheme scheme;
  scheme.slot_var = "mender_boot_part";
  scheme.slot_a_value = "2";
  scheme.slot_b_value = "3";
  scheme.boot_limit = 1;
  ASSERT_TRUE(InitializeUbootEnv(config_, {{"mender_boot_part", "2"}}));
  auto boot = Create(scheme);
  ASSERT_TRUE(boot->PrepareTrialBoot(SlotId::kB));
  EnvVars vars = Vars();
  EXPECT_EQ(vars["mender_boot_part"], "3");
  EXPECT_EQ(vars["bootlimit"], "1");
  ASSERT_TRUE(UbootEnv(config_).Store({{"mender_boot_part", "7"}}));
  EXPECT_EQ(boot->State().error().code(), Errc::kCorrupt);
}

TEST_F(UbootBootloaderTest, InitializeReplacesOldVariables) {
  ASSERT_TRUE(InitializeUbootEnv(config_, {{"boot_part", "a"}, {"junk", "1"}}));
  ASSERT_TRUE(InitializeUbootEnv(config_, {{"boot_part", "b"}}));
  EXPECT_EQ(Vars(), (EnvVars{{"boot_part", "b"}}));
}

}  // namespace
}  // namespace aloft::agent::slots::uboot
