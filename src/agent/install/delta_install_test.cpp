// Installing by delta: the patch streams from the download through PatchApplier into the
// inactive slot, reading the running slot mapped read-only; the slot is then checked against
// the full image's signed digest. A wrong base is refused before the target slot is opened.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "agent/install/chunked_source_for_tests.hpp"
#include "agent/install/installer.hpp"
#include "agent/install/mapped_image.hpp"
#include "agent/install/plan.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::install {
namespace {

namespace posix = platform::posix;
using slots::SlotId;

// A structured image: repeated records with a counter, so versions share most bytes.
Bytes Image(std::size_t records, std::uint32_t version) {
  Bytes out;
  for (std::size_t i = 0; i < records; ++i) {
    const std::string line = "record " + std::to_string(i) + " of image v" +
                             std::to_string(i % 97 == 0 ? version : 1) + "\n";
    out.insert(out.end(), line.begin(), line.end());
  }
  return out;
}

core::metadata::TargetFile TargetFor(ByteView artifact) {
  core::metadata::TargetFile target;
  target.length = static_cast<std::int64_t>(artifact.size());
  target.hashes["sha256"] = core::crypto::Sha256Hex(artifact);
  return target;
}

Bytes MakePatch(ByteView from, ByteView to) {
  core::io::BytesWriter out(std::size_t{64} << 20);
  EXPECT_TRUE(core::delta::CreatePatch(from, to, out));
  return out.bytes();
}

// The delta tests push the patch in 4093-byte pieces.
ArtifactSource SourceOf(const Bytes& data, bool* pulled = nullptr) {
  return ChunkedSource(data, 4093, pulled);
}

class DeltaInstallTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto boot = slots::SimulatedBootloader::Open(dir_ / "boot.json");
    ASSERT_TRUE(boot) << boot.error().ToString();
    boot_ = std::move(*boot);
    pair_.a = {SlotId::kA, slots::SlotKind::kFile, dir_ / "slot_a"};
    pair_.b = {SlotId::kB, slots::SlotKind::kFile, dir_ / "slot_b"};
    old_ = Image(20000, 1);
    new_ = Image(21000, 2);
    ASSERT_TRUE(posix::AtomicWriteFile(pair_.a.device, old_));  // running
    ASSERT_TRUE(posix::AtomicWriteFile(pair_.b.device, AsBytes("old b")));
    patch_ = MakePatch(old_, new_);
  }

  core::uptane::DeltaInfo Info() const {
    return {core::crypto::Sha256Hex(old_), static_cast<std::int64_t>(old_.size()), "os.img",
            core::crypto::Sha256Hex(new_), static_cast<std::int64_t>(new_.size())};
  }
  InstallPlan FullPlan() {
    auto plan = MakeInstallPlan(TargetFor(new_), std::nullopt, std::nullopt, pair_, SlotId::kA);
    EXPECT_TRUE(plan) << plan.error().ToString();
    return plan ? *plan : InstallPlan{};
  }
  InstallPlan DeltaPlan(const Bytes& patch) {
    auto plan = MakeDeltaInstallPlan(FullPlan(), TargetFor(patch), Info(), pair_, SlotId::kA);
    EXPECT_TRUE(plan) << plan.error().ToString();
    return plan ? *plan : InstallPlan{};
  }
  Bytes SlotB() {
    auto bytes = posix::ReadFile(pair_.b.device, 64 << 20);
    return bytes ? *bytes : Bytes{};
  }

  std::unique_ptr<slots::SimulatedBootloader> boot_;
  slots::SlotPair pair_;
  Bytes old_, new_, patch_;
};

TEST_F(DeltaInstallTest, AppliesThePatchFromTheRunningSlotIntoTheInactiveOne) {
  ASSERT_LT(patch_.size(), new_.size() / 10) << "a delta of similar images is small";
  const InstallPlan plan = DeltaPlan(patch_);
  EXPECT_EQ(plan.compression, Compression::kDelta);
  EXPECT_EQ(plan.target.id, SlotId::kB);
  EXPECT_EQ(plan.image_length, new_.size());
  Installer installer(*boot_);
  std::uint64_t last_artifact = 0;
  ASSERT_TRUE(installer.Run(plan, SourceOf(patch_), [&](std::uint64_t artifact, std::uint64_t) {
    last_artifact = artifact;
  }));
  EXPECT_EQ(SlotB(), new_);
  EXPECT_EQ(last_artifact, patch_.size());
  EXPECT_EQ(boot_->State()->primary, SlotId::kB) << "trial boot prepared";
  EXPECT_GT(Installer::BufferBytes(Compression::kDelta),
            Installer::BufferBytes(Compression::kNone));
}

TEST_F(DeltaInstallTest, WrongBaseIsRefusedBeforeTheTargetSlotIsTouched) {
  // The running slot no longer holds what the delta starts from (bit rot, a manual write).
  Bytes drifted = old_;
  drifted[drifted.size() / 2] ^= 0x01;
  ASSERT_TRUE(posix::AtomicWriteFile(pair_.a.device, drifted));
  const InstallPlan plan = DeltaPlan(patch_);
  bool pulled = false;
  Installer installer(*boot_);
  Status s = installer.Run(plan, SourceOf(patch_, &pulled));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(s.error().message().find("delta base"), std::string::npos) << s.error().message();
  EXPECT_FALSE(pulled) << "nothing is downloaded for a delta that cannot apply";
  EXPECT_EQ(SlotB(), ToBytes("old b")) << "target slot untouched";
  EXPECT_EQ(boot_->State()->primary, SlotId::kA);

  // A running slot shorter than the base: the same refusal.
  ASSERT_TRUE(posix::AtomicWriteFile(pair_.a.device, AsBytes("short")));
  s = installer.Run(plan, SourceOf(patch_, &pulled));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed);
  EXPECT_FALSE(pulled);
  EXPECT_EQ(SlotB(), ToBytes("old b"));
}

TEST_F(DeltaInstallTest, CorruptPatchNeverPreparesATrialBoot) {
  // Signed as is (the hashes match what is downloaded), but not a patch that yields the image.
  Bytes corrupt = patch_;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  Installer installer(*boot_);
  Status s = installer.Run(DeltaPlan(corrupt), SourceOf(corrupt));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed) << s.error().ToString();
  EXPECT_EQ(boot_->State()->primary, SlotId::kA);

  // Tampered on the way: the artifact's signed hash catches it.
  s = installer.Run(DeltaPlan(patch_), SourceOf(corrupt));
  ASSERT_FALSE(s);
  EXPECT_EQ(boot_->State()->primary, SlotId::kA);

  // A patch to another image, signed as producing ours: the slot check refuses it.
  const Bytes other = Image(21000, 3);
  const Bytes wrong_target = MakePatch(old_, other);
  s = installer.Run(DeltaPlan(wrong_target), SourceOf(wrong_target));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(boot_->State()->primary, SlotId::kA);
}

TEST_F(DeltaInstallTest, PlanRefusesADeltaToAnotherImage) {
  core::uptane::DeltaInfo info = Info();
  info.to_sha256 = core::crypto::Sha256Hex(ToBytes("another image"));
  auto plan = MakeDeltaInstallPlan(FullPlan(), TargetFor(patch_), info, pair_, SlotId::kA);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::kVerificationFailed);
  info = Info();
  info.to_length += 1;
  EXPECT_FALSE(MakeDeltaInstallPlan(FullPlan(), TargetFor(patch_), info, pair_, SlotId::kA));
  info = Info();
  info.from_sha256 = "zz";
  EXPECT_EQ(
      MakeDeltaInstallPlan(FullPlan(), TargetFor(patch_), info, pair_, SlotId::kA).error().code(),
      Errc::kInvalidArgument);
  info = Info();
  info.from_length = 0;
  EXPECT_FALSE(MakeDeltaInstallPlan(FullPlan(), TargetFor(patch_), info, pair_, SlotId::kA));
  core::metadata::TargetFile no_sha = TargetFor(patch_);
  no_sha.hashes = {{"sha512", std::string(128, 'a')}};
  EXPECT_FALSE(MakeDeltaInstallPlan(FullPlan(), no_sha, Info(), pair_, SlotId::kA));
  // The base is the booted slot, the target the other one.
  auto from_b = MakeDeltaInstallPlan(FullPlan(), TargetFor(patch_), Info(), pair_, SlotId::kB);
  ASSERT_TRUE(from_b);
  EXPECT_EQ(from_b->target.id, SlotId::kA);
  EXPECT_EQ(from_b->delta_base->slot.id, SlotId::kB);
}

TEST_F(DeltaInstallTest, MappedImageChecksLengthAndDigest) {
  auto mapped = MappedImage::MapVerified(pair_.a, old_.size(), core::crypto::Sha256(old_));
  ASSERT_TRUE(mapped) << mapped.error().ToString();
  EXPECT_TRUE(std::equal(mapped->bytes().begin(), mapped->bytes().end(), old_.begin()));
  auto prefix = MappedImage::Map(pair_.a, 10);
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->bytes().size(), 10u);
  EXPECT_EQ(MappedImage::Map(pair_.a, old_.size() + 1).error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(
      MappedImage::Map({SlotId::kA, slots::SlotKind::kFile, dir_ / "missing"}, 1).error().code(),
      Errc::kNotFound);
  EXPECT_EQ(
      MappedImage::MapVerified(pair_.a, old_.size(), core::crypto::Sha256(new_)).error().code(),
      Errc::kVerificationFailed);
  MappedImage moved = std::move(*mapped);
  EXPECT_EQ(moved.bytes().size(), old_.size());
}

}  // namespace
}  // namespace aloft::agent::install
