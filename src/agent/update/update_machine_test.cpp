#include "agent/update/update_machine.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/slots/simulated_bootloader.hpp"
#include "platform/posix/files.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::update {
namespace {

using slots::SlotId;
using testing::TempDirTest;

class MemoryReportSink final : public ReportSink {
 public:
  Status Enqueue(const core::wire::Report& report) override {
    if (fail_next_) {
      fail_next_ = false;
      return Fail(Errc::kIo, "outbox unavailable");
    }
    reports.push_back(report);
    return Ok();
  }
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids;
    for (const auto& r : reports) ids.push_back(r.id);
    return ids;
  }
  std::vector<core::wire::Report> reports;
  bool fail_next_ = false;
};

class FakeHealthChecker final : public HealthChecker {
 public:
  HealthOutcome Run() override {
    ++runs;
    if (healthy) return {Ok(), "all good\n"};
    return {Fail(Errc::kVerificationFailed, "/usr/bin/check-app exited with status 3"),
            "app: cannot open /data/db\nexit 3\n"};
  }
  bool healthy = true;
  int runs = 0;
};

class FakeRebooter final : public Rebooter {
 public:
  Status Reboot() override {
    ++requests;
    return Ok();
  }
  int requests = 0;
};

class UpdateMachineTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto boot = slots::SimulatedBootloader::Open(dir_ / "boot.json");
    ASSERT_TRUE(boot) << boot.error().ToString();
    boot_ = std::move(*boot);
    records_ = std::make_unique<UpdateRecordFile>(dir_);
    Reopen();
  }

  // A new agent process: everything it knows comes from disk.
  void Reopen() {
    machine_.reset();
    auto machine = UpdateMachine::Open(
        UpdateMachine::Deps{*records_, *boot_, sink_, health_, rebooter_, clock_});
    ASSERT_TRUE(machine) << machine.error().ToString();
    machine_.emplace(std::move(*machine));
  }

  UpdateRequest Request() const {
    UpdateRequest request;
    request.deployment_id = "dep1";
    request.target_path = "rootfs-2.0.img";
    request.image_sha256 = std::string(64, 'c');
    request.image_length = 4096;
    request.image_version = "2.0";
    request.security_counter = 5;
    request.target_slot = SlotId::kB;
    request.previous_slot = SlotId::kA;
    return request;
  }

  // The installer's observable effect on the bootloader.
  InstallFn GoodInstall() {
    return [this] { return boot_->PrepareTrialBoot(SlotId::kB); };
  }

  slots::RebootOutcome Reboot() {
    auto outcome = boot_->SimulateReboot();
    EXPECT_TRUE(outcome) << outcome.error().ToString();
    return outcome ? *outcome : slots::RebootOutcome{};
  }

  slots::BootState BootState() {
    auto state = boot_->State();
    EXPECT_TRUE(state) << state.error().ToString();
    return state ? *state : slots::BootState{};
  }

  State OnDisk() {
    auto record = records_->Load();
    EXPECT_TRUE(record) << record.error().ToString();
    return record ? record->state : State::kIdle;
  }

  std::unique_ptr<slots::SimulatedBootloader> boot_;
  std::unique_ptr<UpdateRecordFile> records_;
  MemoryReportSink sink_;
  FakeHealthChecker health_;
  FakeRebooter rebooter_;
  aloft::testing::FakeClock clock_;
  std::optional<UpdateMachine> machine_;
};

TEST_F(UpdateMachineTest, HappyPathCommitsAndRecordsTheInstalledImage) {
  ASSERT_TRUE(machine_->Update(Request(), GoodInstall()));
  EXPECT_EQ(machine_->record().state, State::kRebooting);
  EXPECT_EQ(OnDisk(), State::kRebooting);
  EXPECT_EQ(rebooter_.requests, 1);

  EXPECT_EQ(Reboot().booted, SlotId::kB);
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  EXPECT_EQ(machine_->record().state, State::kCommitted);
  EXPECT_EQ(OnDisk(), State::kCommitted);
  EXPECT_EQ(health_.runs, 1);
  EXPECT_EQ(BootState(), (slots::BootState{SlotId::kB, SlotId::kB, false, 0, 3}));
  EXPECT_EQ(machine_->record().installed, (InstalledImage{std::string(64, 'c'), "2.0", 5}));
  EXPECT_EQ(sink_.Ids(),
            (std::vector<std::string>{"dep1-installing-1", "dep1-installed-1", "dep1-rebooting-1",
                                      "dep1-verifying-1", "dep1-committed-1"}));
  EXPECT_EQ(sink_.reports.back().state, core::wire::UpdateState::kSucceeded);

  // Later boots: nothing to do, nothing re-sent.
  Reboot();
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  EXPECT_EQ(sink_.reports.size(), 5U);
  EXPECT_EQ(rebooter_.requests, 1);

  // The next deployment starts from the committed record and keeps the installed image.
  UpdateRequest next = Request();
  next.deployment_id = "dep2";
  next.target_slot = SlotId::kA;
  next.previous_slot = SlotId::kB;
  ASSERT_TRUE(machine_->Update(next, [this] { return boot_->PrepareTrialBoot(SlotId::kA); }));
  EXPECT_EQ(machine_->record().attempt, 1);
  EXPECT_EQ(machine_->record().installed.security_counter, 5);
}

TEST_F(UpdateMachineTest, HealthFailureRollsBackMarksBadAndReboots) {
  health_.healthy = false;
  ASSERT_TRUE(machine_->Update(Request(), GoodInstall()));
  Reboot();
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  EXPECT_EQ(machine_->record().state, State::kRolledBack);
  EXPECT_EQ(rebooter_.requests, 2);  // into the trial, and back out of it
  const slots::BootState state = BootState();
  EXPECT_EQ(state.booted, SlotId::kB);
  EXPECT_EQ(state.primary, SlotId::kA);  // MarkBad(b)
  EXPECT_FALSE(state.trial);
  const core::wire::Report& report = sink_.reports.back();
  EXPECT_EQ(report.id, "dep1-rolled-back-1");
  EXPECT_EQ(report.state, core::wire::UpdateState::kRolledBack);
  EXPECT_NE(report.message.find("exited with status 3"), std::string::npos) << report.message;
  EXPECT_EQ(report.log_tail, "app: cannot open /data/db\nexit 3\n");
  EXPECT_EQ(machine_->record().installed, InstalledImage{});  // nothing committed

  // The requested reboot lands on the old slot; resuming there changes nothing.
  EXPECT_EQ(Reboot().booted, SlotId::kA);
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  EXPECT_EQ(machine_->record().state, State::kRolledBack);
  EXPECT_EQ(rebooter_.requests, 2);
  EXPECT_EQ(sink_.reports.size(), 5U);
}

TEST_F(UpdateMachineTest, BootloaderFallbackIsReportedAsRolledBack) {
  ASSERT_TRUE(boot_->SetBrokenForTest(SlotId::kB, true));
  ASSERT_TRUE(machine_->Update(Request(), GoodInstall()));
  // b hangs; the watchdog resets until the boot limit runs out and U-Boot boots a.
  slots::RebootOutcome outcome;
  int boots = 0;
  do {
    outcome = Reboot();
    ++boots;
  } while (!outcome.came_up && boots < 10);
  EXPECT_TRUE(outcome.fell_back);
  EXPECT_EQ(outcome.booted, SlotId::kA);
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  EXPECT_EQ(machine_->record().state, State::kRolledBack);
  EXPECT_EQ(health_.runs, 0);
  EXPECT_EQ(rebooter_.requests, 1);  // already on the old slot: no second reboot
  EXPECT_EQ(sink_.reports.back().id, "dep1-rolled-back-1");
  EXPECT_NE(sink_.reports.back().message.find("fell back"), std::string::npos);
  EXPECT_EQ(BootState().primary, SlotId::kA);
}

TEST_F(UpdateMachineTest, InstallFailureIsReportedAndLeavesTheBootloaderAlone) {
  const slots::BootState before = BootState();
  Status result = machine_->Update(
      Request(), [] { return Status(Fail(Errc::kVerificationFailed, "verify slot: mismatch")); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(machine_->record().state, State::kFailed);
  EXPECT_EQ(BootState(), before);
  EXPECT_EQ(rebooter_.requests, 0);
  EXPECT_EQ(sink_.Ids(), (std::vector<std::string>{"dep1-installing-1", "dep1-failed-1"}));
  EXPECT_EQ(sink_.reports.back().message, "verify slot: mismatch");

  // A retry of the same deployment is attempt 2, with fresh report ids.
  ASSERT_TRUE(machine_->Update(Request(), GoodInstall()));
  EXPECT_EQ(sink_.reports.back().id, "dep1-rebooting-2");
}

TEST_F(UpdateMachineTest, InterruptedInstallFailsOnResume) {
  machine_->SetRequestForTest(Request());
  ASSERT_TRUE(machine_->Fire(Event::kStart));
  // Power cut mid-write (the bootloader may even have been prepared at the very end).
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  Reboot();  // boots b on trial
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  EXPECT_EQ(machine_->record().state, State::kFailed);
  EXPECT_NE(machine_->record().last_error.find("interrupted"), std::string::npos);
  EXPECT_EQ(BootState().primary, SlotId::kA);
  EXPECT_EQ(rebooter_.requests,
            1);  // b runs, but the update was never recorded as installed: back to a
  EXPECT_EQ(Reboot().booted, SlotId::kA);
}

TEST_F(UpdateMachineTest, UnexpectedEventIsAnInternalErrorAndWritesNothing) {
  Status result = machine_->Fire(Event::kHealthOk);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kInternal);
  EXPECT_FALSE(std::filesystem::exists(records_->path()));

  ASSERT_TRUE(machine_->Update(Request(), GoodInstall()));
  const auto before = records_->Load();
  ASSERT_TRUE(before);
  for (Event event : {Event::kStart, Event::kInstallSucceeded, Event::kHealthOk,
                      Event::kHealthFailed, Event::kCommitDone}) {
    result = machine_->Fire(event);
    ASSERT_FALSE(result) << EventName(event);
    EXPECT_EQ(result.error().code(), Errc::kInternal);
  }
  EXPECT_EQ(*records_->Load(), *before);
  EXPECT_EQ(machine_->record(), *before);
}

TEST_F(UpdateMachineTest, ReportThatFailedIsReEnqueuedOnResumeWithTheSameId) {
  sink_.fail_next_ = true;
  machine_->SetRequestForTest(Request());
  ASSERT_FALSE(machine_->Fire(Event::kStart));
  EXPECT_EQ(OnDisk(), State::kInstalling);  // the state was persisted before the report
  EXPECT_FALSE(records_->Load()->reported);
  Reopen();
  ASSERT_TRUE(machine_->Resume());
  ASSERT_GE(sink_.reports.size(), 1U);
  EXPECT_EQ(sink_.reports.front().id, "dep1-installing-1");
}

TEST_F(UpdateMachineTest, CorruptRecordIsFailStop) {
  ASSERT_TRUE(platform::posix::AtomicWriteFile(records_->path(), AsBytes("{\"state\":")));
  auto machine = UpdateMachine::Open(
      UpdateMachine::Deps{*records_, *boot_, sink_, health_, rebooter_, clock_});
  ASSERT_FALSE(machine);
  EXPECT_EQ(machine.error().code(), Errc::kCorrupt);
}

}  // namespace
}  // namespace aloft::agent::update
