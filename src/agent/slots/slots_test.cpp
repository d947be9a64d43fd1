#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fcntl.h>

#include <csignal>
#include <cstring>
#include <vector>
#include <string>

#include "agent/slots/env_bootloader.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/slots/slot_writer.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::slots {
namespace {

namespace posix = platform::posix;
using testing::TempDirTest;

class SimulatedBootloaderTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = dir_ / "boot.json";
    auto opened = SimulatedBootloader::Open(path_);
    ASSERT_TRUE(opened) << opened.error().ToString();
    boot_ = std::move(*opened);
  }

  BootState StateOrDie() {
    auto state = boot_->State();
    EXPECT_TRUE(state) << state.error().ToString();
    return state ? *state : BootState{};
  }

  RebootOutcome Reboot() {
    auto outcome = boot_->SimulateReboot();
    EXPECT_TRUE(outcome) << outcome.error().ToString();
    return outcome ? *outcome : RebootOutcome{};
  }

  std::filesystem::path path_;
  std::unique_ptr<SimulatedBootloader> boot_;
};

TEST_F(SimulatedBootloaderTest, FreshStateBootsSlotAWithoutTrial) {
  const BootState state = StateOrDie();
  EXPECT_EQ(state.booted, SlotId::kA);
  EXPECT_EQ(state.primary, SlotId::kA);
  EXPECT_FALSE(state.trial);
  EXPECT_EQ(state.boot_limit, 3);
  const RebootOutcome outcome = Reboot();
  EXPECT_EQ(outcome.booted, SlotId::kA);
  EXPECT_TRUE(outcome.came_up);
  EXPECT_FALSE(outcome.fell_back);
  EXPECT_EQ(*boot_->LastBootForTest(), LastBoot::kNormal);
}

TEST_F(SimulatedBootloaderTest, TrialBootThenMarkGoodCommitsNewSlot) {
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  BootState state = StateOrDie();
  EXPECT_TRUE(state.TrialPending());
  EXPECT_FALSE(state.IsTrialBoot());
  EXPECT_EQ(state.booted, SlotId::kA);
  EXPECT_EQ(state.primary, SlotId::kB);

  const RebootOutcome outcome = Reboot();
  EXPECT_EQ(outcome.booted, SlotId::kB);
  EXPECT_TRUE(outcome.came_up);
  EXPECT_FALSE(outcome.fell_back);
  state = StateOrDie();
  EXPECT_TRUE(state.IsTrialBoot());
  EXPECT_EQ(state.boot_count, 1);
  EXPECT_EQ(*boot_->LastBootForTest(), LastBoot::kTrial);

  ASSERT_TRUE(boot_->MarkGood());
  state = StateOrDie();
  EXPECT_EQ(state, (BootState{SlotId::kB, SlotId::kB, false, 0, 3}));
  // Committed: further reboots stay on b and count nothing.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Reboot().booted, SlotId::kB);
  EXPECT_EQ(StateOrDie().boot_count, 0);
}

TEST_F(SimulatedBootloaderTest, BrokenSlotFallsBackAfterBootLimit) {
  ASSERT_TRUE(boot_->SetBrokenForTest(SlotId::kB, true));
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  // bootlimit = 3: three boots of b (each hangs, the watchdog resets), the fourth goes to a.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const RebootOutcome outcome = Reboot();
    EXPECT_EQ(outcome.booted, SlotId::kB) << attempt;
    EXPECT_FALSE(outcome.came_up) << attempt;
    EXPECT_FALSE(outcome.fell_back) << attempt;
    EXPECT_EQ(StateOrDie().boot_count, attempt);
  }
  const RebootOutcome outcome = Reboot();
  EXPECT_EQ(outcome.booted, SlotId::kA);
  EXPECT_TRUE(outcome.came_up);
  EXPECT_TRUE(outcome.fell_back);
  EXPECT_EQ(*boot_->LastBootForTest(), LastBoot::kFellBack);
  // What the agent sees after the fallback: old slot, no trial.
  const BootState state = StateOrDie();
  EXPECT_EQ(state.booted, SlotId::kA);
  EXPECT_EQ(state.primary, SlotId::kA);
  EXPECT_FALSE(state.trial);
  // And it stays there.
  EXPECT_EQ(Reboot().booted, SlotId::kA);
}

TEST_F(SimulatedBootloaderTest, MarkBadDuringTrialRollsBack) {
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  ASSERT_EQ(Reboot().booted, SlotId::kB);
  ASSERT_TRUE(StateOrDie().IsTrialBoot());
  ASSERT_TRUE(boot_->MarkBad(SlotId::kB));
  BootState state = StateOrDie();
  EXPECT_EQ(state.primary, SlotId::kA);
  EXPECT_FALSE(state.trial);
  EXPECT_EQ(Reboot().booted, SlotId::kA);
  // MarkBad is idempotent.
  ASSERT_TRUE(boot_->MarkBad(SlotId::kB));
  EXPECT_EQ(StateOrDie().primary, SlotId::kA);
}

TEST_F(SimulatedBootloaderTest, MarkBadCancelsPendingTrial) {
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  ASSERT_TRUE(boot_->MarkBad(SlotId::kB));
  EXPECT_FALSE(StateOrDie().trial);
  EXPECT_EQ(Reboot().booted, SlotId::kA);
}

TEST_F(SimulatedBootloaderTest, TrialOfRunningSlotRefused) {
  auto refused = boot_->PrepareTrialBoot(SlotId::kA);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument);
}

TEST_F(SimulatedBootloaderTest, MarkGoodWhenCommittedWritesNothing) {
  auto before = posix::ReadFile(path_, 1 << 16);
  ASSERT_TRUE(before);
  ASSERT_TRUE(std::filesystem::remove(path_));
  // The state file is gone: a write would recreate it; MarkGood must fail reading instead.
  ASSERT_FALSE(boot_->MarkGood());
  ASSERT_TRUE(posix::AtomicWriteFile(path_, *before));
  ASSERT_TRUE(boot_->MarkGood());
  EXPECT_EQ(*posix::ReadFile(path_, 1 << 16), *before);
}

TEST_F(SimulatedBootloaderTest, StateSurvivesReopening) {
  ASSERT_TRUE(boot_->PrepareTrialBoot(SlotId::kB));
  ASSERT_EQ(Reboot().booted, SlotId::kB);
  const BootState before = StateOrDie();
  boot_.reset();
  auto reopened = SimulatedBootloader::Open(path_);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  auto after = (*reopened)->State();
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, before);
  EXPECT_TRUE(after->IsTrialBoot());
}

TEST_F(SimulatedBootloaderTest, CorruptStateFileIsCorrupt) {
  for (const std::string text :
       {"{not json", "[]", R"({"booted":"c","env":{},"last_boot":"none","broken":[]})",
        R"({"booted":"a","env":{"boot_part":"x"},"last_boot":"none","broken":[]})",
        R"({"booted":"a","env":{"boot_part":"a","bootcount":"lots"},"last_boot":"none","broken":[]})",
        R"({"booted":"a","env":{"boot_part":"a","upgrade_available":"2"},"last_boot":"none","broken":[]})",
        R"({"booted":"a","env":{"boot_part":"a"},"last_boot":"?","broken":[]})"}) {
    ASSERT_TRUE(posix::AtomicWriteFile(path_, AsBytes(text)));
    auto opened = SimulatedBootloader::Open(path_);
    ASSERT_FALSE(opened) << text;
    EXPECT_EQ(opened.error().code(), Errc::kCorrupt) << text << ": " << opened.error().ToString();
    auto state = boot_->State();
    ASSERT_FALSE(state) << text;
    EXPECT_EQ(state.error().code(), Errc::kCorrupt) << text;
    EXPECT_FALSE(boot_->SimulateReboot()) << text;
  }
}

TEST(EnvSchemeTest, ValidateRejectsClashes) {
  EnvScheme scheme;
  EXPECT_TRUE(scheme.Validate());
  scheme.slot_b_value = "a";
  EXPECT_EQ(scheme.Validate().error().code(), Errc::kInvalidArgument);
  scheme = EnvScheme{};
  scheme.count_var = scheme.limit_var;
  EXPECT_FALSE(scheme.Validate());
  scheme = EnvScheme{};
  scheme.trial_var = "";
  EXPECT_FALSE(scheme.Validate());
}

TEST(BootedSlotTest, FromKernelCmdline) {
  EnvScheme scheme;
  scheme.slot_a_value = "2";
  scheme.slot_b_value = "3";
  EXPECT_EQ(*BootedSlotFromCmdline("console=ttyS0 aloft.slot=3 quiet\n", "aloft.slot", scheme),
            SlotId::kB);
  EXPECT_EQ(*BootedSlotFromCmdline("aloft.slot=2", "aloft.slot", scheme), SlotId::kA);
  EXPECT_EQ(BootedSlotFromCmdline("aloft.slotx=2 root=/dev/x", "aloft.slot", scheme)
                .error()
                .code(),
            Errc::kNotFound);
  EXPECT_EQ(BootedSlotFromCmdline("aloft.slot=4", "aloft.slot", scheme).error().code(),
            Errc::kCorrupt);
}

// --- SlotWriter -----------------------------------------------------------------------------

Bytes Pattern(std::size_t size) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>((i * 131) ^ (i >> 9));
  return out;
}

Status WriteInPieces(SlotWriter& writer, ByteView data, std::size_t piece) {
  while (!data.empty()) {
    const std::size_t n = std::min(piece, data.size());
    if (auto ok = writer.Write(data.first(n)); !ok) return ok;
    data = data.subspan(n);
  }
  return Ok();
}

using SlotWriterTest = TempDirTest;

TEST_F(SlotWriterTest, WritesFileSlotAndVerifies) {
  const Slot slot{SlotId::kB, SlotKind::kFile, dir_ / "slot_b"};
  // A longer old image must not survive past the new one's end.
  ASSERT_TRUE(posix::AtomicWriteFile(slot.device, Bytes(5 << 20, 0xEE)));
  const Bytes image = Pattern(SlotWriter::kChunkSize * 2 + 12345);
  auto writer = SlotWriter::Open(slot, SlotId::kA, image.size());
  ASSERT_TRUE(writer) << writer.error().ToString();
  ASSERT_TRUE(WriteInPieces(*writer, image, 7777));
  EXPECT_EQ(writer->written(), image.size());
  ASSERT_TRUE(writer->Finish());
  EXPECT_EQ(*posix::ReadFile(slot.device, 8 << 20), image);
  const Bytes digest = core::crypto::Sha256(image);
  EXPECT_TRUE(VerifySlot(slot, image.size(), digest));

  Bytes wrong = digest;
  wrong[0] ^= 1;
  EXPECT_EQ(VerifySlot(slot, image.size(), wrong).error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(VerifySlot(slot, image.size() + 1, digest).error().code(),
            Errc::kVerificationFailed);
}

TEST_F(SlotWriterTest, RefusesRunningSlot) {
  const Slot slot{SlotId::kA, SlotKind::kFile, dir_ / "slot_a"};
  auto writer = SlotWriter::Open(slot, SlotId::kA, 10);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(slot.device));
}

TEST_F(SlotWriterTest, StopsAtImageSize) {
  const Slot slot{SlotId::kB, SlotKind::kFile, dir_ / "slot_b"};
  auto writer = SlotWriter::Open(slot, SlotId::kA, 100);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write(Pattern(60)));
  EXPECT_EQ(writer->Write(Pattern(41)).error().code(), Errc::kTooLarge);
}

TEST_F(SlotWriterTest, RejectsWrongKinds) {
  auto dir_as_file = SlotWriter::Open({SlotId::kB, SlotKind::kFile, dir_}, SlotId::kA, 0);
  ASSERT_FALSE(dir_as_file);
  const auto file = dir_ / "regular";
  ASSERT_TRUE(posix::AtomicWriteFile(file, Pattern(10)));
  auto file_as_block = SlotWriter::Open({SlotId::kB, SlotKind::kBlockDevice, file}, SlotId::kA, 0);
  ASSERT_FALSE(file_as_block);
  EXPECT_EQ(file_as_block.error().code(), Errc::kInvalidArgument);
  auto missing = SlotWriter::Open({SlotId::kB, SlotKind::kBlockDevice, dir_ / "nope"}, SlotId::kA, 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

// A real write error mid-stream: the file-size limit makes pwrite fail with EFBIG.
TEST_F(SlotWriterTest, WriteErrorFailsCleanly) {
  const Slot slot{SlotId::kB, SlotKind::kFile, dir_ / "slot_b"};
  auto writer = SlotWriter::Open(slot, SlotId::kA, 0);
  ASSERT_TRUE(writer);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = old;
  limited.rlim_cur = SlotWriter::kChunkSize + 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  const Status written = WriteInPieces(*writer, Pattern(SlotWriter::kChunkSize * 3), 65536);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::kNoSpace) << written.error().ToString();
}


// An image that ends exactly on a chunk boundary, and an empty one: no read past the end is
// needed, and a short file is still caught.
TEST_F(SlotWriterTest, VerifiesImagesEndingOnAChunkBoundary) {
  const Slot slot{SlotId::kB, SlotKind::kFile, dir_ / "slot_b"};
  const Bytes image = Pattern(SlotWriter::kChunkSize * 2);
  auto writer = SlotWriter::Open(slot, SlotId::kA, image.size());
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write(image));
  ASSERT_TRUE(writer->Finish());
  EXPECT_TRUE(VerifySlot(slot, image.size(), core::crypto::Sha256(image)));
  EXPECT_TRUE(VerifySlot(slot, 0, core::crypto::Sha256(Bytes{})));
  EXPECT_TRUE(VerifySlot(slot, 100, core::crypto::Sha256(ByteView(image).first(100))));
  const Status longer = VerifySlot(slot, image.size() + SlotWriter::kChunkSize + 1,
                                   core::crypto::Sha256(image));
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(longer.error().message().find("holds " + std::to_string(image.size()) + " bytes"),
            std::string::npos)
      << longer.error().message();
}

}  // namespace
}  // namespace aloft::agent::slots
