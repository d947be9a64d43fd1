#pragma once

// The update loop's one step, tying the pieces together:
//
//   Start()      once per process: UpdateMachine::Resume() (finish or undo what a reboot or a
//                power cut interrupted: health checks and commit after a trial boot, rollback
//                after a fallback, "interrupted" after a cut install)
//   CheckOnce()  enroll if needed → deliver queued reports → inventory if it changed →
//                GET /device/updates → when an update is available or the Director's targets
//                version moved: refresh Director and Image repository, SelectApprovedImage,
//                anti-rollback, plan → UpdateMachine::Update (resumable download streaming
//                into the installer) → the reboot request. When the Director points at a delta
//                the Image repository signed for the assigned image, and it starts from the
//                image this device runs, the delta is applied first (from the running slot,
//                mapped read-only); on any failure of it the full image is installed in the
//                same step and a "delta fallback: ..." report tells the server why.
//   InstallBundle(), Commit(), Rollback()   the offline and manual paths
//
// Assignments that must not be retried forever (the Director may keep naming them until an
// operator acts): a (deployment, artifact sha256) is skipped when it was refused by
// verification, failed for a reason retrying cannot fix (verification, size, unsupported
// format), rolled back, or failed max_update_attempts times. A new deployment id or another
// image is tried again.
//
// Thread-safety: none; one agent thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/bundle/bundle_reader.hpp"
#include "agent/client/agent_state.hpp"
#include "agent/client/report_sink.hpp"
#include "agent/config/config.hpp"
#include "agent/download/resumable_download.hpp"
#include "agent/identity/device_api_client.hpp"
#include "agent/identity/device_identity.hpp"
#include "agent/install/installer.hpp"
#include "agent/report/report_queue.hpp"
#include "agent/slots/bootloader.hpp"
#include "agent/update/update_machine.hpp"
#include "agent/uptane_client/uptane_client.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"

namespace aloft::agent::client {

enum class Outcome : std::uint8_t {
  kUpToDate,         // nothing assigned, or the assigned image runs already
  kCommitted,        // an update was committed after its trial boot (in this run)
  kRebootRequested,  // a trial boot, or the way back from one, waits for a reboot
  kRefused,          // the assigned image failed verification (reported and remembered)
  kSkipped,          // the assignment failed or rolled back before and is not retried
  kFailed,           // the install failed (reported; a transient failure is retried later)
  kRolledBack,       // the trial was rolled back (in this run)
  kNotAccepted,      // the server has not accepted this device (yet)
};
std::string_view OutcomeName(Outcome outcome) noexcept;

struct CheckResult {
  Outcome outcome = Outcome::kUpToDate;
  std::string message;
};

using LogFn = std::function<void(std::string_view message)>;

struct UpdateClientDeps {
  const config::AgentConfig& config;
  const identity::DeviceIdentity& identity;
  identity::Enroller& enroller;
  identity::DeviceApiClient& api;
  uptane_client::UptaneClient& uptane;
  download::ResumableDownload& download;
  report::ReportQueue& reports;
  update::UpdateMachine& machine;
  slots::Bootloader& bootloader;
  const AgentStateFile& state_file;
  const Clock& clock;
  std::function<bool()> reboot_requested;  // the Rebooter was asked to reboot
  std::string agent_version;
  LogFn log;  // non-fatal problems; may be empty
  // The machine's report sink, told when a failure is going to be retried (see
  // QueueReportSink::SetRetrying); may be null (then every failure is reported as "failed").
  QueueReportSink* machine_reports = nullptr;
};

class UpdateClient {
 public:
  explicit UpdateClient(UpdateClientDeps deps);

  // Once per process, before anything else. The outcome when Resume() changed something
  // worth saying (committed, rolled back, failed, reboot needed); nullopt otherwise. Errors:
  // the machine's (kCorrupt: the record contradicts the bootloader, fail-stop).
  Result<std::optional<CheckResult>> Start();

  // One poll (see above). Errors are the transient or local ones (server down, disk, a
  // Director that does not verify); refusals and failures of an update are outcomes.
  Result<CheckResult> CheckOnce();

  // Installs an offline bundle (bundle/offline_bundle.hpp), without the server. kRefused for
  // a bundle that does not verify; errors for I/O and an update already in progress.
  Result<CheckResult> InstallBundle(bundle::BundleReader& reader);

  // The operator's decisions on a trial boot (without health checks). Commit: the running
  // trial slot becomes the committed one. Rollback: a trial that runs is abandoned (reboot
  // requested), a trial that waits for its reboot is cancelled. kInvalidArgument when there is
  // nothing to decide.
  Result<CheckResult> Commit();
  Result<CheckResult> Rollback();

  // Delivers queued reports; the number delivered.
  Result<std::size_t> FlushReports();

  const AgentState& state() const noexcept { return state_; }
  const update::UpdateRecord& record() const noexcept { return deps_.machine.record(); }

 private:
  Result<CheckResult> Act(const core::wire::CheckInResponse& checkin);
  // A delta to try before the full image (see Install).
  struct DeltaAttempt {
    std::string target_path;
    install::InstallPlan plan;
    download::DownloadRequest request;
    install::ArtifactSource source;
  };
  // `delta` (may be null) is tried first; on any failure of it the full image is installed in
  // the same step and the fallback reported.
  Result<CheckResult> Install(const core::uptane::ApprovedImage& approved,
                              const install::InstallPlan& plan, const Assignment& assignment,
                              const install::ArtifactSource& source, const DeltaAttempt* delta);
  // The delta attempt for `approved`, when it offers a delta that starts from the image this
  // device verified when it installed it; otherwise nullopt and, when a delta was offered but
  // is not usable, `why_not`.
  std::optional<DeltaAttempt> PlanDelta(const core::uptane::ApprovedImage& approved,
                                        const install::InstallPlan& full, slots::SlotId booted,
                                        std::string& why_not);
  // Logs and queues the "delta fallback: ..." report (core/uptane kDeltaFallbackPrefix).
  void ReportDeltaFallback(const Assignment& assignment, const std::string& why);
  Result<CheckResult> Refuse(const Assignment& assignment, const Error& why);
  Status EnsureEnrolled(bool& accepted);
  void SendInventory();
  bool IsBlocked(const Assignment& assignment) const;
  core::uptane::DeviceIdentity Device() const;
  Result<slots::SlotId> Booted();
  void EnqueueOnce(core::wire::Report report);
  void SaveState();
  void Log(const std::string& message) const;

  UpdateClientDeps deps_;
  AgentState state_;
  std::optional<std::int64_t> acted_director_version_;  // set by Act, saved by CheckOnce
};

}  // namespace aloft::agent::client
