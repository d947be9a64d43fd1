// The whole update loop in-process: the agent as main.cpp assembles it (AgentRuntime) against
// a fake aloftd on 127.0.0.1 (Director and Image repositories signed by RepoBuilder, targets,
// device API), the simulated bootloader and file slots. "A new agent process" is a new
// runtime over the same data directory; "a reboot" is SimulatedBootloader::SimulateReboot().

#include "agent/client/update_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/bundle/bundle_reader.hpp"
#include "agent/client/agent_runtime.hpp"
#include "agent/client/daemon.hpp"
#include "agent/client/fake_aloftd_test_fixture.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/update/rebooters.hpp"
#include "agent/update/update_record.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::client {
namespace {

using namespace std::chrono_literals;
using slots::SlotId;
using testing::FakeAloftd;
using testing::MakeImage;
using testing::Release;
namespace posix = platform::posix;
namespace wire = core::wire;

constexpr std::size_t kImageBytes = 600 * 1000;

// An uncompressed ustar archive, as `tar -cf` writes one (names of up to 100 bytes, or a
// prefix/name split at a '/').
class TarWriter {
 public:
  void Add(const std::string& path, ByteView data) {
    std::array<char, 512> h{};
    std::string name = path;
    std::string prefix;
    if (name.size() > 100) {
      const std::size_t slash = name.rfind('/', name.size() - 1);
      prefix = name.substr(0, slash);
      name = name.substr(slash + 1);
    }
    std::copy(name.begin(), name.end(), h.begin());
    std::snprintf(&h[100], 8, "%07o", 0644u);
    std::snprintf(&h[108], 8, "%07o", 0u);
    std::snprintf(&h[116], 8, "%07o", 0u);
    std::snprintf(&h[124], 12, "%011llo", static_cast<unsigned long long>(data.size()));
    std::snprintf(&h[136], 12, "%011o", 0u);
    h[156] = '0';
    std::memcpy(&h[257], "ustar", 6);
    h[263] = '0';
    h[264] = '0';
    std::copy(prefix.begin(), prefix.end(), h.begin() + 345);
    std::fill(h.begin() + 148, h.begin() + 156, ' ');
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    std::snprintf(&h[148], 8, "%06o", sum);
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), data.begin(), data.end());
    out.resize((out.size() + 511) / 512 * 512, 0);
  }
  Bytes Finish() {
    out.resize(out.size() + 1024, 0);
    return out;
  }
  Bytes out;
};

class UpdateClientTest : public aloft::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    clock_.Set(aloft::testing::RepoBuilder::DefaultNow() + std::chrono::hours(1));
    server_ = std::make_unique<FakeAloftd>(clock_);
    auto device = testing::PrepareDevice(*server_, dir_);
    ASSERT_TRUE(device) << device.error().ToString();
    config_ = std::move(*device);
    config_.attributes = {{"tags", "canary"}};
    config_.download.retries = 2;
    config_.download.progress_interval = 0s;
    // The demo's health check: the image must start with "healthy", and the agent must say
    // which slot and version it judges.
    config_.health_checks.push_back(
        {{"/bin/sh", "-c",
          "echo \"checking slot $ALOFT_SLOT version $ALOFT_IMAGE_VERSION\"; "
          "test -n \"$ALOFT_IMAGE_VERSION\" && test \"$(head -c 7 \"$ALOFT_SLOT_PATH\")\" = "
          "healthy"},
         10s});
    auto boot = slots::SimulatedBootloader::Open(config_.bootloader.env);
    ASSERT_TRUE(boot) << boot.error().ToString();
    boot_ = std::move(*boot);

    v2_.image = MakeImage("healthy", kImageBytes, 1);
  }

  // A new agent process over the same data directory.
  std::unique_ptr<AgentRuntime> Agent() {
    RuntimeOptions options;
    options.clock = &clock_;
    options.sleep = [this](std::chrono::milliseconds d) {
      sleeps_.push_back(d);
      clock_.Advance(d);
      return true;
    };
    options.log = [this](std::string_view line) { log_.emplace_back(line); };
    auto runtime = AgentRuntime::Create(config_, std::move(options));
    EXPECT_TRUE(runtime) << runtime.error().ToString();
    return runtime ? std::move(*runtime) : nullptr;
  }

  // What `aloft-agent check` does: Start(), then one poll unless a reboot is pending.
  CheckResult Check(AgentRuntime& agent) {
    auto started = agent.client().Start();
    EXPECT_TRUE(started) << started.error().ToString();
    if (started && *started && (*started)->outcome == Outcome::kRebootRequested) {
      return **started;
    }
    auto checked = agent.client().CheckOnce();
    EXPECT_TRUE(checked) << checked.error().ToString();
    return checked ? *checked : CheckResult{};
  }
  CheckResult CheckFresh() { return Check(*Agent()); }

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
  Bytes FileBytes(const std::filesystem::path& path) {
    auto bytes = posix::ReadFile(path, 64 << 20);
    return bytes ? *bytes : Bytes{};
  }
  update::UpdateRecord Record() {
    auto record = update::UpdateRecordFile(config_.data_dir).Load();
    EXPECT_TRUE(record) << record.error().ToString();
    return record ? *record : update::UpdateRecord{};
  }
  std::vector<wire::UpdateState> ReportStates() {
    std::vector<wire::UpdateState> states;
    for (const auto& r : server_->reports()) {
      if (states.empty() || states.back() != r.state) states.push_back(r.state);
    }
    return states;
  }
  bool HasReport(const std::string& id) {
    const auto ids = server_->ReportIds();
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  // Installs v2 and reboots into its trial.
  void InstallAndReboot(const Release& release, const std::string& deployment) {
    server_->ReleaseImage(release);
    server_->Assign(release, deployment);
    CheckResult installed = CheckFresh();
    ASSERT_EQ(installed.outcome, Outcome::kRebootRequested) << installed.message;
    ASSERT_EQ(Reboot().booted, SlotId::kB);
  }

  // The offline bundle of `release` (already released): name → bytes, as laid out on a stick.
  std::map<std::string, Bytes> BundleFiles(const Release& release) {
    std::map<std::string, Bytes> files;
    files["bundle.json"] = ToBytes("{\"format\": 1, \"target\": \"" + release.path + "\"}");
    for (const auto& [name, bytes] : server_->image_repo().Files()) {
      if (name.starts_with("metadata/")) files[name] = bytes;
    }
    const Bytes artifact = release.Artifact();
    files["targets/" + core::crypto::Sha256Hex(artifact) + "." + release.path] = artifact;
    return files;
  }
  std::filesystem::path WriteBundleDir(const std::map<std::string, Bytes>& files) {
    const auto root = dir_ / "stick";
    for (const auto& [name, bytes] : files) {
      std::filesystem::create_directories((root / name).parent_path());
      EXPECT_TRUE(posix::AtomicWriteFile(root / name, bytes));
    }
    return root;
  }

  aloft::testing::FakeClock clock_;
  std::unique_ptr<FakeAloftd> server_;
  config::AgentConfig config_;
  std::unique_ptr<slots::SimulatedBootloader> boot_;
  Release v2_;
  std::vector<std::chrono::milliseconds> sleeps_;
  std::vector<std::string> log_;
};

TEST_F(UpdateClientTest, FullUpdateDownloadInstallRebootHealthCheckCommit) {
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  {
    auto agent = Agent();
    auto started = agent->client().Start();
    ASSERT_TRUE(started) << started.error().ToString();
    EXPECT_FALSE(*started) << "nothing to resume on a fresh device";
    auto checked = agent->client().CheckOnce();
    ASSERT_TRUE(checked) << checked.error().ToString();
    EXPECT_EQ(checked->outcome, Outcome::kRebootRequested) << checked->message;
    EXPECT_TRUE(agent->reboot_requested());
    EXPECT_TRUE(agent->reboot_is_exit()) << "simulated bootloader: the agent exits to reboot";
  }
  // The slot holds the image, the trial is prepared, the download spool is gone.
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
  EXPECT_EQ(BootState(), (slots::BootState{SlotId::kA, SlotId::kB, true, 0, 3}));
  EXPECT_FALSE(std::filesystem::exists(config_.data_dir / "downloads" /
                                       (core::crypto::Sha256Hex(v2_.Artifact()) + ".partial")));
  EXPECT_EQ(Record().state, update::State::kRebooting);

  EXPECT_EQ(Reboot().booted, SlotId::kB);
  {
    auto agent = Agent();
    auto started = agent->client().Start();
    ASSERT_TRUE(started) << started.error().ToString();
    ASSERT_TRUE(*started);
    EXPECT_EQ((*started)->outcome, Outcome::kCommitted) << (*started)->message;
    auto checked = agent->client().CheckOnce();
    ASSERT_TRUE(checked) << checked.error().ToString();
    EXPECT_EQ(checked->outcome, Outcome::kUpToDate) << checked->message;
  }
  EXPECT_EQ(BootState(), (slots::BootState{SlotId::kB, SlotId::kB, false, 0, 3}));
  const update::UpdateRecord record = Record();
  EXPECT_EQ(record.state, update::State::kCommitted);
  EXPECT_EQ(record.installed,
            (update::InstalledImage{core::crypto::Sha256Hex(v2_.image), "2.0", 5}));

  // The server heard every step, in order, each once; then the inventory of the new image.
  const std::vector<std::string> steps = {"dep-1-installing-1", "dep-1-installed-1",
                                          "dep-1-rebooting-1", "dep-1-verifying-1",
                                          "dep-1-committed-1"};
  std::vector<std::string> seen;
  for (const auto& id : server_->ReportIds()) {
    if (std::find(steps.begin(), steps.end(), id) != steps.end()) seen.push_back(id);
  }
  EXPECT_EQ(seen, steps);
  EXPECT_EQ(ReportStates(), (std::vector<wire::UpdateState>{
                                wire::UpdateState::kDownloading, wire::UpdateState::kInstalling,
                                wire::UpdateState::kRebooting, wire::UpdateState::kSucceeded}));
  int progress = 0;
  for (const auto& r : server_->reports()) {
    if (r.state == wire::UpdateState::kDownloading && r.bytes_done > 0) {
      ++progress;
      EXPECT_LT(r.bytes_done, r.bytes_total);
      EXPECT_EQ(r.bytes_total, static_cast<std::int64_t>(v2_.Artifact().size()));
    }
  }
  EXPECT_GT(progress, 0) << "progress reports while downloading";
  auto inventory = server_->inventory();
  ASSERT_TRUE(inventory);
  EXPECT_EQ(inventory->image_version, "2.0");
  EXPECT_EQ(inventory->image_sha256, core::crypto::Sha256Hex(v2_.image));
  EXPECT_EQ(inventory->security_counter, 5);
  EXPECT_EQ(inventory->hardware_id, "rpi4");
  EXPECT_EQ(inventory->attributes.at("tags"), "canary");
  EXPECT_FALSE(server_->update_available());

  // Both repositories were read with the device's token; the public artifact without it.
  int metadata = 0;
  for (const auto& r : server_->requests()) {
    if (r.path.starts_with("/api/v1/director/") || r.path.starts_with("/api/v1/image/")) {
      ++metadata;
      EXPECT_TRUE(r.authorized) << r.path;
    }
    if (r.path.starts_with("/api/v1/targets/")) {
      EXPECT_FALSE(r.authorized) << r.path;
    }
  }
  EXPECT_GT(metadata, 6);
  EXPECT_EQ(server_->CountRequests("/api/v1/targets/"), 1);
}

TEST_F(UpdateClientTest, FailedHealthCheckRollsBackAndIsNotRetried) {
  Release bad = v2_;
  bad.image = MakeImage("broken!", kImageBytes, 2);
  InstallAndReboot(bad, "dep-1");
  {
    auto agent = Agent();
    CheckResult r = Check(*agent);
    EXPECT_EQ(r.outcome, Outcome::kRebootRequested) << r.message;
    EXPECT_NE(r.message.find("rolling back"), std::string::npos) << r.message;
  }
  EXPECT_EQ(Record().state, update::State::kRolledBack);
  EXPECT_EQ(BootState().primary, SlotId::kA) << "the old slot boots next";
  EXPECT_FALSE(BootState().trial);
  EXPECT_EQ(Reboot().booted, SlotId::kA);

  CheckResult after = CheckFresh();
  EXPECT_EQ(after.outcome, Outcome::kUpToDate) << after.message;  // the server stopped offering
  const auto reports = server_->reports();
  auto rolled = std::find_if(reports.begin(), reports.end(), [](const wire::Report& r) {
    return r.state == wire::UpdateState::kRolledBack;
  });
  ASSERT_NE(rolled, reports.end());
  EXPECT_NE(rolled->message.find("health check failed"), std::string::npos) << rolled->message;
  EXPECT_NE(rolled->log_tail.find("checking slot b version 2.0"), std::string::npos)
      << rolled->log_tail;

  // The Director names the same image in the same deployment again: skipped, no download.
  server_->Assign(bad, "dep-1");
  const int downloads = server_->CountRequests("/api/v1/targets/");
  CheckResult skipped = CheckFresh();
  EXPECT_EQ(skipped.outcome, Outcome::kSkipped) << skipped.message;
  EXPECT_EQ(server_->CountRequests("/api/v1/targets/"), downloads);
  // A new deployment is a new decision by the operator: tried again.
  server_->Assign(bad, "dep-2");
  EXPECT_EQ(CheckFresh().outcome, Outcome::kRebootRequested);
}

TEST_F(UpdateClientTest, BootCounterRunningOutRollsBack) {
  InstallAndReboot(v2_, "dep-1");
  // The new image hangs before the agent starts: the watchdog reboots until the bootloader
  // gives up on it (bootlimit 3) and falls back.
  ASSERT_TRUE(boot_->SetBrokenForTest(SlotId::kB, true));
  EXPECT_FALSE(Reboot().came_up);  // the first boot above counted as attempt 1; it hung too
  EXPECT_FALSE(Reboot().came_up);
  slots::RebootOutcome last = Reboot();
  EXPECT_TRUE(last.fell_back);
  EXPECT_EQ(last.booted, SlotId::kA);

  auto agent = Agent();
  auto started = agent->client().Start();
  ASSERT_TRUE(started) << started.error().ToString();
  ASSERT_TRUE(*started);
  EXPECT_EQ((*started)->outcome, Outcome::kRolledBack) << (*started)->message;
  EXPECT_NE((*started)->message.find("fell back"), std::string::npos);
  EXPECT_EQ(BootState(), (slots::BootState{SlotId::kA, SlotId::kA, false, 0, 3}));
  ASSERT_TRUE(agent->client().CheckOnce());
  EXPECT_TRUE(HasReport("dep-1-rolled-back-1"));
  EXPECT_EQ(Record().installed.version, "") << "still the factory image";
}

TEST_F(UpdateClientTest, InterruptedDownloadResumesWithRangeByteExact) {
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  const Bytes artifact = v2_.Artifact();
  std::atomic<int> calls{0};
  server_->SetTargetHook([&](const aloft::testing::TestHttpServer::Request&)
                             -> std::optional<aloft::testing::TestHttpServer::Response> {
    if (calls++ > 0) return std::nullopt;  // later requests: the real file, ranges honoured
    aloft::testing::TestHttpServer::Response cut;
    cut.body.assign(artifact.begin(),
                    artifact.begin() + static_cast<std::ptrdiff_t>(artifact.size() / 3));
    cut.omit_content_length = true;
    cut.headers.emplace_back("Content-Length", std::to_string(artifact.size()));
    return cut;
  });
  EXPECT_EQ(CheckFresh().outcome, Outcome::kRebootRequested);
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
  std::vector<std::string> ranges;
  for (const auto& r : server_->requests()) {
    if (r.path.starts_with("/api/v1/targets/")) ranges.push_back(r.range);
  }
  EXPECT_EQ(ranges,
            (std::vector<std::string>{"", "bytes=" + std::to_string(artifact.size() / 3) + "-"}));
  EXPECT_EQ(sleeps_.size(), 1u) << "one back-off before the resume";
}

TEST_F(UpdateClientTest, DownloadInterruptedAcrossRestartsResumesFromTheSpool) {
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  const Bytes artifact = v2_.Artifact();
  std::atomic<bool> outage{true};
  std::atomic<int> calls{0};
  server_->SetTargetHook([&](const aloft::testing::TestHttpServer::Request&)
                             -> std::optional<aloft::testing::TestHttpServer::Response> {
    aloft::testing::TestHttpServer::Response response;
    if (calls++ == 0) {  // half the artifact, then the connection drops
      response.body.assign(artifact.begin(),
                           artifact.begin() + static_cast<std::ptrdiff_t>(artifact.size() / 2));
      response.omit_content_length = true;
      return response;
    }
    if (!outage) return std::nullopt;
    response.status = 503;
    return response;
  });
  config_.download.retries = 1;
  CheckResult failed = CheckFresh();
  EXPECT_EQ(failed.outcome, Outcome::kFailed) << failed.message;
  EXPECT_EQ(Record().state, update::State::kFailed);
  EXPECT_EQ(BootState(), (slots::BootState{SlotId::kA, SlotId::kA, false, 0, 3}));
  const auto spool =
      config_.data_dir / "downloads" / (core::crypto::Sha256Hex(artifact) + ".partial");
  EXPECT_TRUE(std::filesystem::exists(spool)) << "the bytes so far are kept for the next attempt";

  // The network is back; a new agent process replays the spool and fetches only the rest. The
  // failed attempt went out as "downloading" (it will be retried), so the server still offers
  // the update: "failed" would have ended the deployment for this device on a real aloftd.
  outage = false;
  EXPECT_TRUE(server_->update_available());
  CheckResult retried = CheckFresh();
  EXPECT_EQ(retried.outcome, Outcome::kRebootRequested) << retried.message;
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
  EXPECT_EQ(Record().attempt, 2);
  const auto requests = server_->requests();
  std::string last_range;
  for (const auto& r : requests) {
    if (r.path.starts_with("/api/v1/targets/")) last_range = r.range;
  }
  EXPECT_TRUE(last_range.starts_with("bytes=")) << "resumed, not restarted: " << last_range;
  EXPECT_NE(last_range, "bytes=0-");
  EXPECT_FALSE(std::filesystem::exists(spool));
  EXPECT_TRUE(HasReport("dep-1-failed-1"));
}

TEST_F(UpdateClientTest, CorruptSpoolCostsOneAttemptNotTheDeployment) {
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  const Bytes artifact = v2_.Artifact();
  std::atomic<bool> outage{true};
  std::atomic<int> calls{0};
  server_->SetTargetHook([&](const aloft::testing::TestHttpServer::Request&)
                             -> std::optional<aloft::testing::TestHttpServer::Response> {
    aloft::testing::TestHttpServer::Response response;
    if (calls++ == 0) {
      response.body.assign(artifact.begin(),
                           artifact.begin() + static_cast<std::ptrdiff_t>(artifact.size() / 2));
      response.omit_content_length = true;
      return response;
    }
    if (!outage) return std::nullopt;
    response.status = 503;
    return response;
  });
  config_.download.retries = 0;
  EXPECT_EQ(CheckFresh().outcome, Outcome::kFailed);
  // The saved bytes rot on the disk (or were never really written before a power cut).
  const auto spool =
      config_.data_dir / "downloads" / (core::crypto::Sha256Hex(artifact) + ".partial");
  Bytes saved = FileBytes(spool);
  ASSERT_GT(saved.size(), 100u);
  saved[saved.size() / 2] ^= 0x5a;
  ASSERT_TRUE(posix::AtomicWriteFile(spool, saved, 0600));

  outage = false;
  CheckResult bad = CheckFresh();
  EXPECT_EQ(bad.outcome, Outcome::kFailed) << bad.message;
  EXPECT_FALSE(std::filesystem::exists(spool)) << "bytes that failed verification are dropped";
  EXPECT_EQ(BootState().primary, SlotId::kA);
  CheckResult fresh = CheckFresh();
  EXPECT_EQ(fresh.outcome, Outcome::kRebootRequested) << fresh.message;
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
  EXPECT_EQ(Record().attempt, 3);
}

TEST_F(UpdateClientTest, TamperedArtifactIsRejectedBeforeTheBootloaderIsTouched) {
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  Bytes tampered = v2_.Artifact();
  tampered[tampered.size() / 2] ^= 0x01;
  server_->ServeArtifact(v2_, tampered);
  const Bytes boot_before = FileBytes(config_.bootloader.env);

  CheckResult r = CheckFresh();
  EXPECT_EQ(r.outcome, Outcome::kFailed) << r.message;
  EXPECT_NE(r.message.find("install failed"), std::string::npos) << r.message;
  EXPECT_EQ(FileBytes(config_.bootloader.env), boot_before) << "bootloader never touched";
  EXPECT_EQ(Record().state, update::State::kFailed);
  EXPECT_TRUE(HasReport("dep-1-failed-1"));

  // Not retried, even when the Director insists.
  server_->Assign(v2_, "dep-1");
  const int downloads = server_->CountRequests("/api/v1/targets/");
  EXPECT_EQ(CheckFresh().outcome, Outcome::kSkipped);
  EXPECT_EQ(server_->CountRequests("/api/v1/targets/"), downloads);
}

TEST_F(UpdateClientTest, DirectorAndImageRepositoryDisagreeingIsRefused) {
  server_->ReleaseImage(v2_);
  Bytes other = v2_.Artifact();
  other[0] ^= 0xff;  // the Director describes other bytes than the Image repository signed
  server_->Assign(v2_, "dep-1", other);
  const Bytes boot_before = FileBytes(config_.bootloader.env);
  CheckResult r = CheckFresh();
  EXPECT_EQ(r.outcome, Outcome::kRefused) << r.message;
  EXPECT_NE(r.message.find("differs between the director and the image repository"),
            std::string::npos)
      << r.message;
  EXPECT_EQ(server_->CountRequests("/api/v1/targets/"), 0) << "nothing downloaded";
  EXPECT_EQ(FileBytes(config_.bootloader.env), boot_before);
  EXPECT_EQ(Record().state, update::State::kIdle);
  const auto reports = server_->reports();
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().state, wire::UpdateState::kFailed);
  EXPECT_EQ(reports.back().deployment_id, "dep-1");
  EXPECT_NE(reports.back().message.find("refused"), std::string::npos);

  // An image the Image repository never signed is refused the same way.
  Release unsigned_release = v2_;
  unsigned_release.path = "evil.img.zst";
  server_->Assign(unsigned_release, "dep-2");
  CheckResult evil = CheckFresh();
  EXPECT_EQ(evil.outcome, Outcome::kRefused);
  EXPECT_NE(evil.message.find("never signed"), std::string::npos) << evil.message;
}

TEST_F(UpdateClientTest, WrongHardwareIdIsRefused) {
  Release other = v2_;
  other.hardware_ids = {"rpi3"};
  server_->ReleaseImage(other);
  server_->Assign(other, "dep-1");
  CheckResult r = CheckFresh();
  EXPECT_EQ(r.outcome, Outcome::kRefused) << r.message;
  EXPECT_NE(r.message.find("not released for hardware 'rpi4'"), std::string::npos) << r.message;
  // A Director naming another hardware id for this device is refused too.
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-2", std::nullopt, "rpi3");
  CheckResult director = CheckFresh();
  EXPECT_EQ(director.outcome, Outcome::kRefused);
  EXPECT_NE(director.message.find("hardware 'rpi3'"), std::string::npos) << director.message;
  EXPECT_EQ(server_->CountRequests("/api/v1/targets/"), 0);
}

TEST_F(UpdateClientTest, LowerSecurityCounterIsRefusedSameCounterDowngradeIsNot) {
  // The device runs 1.9 with security counter 5 (persisted when it was committed).
  update::UpdateRecord record;
  record.installed = {std::string(64, 'a'), "1.9", 5};
  ASSERT_TRUE(posix::EnsurePrivateDirectory(config_.data_dir));
  ASSERT_TRUE(update::UpdateRecordFile(config_.data_dir).Save(record));

  Release vulnerable = v2_;
  vulnerable.path = "rootfs-1.5.img.zst";
  vulnerable.version = "1.5";
  vulnerable.security_counter = 3;
  server_->ReleaseImage(vulnerable);
  server_->Assign(vulnerable, "dep-1");
  CheckResult r = CheckFresh();
  EXPECT_EQ(r.outcome, Outcome::kRefused) << r.message;
  EXPECT_NE(r.message.find("security counter 3, below the installed 5"), std::string::npos)
      << r.message;
  EXPECT_EQ(server_->CountRequests("/api/v1/targets/"), 0);

  Release downgrade = v2_;
  downgrade.path = "rootfs-1.8.img.zst";
  downgrade.version = "1.8";
  downgrade.security_counter = 5;
  server_->ReleaseImage(downgrade);
  server_->Assign(downgrade, "dep-2");
  EXPECT_EQ(CheckFresh().outcome, Outcome::kRebootRequested) << "an ordinary downgrade";
}

TEST_F(UpdateClientTest, ManualCommitAndRollback) {
  InstallAndReboot(v2_, "dep-1");
  {
    auto agent = Agent();  // no Start(): the operator decides instead of the health checks
    auto committed = agent->client().Commit();
    ASSERT_TRUE(committed) << committed.error().ToString();
    EXPECT_EQ(committed->outcome, Outcome::kCommitted);
    EXPECT_EQ(BootState(), (slots::BootState{SlotId::kB, SlotId::kB, false, 0, 3}));
    EXPECT_EQ(agent->client().Commit().error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(agent->client().Rollback().error().code(), Errc::kInvalidArgument);
  }

  // A prepared trial cancelled before its reboot: nothing to reboot for.
  Release v3 = v2_;
  v3.path = "rootfs-3.0.img.zst";
  v3.version = "3.0";
  v3.image = MakeImage("healthy", kImageBytes, 3);
  server_->ReleaseImage(v3);
  server_->Assign(v3, "dep-3");
  EXPECT_EQ(CheckFresh().outcome, Outcome::kRebootRequested);
  {
    auto agent = Agent();
    auto cancelled = agent->client().Rollback();
    ASSERT_TRUE(cancelled) << cancelled.error().ToString();
    EXPECT_EQ(cancelled->outcome, Outcome::kRolledBack);
    EXPECT_EQ(BootState(), (slots::BootState{SlotId::kB, SlotId::kB, false, 0, 3}));
  }

  // A running trial rolled back: the way back needs a reboot.
  server_->Assign(v3, "dep-4");
  EXPECT_EQ(CheckFresh().outcome, Outcome::kRebootRequested);
  EXPECT_EQ(Reboot().booted, SlotId::kA);
  {
    auto agent = Agent();
    auto rolled = agent->client().Rollback();
    ASSERT_TRUE(rolled) << rolled.error().ToString();
    EXPECT_EQ(rolled->outcome, Outcome::kRebootRequested);
  }
  EXPECT_EQ(Reboot().booted, SlotId::kB);
  EXPECT_TRUE(HasReport("dep-4-rolled-back-1"));
}

TEST_F(UpdateClientTest, StaleTokenIsRenewedAndPendingDeviceWaits) {
  server_->SetAccepting(false);
  CheckResult pending = CheckFresh();
  EXPECT_EQ(pending.outcome, Outcome::kNotAccepted) << pending.message;
  server_->SetAccepting(true);

  auto agent = Agent();
  ASSERT_TRUE(agent->client().CheckOnce());
  const int before = server_->authentications();
  const int puts = server_->inventory_puts();
  EXPECT_EQ(puts, 1) << "inventory after enrollment";
  server_->RevokeTokens();
  server_->ReleaseImage(v2_);
  server_->Assign(v2_, "dep-1");
  auto checked = agent->client().CheckOnce();
  ASSERT_TRUE(checked) << checked.error().ToString();
  EXPECT_EQ(checked->outcome, Outcome::kRebootRequested);
  EXPECT_EQ(server_->authentications(), before + 1) << "one renewal after the 401";
  EXPECT_EQ(server_->inventory_puts(), puts) << "an unchanged inventory is not re-sent";
}

TEST_F(UpdateClientTest, DaemonBacksOffWhileTheServerIsDownAndExitsForTheReboot) {
  server_->SetDown(true);
  auto agent = Agent();
  {
    DaemonOptions stop;  // a stop request (SIGTERM) during the first wait: status 0
    int waits = 0;
    stop.sleep = [&waits](std::chrono::milliseconds) { return ++waits < 1; };
    EXPECT_EQ(RunDaemon(agent->client(), stop), 0);
    EXPECT_EQ(waits, 1);
  }
  DaemonOptions options;
  options.poll_interval = 300s;
  options.retry_initial = 5s;
  options.reboot_is_exit = agent->reboot_is_exit();
  std::vector<std::chrono::milliseconds> waits;
  options.sleep = [&](std::chrono::milliseconds d) {
    waits.push_back(d);
    if (waits.size() == 4) server_->SetDown(false);
    if (waits.size() == 5) {  // the operator assigns an update
      server_->ReleaseImage(v2_);
      server_->Assign(v2_, "dep-1");
    }
    return waits.size() < 20;
  };
  const int code = RunDaemon(agent->client(), options);
  EXPECT_EQ(code, update::kExitRebootRequested);
  ASSERT_GE(waits.size(), 5u);
  EXPECT_LE(waits[0], 5s);
  EXPECT_GE(waits[3], 10s) << "back-off grows while the server is down";
  EXPECT_GE(waits[4], 240s) << "then the poll interval with jitter";
  EXPECT_LE(waits[4], 360s);
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);

  // Restarted before the reboot happened: the pending trial still wants it, at once.
  auto again = Agent();
  EXPECT_EQ(RunDaemon(again->client(), options), update::kExitRebootRequested);
}

TEST_F(UpdateClientTest, OfflineBundleFromADirectoryInstallsWithoutTheServer) {
  server_->ReleaseImage(v2_);
  const auto stick = WriteBundleDir(BundleFiles(v2_));
  server_->SetDown(true);
  {
    auto agent = Agent();
    ASSERT_TRUE(agent->client().Start());
    auto reader = bundle::OpenBundleDirectory(stick);
    ASSERT_TRUE(reader) << reader.error().ToString();
    auto installed = agent->client().InstallBundle(**reader);
    ASSERT_TRUE(installed) << installed.error().ToString();
    EXPECT_EQ(installed->outcome, Outcome::kRebootRequested) << installed->message;
    EXPECT_FALSE(agent->client().FlushReports()) << "offline: reports wait in the outbox";
  }
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
  EXPECT_EQ(Reboot().booted, SlotId::kB);
  {
    auto agent = Agent();
    auto started = agent->client().Start();
    ASSERT_TRUE(started && *started);
    EXPECT_EQ((*started)->outcome, Outcome::kCommitted) << (*started)->message;
  }
  EXPECT_EQ(Record().installed.version, "2.0");
  EXPECT_EQ(Record().installed.security_counter, 5);
  EXPECT_EQ(server_->CountRequests("/api/v1/image/") + server_->CountRequests("/api/v1/director/") +
                server_->CountRequests("/api/v1/targets/"),
            0)
      << "only the outbox tried the (unreachable) server";

  // Online again: the queued reports arrive, without a deployment, under distinct ids.
  server_->SetDown(false);
  EXPECT_EQ(CheckFresh().outcome, Outcome::kUpToDate);
  const auto reports = server_->reports();
  ASSERT_GE(reports.size(), 5u);
  EXPECT_EQ(reports.back().state, wire::UpdateState::kSucceeded);
  EXPECT_EQ(reports.back().deployment_id, "");
  EXPECT_TRUE(reports.back().id.starts_with("local-")) << reports.back().id;
}

TEST_F(UpdateClientTest, OfflineBundleAsTarAndByUrl) {
  server_->ReleaseImage(v2_);
  const auto files = BundleFiles(v2_);
  TarWriter tar;
  for (const auto& [name, bytes] : files) tar.Add("./" + name, bytes);
  ASSERT_TRUE(posix::AtomicWriteFile(dir_ / "bundle.tar", tar.Finish()));
  {
    auto agent = Agent();
    auto reader = bundle::OpenBundleTar(dir_ / "bundle.tar");
    ASSERT_TRUE(reader) << reader.error().ToString();
    auto installed = agent->client().InstallBundle(**reader);
    ASSERT_TRUE(installed) << installed.error().ToString();
    EXPECT_EQ(installed->outcome, Outcome::kRebootRequested) << installed->message;
  }
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
  ASSERT_TRUE(Agent()->client().Rollback());  // cancel that one; try the URL form

  for (const auto& [name, bytes] : files) server_->server().SetFile("/bundles/v2/" + name, bytes);
  ASSERT_TRUE(posix::AtomicWriteFile(config_.slots.b.device, AsBytes("overwritten")));
  auto agent = Agent();
  auto reader = bundle::OpenBundleUrl(server_->url() + "/bundles/v2", agent->public_fetcher(),
                                      agent->download());
  auto installed = agent->client().InstallBundle(*reader);
  ASSERT_TRUE(installed) << installed.error().ToString();
  EXPECT_EQ(installed->outcome, Outcome::kRebootRequested) << installed->message;
  EXPECT_EQ(FileBytes(config_.slots.b.device), v2_.image);
}

TEST_F(UpdateClientTest, OfflineBundlesThatDoNotVerifyAreRefused) {
  Release other = v2_;
  other.hardware_ids = {"rpi3"};
  server_->ReleaseImage(other);
  auto files = BundleFiles(other);
  auto agent = Agent();
  auto check = [&](const std::map<std::string, Bytes>& bundle) {
    std::filesystem::remove_all(dir_ / "stick");
    auto reader = bundle::OpenBundleDirectory(WriteBundleDir(bundle));
    EXPECT_TRUE(reader);
    auto result = agent->client().InstallBundle(**reader);
    EXPECT_TRUE(result) << result.error().ToString();
    return result ? *result : CheckResult{};
  };
  CheckResult wrong_hw = check(files);
  EXPECT_EQ(wrong_hw.outcome, Outcome::kRefused);
  EXPECT_NE(wrong_hw.message.find("not released for hardware"), std::string::npos);

  // Signed by keys the device does not trust: another repository altogether.
  aloft::testing::RepoBuilder impostor(core::crypto::KeyType::kEd25519,
                                       aloft::testing::RepoBuilder::DefaultNow());
  impostor.AddTarget(v2_.path, v2_.Artifact());
  auto forged = files;
  for (const auto& [name, bytes] : impostor.Files()) {
    if (name.starts_with("metadata/")) forged[name] = bytes;
  }
  CheckResult untrusted = check(forged);
  EXPECT_EQ(untrusted.outcome, Outcome::kRefused) << untrusted.message;

  // A tampered artifact stops in the slot pipeline, before the bootloader.
  server_->ReleaseImage(v2_);
  auto good = BundleFiles(v2_);
  for (auto& [name, bytes] : good) {
    if (name.starts_with("targets/")) bytes[bytes.size() / 3] ^= 0x40;
  }
  const Bytes boot_before = FileBytes(config_.bootloader.env);
  CheckResult tampered = check(good);
  EXPECT_EQ(tampered.outcome, Outcome::kFailed) << tampered.message;
  EXPECT_EQ(FileBytes(config_.bootloader.env), boot_before);
  EXPECT_EQ(BootState().primary, SlotId::kA);
}

}  // namespace
}  // namespace aloft::agent::client
