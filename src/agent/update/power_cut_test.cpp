// The power-cut harness: a whole update runs in child processes ("boots") that are killed at
// every crash point and at random instants; after each cut the device "reboots"
// (SimulatedBootloader::SimulateReboot) and the next boot resumes from disk. Afterwards the
// invariants of the issue must hold:
//   bootable    the booted slot (and the one booted next) holds the old or the new verified
//               image, checked by sha256 of the file slots
//   consistent  the record parses, is terminal, and agrees with the bootloader
//   no loss     every state that reached the disk had its report enqueued (at least once)
//
// A process kill loses no page cache, so this exercises the ordering of writes, renames and
// effects, not the fsyncs themselves (those are AtomicWriteFile's contract and its tests').
//
// ALOFT_POWER_CUT_TRIALS sets the number of trials (default 240; a soak runs 10000), and
// ALOFT_POWER_CUT_SEED fixes the random choices.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "agent/slots/simulated_bootloader.hpp"
#include "agent/update/update_machine.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::update {
namespace {

namespace posix = platform::posix;
using slots::SlotId;

// Child exit codes.
constexpr int kSettledExit = 0;  // the update reached a terminal state; nothing more to do
constexpr int kRebootExit = 10;  // the agent asked for a reboot
constexpr int kCrashExit = 20;   // an injected crash point fired
constexpr int kErrorExit = 30;   // the agent returned an error: a finding

constexpr std::size_t kSlotBytes = 16 * 1024;
constexpr std::size_t kChunkBytes = 4 * 1024;
constexpr int kMaxBoots = 20;

enum class Variant : std::uint8_t { kHealthy, kUnhealthy, kBroken };
constexpr Variant kVariants[] = {Variant::kHealthy, Variant::kUnhealthy, Variant::kBroken};
std::string_view VariantName(Variant v) {
  switch (v) {
    case Variant::kHealthy:
      return "healthy";
    case Variant::kUnhealthy:
      return "unhealthy";
    case Variant::kBroken:
      return "broken";
  }
  return "?";
}

// Lives in memory shared by the test and its children: counts crash points across boots.
struct Shared {
  std::atomic<int> points{0};
  std::atomic<int> crash_at{0};  // 0: never
};

Shared* g_shared = nullptr;

// Every place a power cut is interesting calls this; the crash_at-th call dies on the spot.
void CrashPoint() {
  const int n = g_shared->points.fetch_add(1) + 1;
  if (n == g_shared->crash_at.load()) ::_exit(kCrashExit);
}

Bytes Pattern(char a, char b) {
  Bytes bytes(kSlotBytes);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(i % 7 == 0 ? a : b);
  }
  return bytes;
}

const Bytes& OldImage() {
  static const Bytes image = Pattern('o', 'l');
  return image;
}
const Bytes& NewImage() {
  static const Bytes image = Pattern('n', 'w');
  return image;
}

void AppendLine(const std::filesystem::path& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) ::_exit(kErrorExit);
  const std::string text = line + "\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    ::_exit(kErrorExit);
  }
  ::close(fd);
}

std::set<std::string> ReadLines(const std::filesystem::path& path) {
  std::set<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.insert(line);
  return lines;
}

std::string FileSha(const std::filesystem::path& path) {
  auto bytes = posix::ReadFile(path, 1 << 20);
  return bytes ? core::crypto::Sha256Hex(*bytes) : "unreadable";
}

// The on-disk outbox, reduced to the id of each report.
class FileReportSink final : public ReportSink {
 public:
  explicit FileReportSink(std::filesystem::path path) : path_(std::move(path)) {}
  Status Enqueue(const core::wire::Report& report) override {
    AppendLine(path_, report.id);
    CrashPoint();
    return Ok();
  }

 private:
  std::filesystem::path path_;
};

class ScriptedHealthChecker final : public HealthChecker {
 public:
  explicit ScriptedHealthChecker(bool healthy) : healthy_(healthy) {}
  HealthOutcome Run() override {
    CrashPoint();
    if (healthy_) return {Ok(), "ok\n"};
    return {Fail(Errc::kVerificationFailed, "app did not start"), "app: crashed\n"};
  }

 private:
  bool healthy_;
};

// A reboot ends this boot's process, as it would end the real agent.
class ExitRebooter final : public Rebooter {
 public:
  Status Reboot() override { ::_exit(kRebootExit); }
};

struct Device {
  std::filesystem::path dir;
  std::filesystem::path boot() const { return dir / "boot.json"; }
  std::filesystem::path data() const { return dir / "data"; }
  std::filesystem::path slot(SlotId id) const {
    return dir / (id == SlotId::kA ? "slot-a.img" : "slot-b.img");
  }
  std::filesystem::path reports() const { return dir / "reports.log"; }
  std::filesystem::path journal() const { return dir / "journal.log"; }
};

// What the Installer does, with crash points between the steps: MarkBad if needed, write the
// slot in chunks, fsync, re-read and verify, PrepareTrialBoot.
Status FakeInstall(slots::Bootloader& boot, const Device& device, SlotId target) {
  auto state = boot.State();
  if (!state) return Fail(state.error());
  if (state->primary == target) {
    if (auto bad = boot.MarkBad(target); !bad) return bad;
  }
  CrashPoint();
  const int fd = ::open(device.slot(target).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(Errc::kIo, "open slot");
  const Bytes& image = NewImage();
  for (std::size_t off = 0; off < image.size(); off += kChunkBytes) {
    const auto n = ::pwrite(fd, image.data() + off, kChunkBytes, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(kChunkBytes)) {
      ::close(fd);
      return Fail(Errc::kIo, "write slot");
    }
    CrashPoint();
  }
  ::fsync(fd);
  ::close(fd);
  if (FileSha(device.slot(target)) != core::crypto::Sha256Hex(image)) {
    return Fail(Errc::kVerificationFailed, "verify slot: sha256 mismatch");
  }
  CrashPoint();
  if (auto prepared = boot.PrepareTrialBoot(target); !prepared) return prepared;
  CrashPoint();
  return Ok();
}

// One boot of the device's agent, in a child process. Never returns.
[[noreturn]] void Boot(const Device& device, Variant variant) {
  auto boot = slots::SimulatedBootloader::Open(device.boot());
  if (!boot) {
    std::fprintf(stderr, "boot: %s\n", boot.error().ToString().c_str());
    ::_exit(kErrorExit);
  }
  UpdateRecordFile records(device.data());
  const std::filesystem::path journal = device.journal();
  records.SetWriteHookForTest(
      [&journal](UpdateRecordFile::WritePoint point, const UpdateRecord& record) {
        if (point == UpdateRecordFile::WritePoint::kAfterWrite) {
          if (auto report = ReportFor(record)) AppendLine(journal, report->id);
        }
        CrashPoint();
      });
  FileReportSink sink(device.reports());
  ScriptedHealthChecker health(variant != Variant::kUnhealthy);
  ExitRebooter rebooter;
  aloft::testing::FakeClock clock;
  auto machine =
      UpdateMachine::Open(UpdateMachine::Deps{records, **boot, sink, health, rebooter, clock});
  if (!machine) {
    std::fprintf(stderr, "open: %s\n", machine.error().ToString().c_str());
    ::_exit(kErrorExit);
  }
  if (auto resumed = machine->Resume(); !resumed) {
    std::fprintf(stderr, "resume: %s\n", resumed.error().ToString().c_str());
    ::_exit(kErrorExit);
  }
  if (machine->record().state == State::kIdle) {
    UpdateRequest request;
    request.deployment_id = "dep";
    request.target_path = "rootfs.img";
    request.image_sha256 = core::crypto::Sha256Hex(NewImage());
    request.image_length = kSlotBytes;
    request.image_version = "2";
    request.security_counter = 2;
    request.target_slot = SlotId::kB;
    request.previous_slot = SlotId::kA;
    slots::Bootloader& bootloader = **boot;
    // Returns only when the install failed (a reboot ends the process).
    (void)machine->Update(request, [&] { return FakeInstall(bootloader, device, SlotId::kB); });
  }
  ::_exit(IsTerminal(machine->record().state) ? kSettledExit : kErrorExit);
}

struct Findings {
  int trials = 0;
  int unbootable = 0;
  int inconsistent = 0;
  int lost_reports = 0;
};

struct Cut {
  Variant variant = Variant::kHealthy;
  int crash_at = 0;    // crash point to die at; 0: none
  int kill_boot = -1;  // boot to SIGKILL after kill_after_us; -1: none
  int kill_after_us = 0;
};

class PowerCutHarness {
 public:
  explicit PowerCutHarness(std::filesystem::path root) : root_(std::move(root)) {
    void* mem =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) std::abort();
    shared_ = new (mem) Shared();
    g_shared = shared_;
  }
  ~PowerCutHarness() {
    g_shared = nullptr;
    shared_->~Shared();
    ::munmap(shared_, sizeof(Shared));
  }
  PowerCutHarness(const PowerCutHarness&) = delete;
  int killed() const { return killed_; }
  // The median duration of the boots run so far, in microseconds.
  int MedianBootMicros() {
    if (boot_us_.empty()) return 1000;
    std::nth_element(boot_us_.begin(),
                     boot_us_.begin() + static_cast<std::ptrdiff_t>(boot_us_.size() / 2),
                     boot_us_.end());
    return std::max(100, boot_us_[boot_us_.size() / 2]);
  }
  int crashed() const { return crashed_; }
  PowerCutHarness& operator=(const PowerCutHarness&) = delete;

  // Runs one trial; returns the number of crash points it passed (for an uninterrupted run: all
  // of them, which calibrates the sweep).
  int Run(const Cut& cut, Findings& findings) {
    const Device device{root_ / ("trial-" + std::to_string(trial_++))};
    std::filesystem::create_directories(device.data());
    if (!posix::AtomicWriteFile(device.slot(SlotId::kA), OldImage()) ||
        !posix::AtomicWriteFile(device.slot(SlotId::kB), ToBytes("garbage"))) {
      ADD_FAILURE() << "cannot create slots";
      return 0;
    }
    auto boot = slots::SimulatedBootloader::Open(device.boot());
    if (!boot) {
      ADD_FAILURE() << boot.error().ToString();
      return 0;
    }
    if (cut.variant == Variant::kBroken) (void)(*boot)->SetBrokenForTest(SlotId::kB, true);
    shared_->points = 0;
    shared_->crash_at = cut.crash_at;

    ++findings.trials;
    std::string problem;
    bool settled = false;
    for (int n = 0; n < kMaxBoots && !settled && problem.empty(); ++n) {
      const auto start = std::chrono::steady_clock::now();
      const pid_t pid = ::fork();
      if (pid < 0) {
        problem = "fork failed";
        break;
      }
      if (pid == 0) Boot(device, cut.variant);
      if (n == cut.kill_boot) {
        ::usleep(static_cast<useconds_t>(cut.kill_after_us));
        ::kill(pid, SIGKILL);
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      boot_us_.push_back(static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - start)
                                              .count()));
      if (WIFSIGNALED(status)) ++killed_;
      if (WIFEXITED(status) && WEXITSTATUS(status) == kCrashExit) ++crashed_;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (code == kSettledExit) {
        settled = true;
        break;
      }
      if (code == kErrorExit) {
        problem = "agent error on boot " + std::to_string(n);
        break;
      }
      // kRebootExit, kCrashExit or SIGKILL: power-cycle; a hanging slot needs the watchdog.
      for (int tries = 0;; ++tries) {
        auto outcome = (*boot)->SimulateReboot();
        if (!outcome) {
          problem = "reboot: " + outcome.error().ToString();
          break;
        }
        if (outcome->came_up) break;
        if (tries > 10) {
          problem = "never came up";
          break;
        }
      }
    }
    if (!settled && problem.empty()) problem = "did not settle";
    Check(device, **boot, cut, problem, findings);
    std::filesystem::remove_all(device.dir);
    return shared_->points.load();
  }

 private:
  void Check(const Device& device, slots::Bootloader& boot, const Cut& cut, std::string problem,
             Findings& findings) {
    const std::string old_sha = core::crypto::Sha256Hex(OldImage());
    const std::string new_sha = core::crypto::Sha256Hex(NewImage());
    auto state = boot.State();
    bool bootable = false;
    if (state) {
      // The running slot and the one booted next must both hold a verified image.
      auto verified = [&](SlotId id) {
        const std::string sha = FileSha(device.slot(id));
        return id == SlotId::kA ? sha == old_sha : sha == new_sha;
      };
      bootable = verified(state->booted) && verified(state->primary);
    }
    if (!bootable) ++findings.unbootable;

    auto record = UpdateRecordFile(device.data()).Load();
    if (!record) {
      problem += " record: " + record.error().ToString();
    } else if (state) {
      const UpdateRecord& r = *record;
      const slots::BootState& b = *state;
      switch (r.state) {
        case State::kCommitted:
          if (b.booted != SlotId::kB || b.primary != SlotId::kB || b.trial)
            problem += " committed but boot differs";
          if (r.installed.sha256 != new_sha) problem += " installed image not recorded";
          if (cut.variant != Variant::kHealthy) problem += " committed a bad image";
          break;
        case State::kRolledBack:
        case State::kFailed:
          if (b.booted != SlotId::kA || b.primary != SlotId::kA || b.trial)
            problem += " abandoned but boot differs";
          if (r.state == State::kRolledBack && cut.variant == Variant::kHealthy) {
            problem += " healthy image rolled back";
          }
          break;
        default:
          problem += " not terminal";
      }
      if (!r.reported) problem += " last state not reported";
    }
    if (!problem.empty()) ++findings.inconsistent;

    const std::set<std::string> reported = ReadLines(device.reports());
    int lost = 0;
    std::string lost_ids;
    for (const std::string& id : ReadLines(device.journal())) {
      if (reported.count(id) == 0) {
        ++lost;
        lost_ids += " " + id;
      }
    }
    if (lost > 0) ++findings.lost_reports;

    if ((!bootable || !problem.empty() || lost > 0) && reported_failures_++ < 10) {
      ADD_FAILURE() << "variant " << VariantName(cut.variant) << " crash_at " << cut.crash_at
                    << " kill_boot " << cut.kill_boot << " after " << cut.kill_after_us
                    << "us: bootable=" << bootable << " problem='" << problem
                    << "' record=" << (record ? StateName(record->state) : "?")
                    << " lost:" << lost_ids;
    }
  }

  std::filesystem::path root_;
  Shared* shared_ = nullptr;
  std::vector<int> boot_us_;
  int killed_ = 0;   // boots ended by SIGKILL
  int crashed_ = 0;  // boots ended at an injected crash point
  int trial_ = 0;
  int reported_failures_ = 0;
};

int EnvInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::atoi(text);
}

// The trials write a few thousand small files with fsync; on a tmpfs (where fsync is free)
// the harness runs ~10x faster, and a process kill tests no fsync anyway (see the top).
class ScratchDir {
 public:
  explicit ScratchDir(const std::filesystem::path& fallback) : path_(fallback) {
    std::string templ = "/dev/shm/aloft-power-cut-XXXXXX";
    if (std::filesystem::is_directory("/dev/shm") && ::mkdtemp(templ.data()) != nullptr) {
      path_ = templ;
      owned_ = true;
    }
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (owned_) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool owned_ = false;
};

using PowerCutTest = aloft::testing::TempDirTest;

TEST_F(PowerCutTest, EveryCrashPointAndRandomKillsConverge) {
  const int wanted = EnvInt("ALOFT_POWER_CUT_TRIALS", 240);
  const auto seed = static_cast<std::uint32_t>(
      EnvInt("ALOFT_POWER_CUT_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  std::mt19937 rng(seed);
  const ScratchDir scratch(dir_);
  PowerCutHarness harness(scratch.path());
  Findings findings;

  // Calibration: an uninterrupted run of each variant (these are trials too).
  std::map<Variant, int> points;
  for (Variant v : kVariants) {
    const int n = harness.Run(Cut{v, 0, -1, 0}, findings);
    points[v] = n;
    ASSERT_GT(n, 5) << VariantName(v);
  }
  // Random kills land within twice the typical boot (fork included), on one of the first boots.
  const int kill_window_us = 2 * harness.MedianBootMicros();
  // Every crash point of every variant, then random ones until `wanted`.
  for (Variant v : kVariants) {
    for (int at = 1; at <= points[v] && findings.trials < wanted; ++at) {
      harness.Run(Cut{v, at, -1, 0}, findings);
    }
  }
  while (findings.trials < wanted) {
    Cut cut;
    cut.variant = kVariants[rng() % 3];
    if (rng() % 2 == 0) {
      cut.crash_at = 1 + static_cast<int>(rng() % static_cast<std::uint32_t>(points[cut.variant]));
    } else {
      cut.kill_boot = static_cast<int>(rng() % 3);
      cut.kill_after_us = static_cast<int>(rng() % static_cast<std::uint32_t>(kill_window_us));
    }
    // Sometimes both: a crash point, then a random kill on a later boot.
    if (cut.crash_at != 0 && rng() % 4 == 0) {
      cut.kill_boot = 1 + static_cast<int>(rng() % 2);
      cut.kill_after_us = static_cast<int>(rng() % static_cast<std::uint32_t>(kill_window_us));
    }
    harness.Run(cut, findings);
  }

  std::printf(
      "power-cut seed: %u, crash points: healthy %d, unhealthy %d, broken %d; boots cut at a "
      "crash point: %d, by SIGKILL: %d\n",
      seed, points[Variant::kHealthy], points[Variant::kUnhealthy], points[Variant::kBroken],
      harness.crashed(), harness.killed());
  std::printf("power-cut trials: %d, unbootable: %d, inconsistent: %d, lost reports: %d\n",
              findings.trials, findings.unbootable, findings.inconsistent, findings.lost_reports);
  std::fflush(stdout);
  EXPECT_GE(findings.trials, std::min(wanted, 200));
  EXPECT_EQ(findings.unbootable, 0);
  EXPECT_EQ(findings.inconsistent, 0);
  EXPECT_EQ(findings.lost_reports, 0);
}

}  // namespace
}  // namespace aloft::agent::update
