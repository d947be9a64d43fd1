#include "agent/update/update_record.hpp"

#include <gtest/gtest.h>

#include <string>

#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::update {
namespace {

namespace posix = platform::posix;
using testing::TempDirTest;

UpdateRecord SampleRecord() {
  UpdateRecord record;
  record.state = State::kVerifying;
  record.deployment_id = "dep-42";
  record.target_path = "rootfs/v2.img";
  record.image_sha256 = std::string(64, 'a');
  record.image_length = 123456;
  record.image_version = "2.0.0";
  record.security_counter = 7;
  record.target_slot = slots::SlotId::kB;
  record.previous_slot = slots::SlotId::kA;
  record.attempt = 2;
  record.last_error = "none yet";
  record.log_tail = "line 1\nline 2\n";
  record.reported = false;
  record.started_at = Timestamp(std::chrono::seconds(1'700'000'000));
  record.updated_at = Timestamp(std::chrono::seconds(1'700'000'100));
  record.installed = InstalledImage{std::string(64, 'b'), "1.0.0", 3};
  return record;
}

using UpdateRecordTest = TempDirTest;

TEST_F(UpdateRecordTest, StateNamesRoundTrip) {
  for (State s :
       {State::kIdle, State::kInstalling, State::kInstalled, State::kRebooting, State::kVerifying,
        State::kCommitting, State::kCommitted, State::kRolledBack, State::kFailed}) {
    auto parsed = ParseState(StateName(s));
    ASSERT_TRUE(parsed) << StateName(s);
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_FALSE(ParseState("downloading"));
}

TEST_F(UpdateRecordTest, MissingFileIsIdle) {
  UpdateRecordFile file(dir_);
  auto loaded = file.Load();
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(*loaded, UpdateRecord{});
  EXPECT_EQ(loaded->state, State::kIdle);
}

TEST_F(UpdateRecordTest, SaveLoadRoundTrip) {
  UpdateRecordFile file(dir_);
  const UpdateRecord record = SampleRecord();
  ASSERT_TRUE(file.Save(record));
  auto loaded = file.Load();
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(*loaded, record);
  // Only the record itself: no temporary file left behind.
  EXPECT_EQ(Entries(), std::vector<std::string>{"update-state.json"});
}

TEST_F(UpdateRecordTest, HookSeesEveryWriteBeforeAndAfter) {
  UpdateRecordFile file(dir_);
  std::vector<std::string> seen;
  file.SetWriteHookForTest([&](UpdateRecordFile::WritePoint point, const UpdateRecord& r) {
    const bool on_disk = std::filesystem::exists(file.path());
    seen.push_back(
        std::string(point == UpdateRecordFile::WritePoint::kBeforeWrite ? "before" : "after") +
        ":" + std::string(StateName(r.state)) + ":" + (on_disk ? "1" : "0"));
  });
  ASSERT_TRUE(file.Save(SampleRecord()));
  EXPECT_EQ(seen, (std::vector<std::string>{"before:verifying:0", "after:verifying:1"}));
}

class CorruptRecordTest : public TempDirTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(CorruptRecordTest, IsCorruptNotIdle) {
  UpdateRecordFile file(dir_);
  ASSERT_TRUE(posix::AtomicWriteFile(file.path(), AsBytes(GetParam())));
  auto loaded = file.Load();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::kCorrupt) << loaded.error().ToString();
}

std::string Mutated(std::string_view key, core::codec::Json value) {
  core::codec::Json json = ToJson(SampleRecord());
  if (value.IsNull()) {
    json.AsObject().erase(std::string(key));
  } else {
    json[key] = std::move(value);
  }
  return core::codec::DumpJson(json);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CorruptRecordTest,
    ::testing::Values(std::string(""), std::string("{"), std::string("[]"),
                      std::string("{\"state\":\"idle\"}"),  // missing members
                      // a torn write would look like this: the first half of a record
                      core::codec::DumpJson(ToJson(SampleRecord())).substr(0, 100),
                      Mutated("state", "downloading"), Mutated("state", 3),
                      Mutated("target_slot", "c"), Mutated("previous_slot", "b"),
                      Mutated("image_length", -1), Mutated("attempt", "2"),
                      Mutated("reported", "yes"), Mutated("started_at", "yesterday"),
                      Mutated("format", 2), Mutated("surprise", 1), Mutated("installed", 1),
                      Mutated("log_tail", std::string(kMaxLogTailBytes + 1, 'x')),
                      Mutated("deployment_id", core::codec::Json())));

}  // namespace
}  // namespace aloft::agent::update
