// The real aloft-agent binary, as the demo's shell loop drives it: check (exit 75) →
// simulate-reboot → check (committed) → status; an offline bundle; the daemon stopped by
// SIGTERM. Against the fake aloftd of the in-process tests, on 127.0.0.1.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "agent/client/fake_aloftd_test_fixture.hpp"
#include "agent/update/rebooters.hpp"
#include "platform/posix/files.hpp"
#include "testing/process.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::client {
namespace {

using testing::FakeAloftd;
using testing::MakeImage;
using testing::Release;
namespace posix = platform::posix;

class AgentCliTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    server_ = std::make_unique<FakeAloftd>(clock_);
    ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "director-root.json", server_->DirectorRoot()));
    ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "image-root.json", server_->ImageRoot()));
    ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "slot-a.img", AsBytes("factory image")));
    const std::string d = dir_.string();
    std::ofstream(dir_ / "agent.toml") << R"(server_url = ")" << server_->url() << R"("
allow_insecure_loopback = true
device_id = "dev-1"
hardware_id = "rpi4"
data_dir = ")" << d << R"(/agent"
director_root = ")" << d << R"(/director-root.json"
image_root = ")" << d << R"(/image-root.json"
tags = ["demo"]
[slots.a]
device = ")" << d << R"(/slot-a.img"
kind = "file"
[slots.b]
device = ")" << d << R"(/slot-b.img"
kind = "file"
[bootloader]
kind = "simulated"
env = ")" << d << R"(/boot.json"
[download]
retry_initial_seconds = 1
[[health_checks]]
command = ["/bin/sh", "-c", "test \"$(head -c 7 \"$ALOFT_SLOT_PATH\")\" = healthy"]
timeout_seconds = 10
)";
    v2_.image = MakeImage("healthy", 300 * 1000, 1);
  }

  aloft::testing::ProcessResult Agent(std::vector<std::string> args) {
    std::vector<std::string> argv{(aloft::testing::BinDir() / "aloft-agent").string(), "-c",
                                  (dir_ / "agent.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto run = aloft::testing::RunProcess(argv, std::chrono::seconds(60));
    EXPECT_TRUE(run) << run.error().ToString();
    return run ? *run : aloft::testing::ProcessResult{};
  }

  aloft::testing::FakeClock clock_{aloft::testing::RepoBuilder::DefaultNow()};
  std::unique_ptr<FakeAloftd> server_;
  Release v2_;
};

// gnutls_init_skip.cpp: GnuTLS, which Debian's libcurl4 loads for protocols the agent never
// uses, must not initialise itself in the agent. With GNUTLS_DEBUG_LEVEL set, its
// initialisation announces itself on stderr ("gnutls[2]: Enabled GnuTLS ... logging").
TEST_F(AgentCliTest, GnuTlsIsNotInitialisedOnLoad) {
  auto run =
      aloft::testing::RunProcess({"/usr/bin/env", "GNUTLS_DEBUG_LEVEL=3",
                                  (aloft::testing::BinDir() / "aloft-agent").string(), "--help"});
  ASSERT_TRUE(run) << run.error().ToString();
  EXPECT_EQ(run->exit_code, 0) << run->output;
  EXPECT_EQ(run->output.find("gnutls["), std::string::npos) << run->output;
}

TEST_F(AgentCliTest, DemoLoopUpdateRebootCommit) {
  auto status = Agent({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("\"updateState\": \"idle\""), std::string::npos) << status.output;

  auto idle = Agent({"check"});
  EXPECT_EQ(idle.exit_code, 0) << idle.output;
  EXPECT_NE(idle.output.find("up-to-date"), std::string::npos) << idle.output;

  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  auto installed = Agent({"check", "--json"});
  EXPECT_EQ(installed.exit_code, update::kExitRebootRequested) << installed.output;
  EXPECT_NE(installed.output.find("\"outcome\": \"reboot-requested\""), std::string::npos)
      << installed.output;

  auto reboot = Agent({"simulate-reboot"});
  EXPECT_EQ(reboot.exit_code, 0) << reboot.output;
  EXPECT_NE(reboot.output.find("booted slot b on trial"), std::string::npos) << reboot.output;

  auto committed = Agent({"check"});
  EXPECT_EQ(committed.exit_code, 0) << committed.output;
  EXPECT_NE(committed.output.find("committed: committed version 2.0 in slot b"), std::string::npos)
      << committed.output;

  status = Agent({"status", "--json"});
  EXPECT_NE(status.output.find("\"imageVersion\": \"2.0\""), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("\"updateState\": \"committed\""), std::string::npos);
  EXPECT_NE(status.output.find("\"bootedSlot\": \"b\""), std::string::npos);
  EXPECT_NE(status.output.find("\"pendingReports\": 0"), std::string::npos);
  EXPECT_EQ(status.output.find("PRIVATE"), std::string::npos) << "no key material";

  auto nothing = Agent({"commit"});
  EXPECT_EQ(nothing.exit_code, 1) << nothing.output;
  EXPECT_NE(nothing.output.find("nothing to commit"), std::string::npos) << nothing.output;
}

TEST_F(AgentCliTest, OfflineInstallRollbackDaemonAndAHungSlot) {
  server_->ReleaseImage(v2_);
  const auto stick = dir_ / "stick";
  std::filesystem::create_directories(stick / "metadata");
  std::filesystem::create_directories(stick / "targets");
  ASSERT_TRUE(posix::AtomicWriteFile(stick / "bundle.json",
                                     AsBytes(R"({"format": 1, "target": ")" + v2_.path + "\"}")));
  for (const auto& [name, bytes] : server_->image_repo().Files()) {
    if (name.starts_with("metadata/")) {
      ASSERT_TRUE(posix::AtomicWriteFile(stick / name, bytes));
    }
  }
  const Bytes artifact = v2_.Artifact();
  ASSERT_TRUE(posix::AtomicWriteFile(
      stick / "targets" / (core::crypto::Sha256Hex(artifact) + "." + v2_.path), artifact));

  auto installed = Agent({"install", stick.string()});
  EXPECT_EQ(installed.exit_code, update::kExitRebootRequested) << installed.output;
  auto cancelled = Agent({"rollback"});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.output;
  EXPECT_NE(cancelled.output.find("rolled-back"), std::string::npos) << cancelled.output;

  Release foreign = v2_;
  foreign.hardware_ids = {"rpi3"};
  server_->ReleaseImage(foreign);
  for (const auto& [name, bytes] : server_->image_repo().Files()) {
    if (name.starts_with("metadata/")) {
      ASSERT_TRUE(posix::AtomicWriteFile(stick / name, bytes));
    }
  }
  auto refused = Agent({"install", stick.string()});
  EXPECT_EQ(refused.exit_code, 3) << refused.output;

  // The daemon runs until SIGTERM and then exits 0.
  auto daemon =
      aloft::testing::RunProcess({"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "1",
                                  (aloft::testing::BinDir() / "aloft-agent").string(), "-c",
                                  (dir_ / "agent.toml").string(), "daemon"},
                                 std::chrono::seconds(30));
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->exit_code, 0) << daemon->output;
  EXPECT_NE(daemon->output.find("daemon started"), std::string::npos) << daemon->output;
  EXPECT_NE(daemon->output.find("stopped"), std::string::npos) << daemon->output;

  // A slot that hangs: simulate-reboot says so (exit 6) and the watchdog plays on.
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-9");
  EXPECT_EQ(Agent({"check"}).exit_code, update::kExitRebootRequested);
  auto broken = posix::ReadFile(dir_ / "boot.json", 1 << 16);
  ASSERT_TRUE(broken);
  std::string text = ToString(*broken);
  text.replace(text.find("\"broken\": []"), 12, "\"broken\": [\"b\"]");
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "boot.json", AsBytes(text), 0600));
  auto hung = Agent({"simulate-reboot"});
  EXPECT_EQ(hung.exit_code, 6) << hung.output;
  EXPECT_NE(hung.output.find("hung"), std::string::npos) << hung.output;
}

}  // namespace
}  // namespace aloft::agent::client
